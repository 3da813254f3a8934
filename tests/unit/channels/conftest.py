"""Channel tests: the console's test site (tests/unit/web/web_site.py) is importable for the contact form."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "web"))
