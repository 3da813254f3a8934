"""The patient tests share the records tests' helpers (patient_fixtures) and the console's (web_site)."""

import sys
from pathlib import Path

UNIT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(UNIT / "records"))
sys.path.insert(0, str(UNIT / "web"))
