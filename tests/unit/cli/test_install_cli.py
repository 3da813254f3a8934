"""Installing ccctl prints no setuptools warnings and carries the console's templates and static files."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_build_is_quiet_and_ships_the_data_folders(tmp_path):
    done = subprocess.run(
        [sys.executable, "setup.py", "-q", "build", "--build-base", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    warnings = [line for line in done.stderr.splitlines() if line.strip() and "byte-compiling is disabled" not in line]
    assert warnings == []
    lib = tmp_path / "lib" / "ccctl"
    assert (lib / "web" / "static" / "style.css").is_file()
    assert (lib / "web" / "templates" / "admin_agents.html").is_file()
    assert (lib / "channels" / "templates" / "kannel.conf.j2").is_file()
    assert not list(lib.rglob("__pycache__"))
