"""The real-switch tier: every test here runs FreeSWITCH 1.10 and SIPp, or is skipped saying why."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from switch_site import missing_tools  # noqa: E402

MISSING = missing_tools()


def pytest_collection_modifyitems(config, items):
    if not MISSING:
        return
    here = Path(__file__).resolve().parent
    skip = pytest.mark.skip(reason=f"real-switch tier skipped: {MISSING}")
    for item in items:
        if here in Path(item.fspath).resolve().parents:
            item.add_marker(skip)
