"""Shared test set-up: gevent patched first, the transcripts reader importable."""

from gevent import monkey

monkey.patch_all()

import sys  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
pytest_plugins = ["db_fixtures"]


import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _web_secret_in_tmp(tmp_path, monkeypatch):
    """A console started without web.secret_key writes its generated key into tmp, never the checkout's var/."""
    monkeypatch.setattr("ccctl.web.app.SECRET_FILE", tmp_path / "var" / "web-secret-key")
