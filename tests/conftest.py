"""Shared test set-up: gevent patched first, the transcripts reader importable."""

from gevent import monkey

monkey.patch_all()

import sys  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
pytest_plugins = ["db_fixtures"]
