"""`ccctl` through click's runner on a settings file in tmp_path (a migrated SQLite database)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from ccctl.cli import main


@pytest.fixture
def settings_file(tmp_path: Path, monkeypatch, sqlite_url: str) -> Path:
    for name in ("CCCTL_CONFIG", "CCCTL_DATABASE__URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # files a command writes by default (faxes/, recordings/) stay in tmp_path
    path = tmp_path / "ccctl.yaml"
    path.write_text(f"database:\n  url: {sqlite_url}\n")
    return path


@pytest.fixture
def ccctl(settings_file: Path):
    """Run `ccctl -c <settings> ARGS...`; the result's .output holds stdout and stderr, .stdout and .stderr apart."""

    def run_ccctl(*args: str, settings: Path | None = None):
        return CliRunner().invoke(main, ["-c", str(settings or settings_file), *args])

    return run_ccctl
