"""`ccctl` run through click's runner with kb.dir in tmp_path; the console's test helpers (web_site)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from ccctl.cli import main

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "web"))


@pytest.fixture
def ccctl(tmp_path: Path, monkeypatch):
    """Run `ccctl -c <settings in tmp_path> ARGS...` with kb.dir set to tmp_path/kb."""
    monkeypatch.delenv("CCCTL_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    settings = tmp_path / "ccctl.yaml"
    settings.write_text(f"kb:\n  dir: {tmp_path / 'kb'}\n")

    def run_ccctl(*args: str):
        return CliRunner().invoke(main, ["-c", str(settings), *args])

    return run_ccctl
