"""The appointments tests use the console's test helpers (web_site) for the booking panel."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "web"))
