"""`ccctl` run through click's runner with kb.dir in tmp_path."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from ccctl.cli import main


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
