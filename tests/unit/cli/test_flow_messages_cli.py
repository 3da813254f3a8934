"""`ccctl flow check / show / simulate` say what is wrong once, in the words of `flow check`."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

FLOWS_DIR = Path(__file__).resolve().parents[3] / "ivr_flows"


@pytest.fixture
def broken_flows(tmp_path: Path) -> Path:
    """The shipped flows with one unknown node type in main.yaml."""
    flows = tmp_path / "flows"
    shutil.copytree(FLOWS_DIR, flows)
    main = flows / "main.yaml"
    text = main.read_text()
    assert "type: play" in text
    main.write_text(text.replace("type: play", "type: plya", 1))
    return flows


def test_check_of_a_directory_without_flows_fails(ccctl, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    result = ccctl("flow", "check", "--flows-dir", str(empty))
    assert result.exit_code == 1
    assert result.stdout == f"{empty}: no flows here (*.yaml files)\n"
    assert result.stderr == "ccctl: 1 error in flows (ccctl flow check)\n"


def test_check_of_a_missing_directory_fails(ccctl, tmp_path):
    result = ccctl("flow", "check", "--flows-dir", str(tmp_path / "nowhere"))
    assert result.exit_code == 1
    assert result.stdout == f"{tmp_path / 'nowhere'}: flows directory not found (check flows_dir)\n"


def test_show_of_a_broken_flow_prints_its_error_once_and_no_reload(ccctl, broken_flows, caplog):
    result = ccctl("flow", "show", "main", "--flows-dir", str(broken_flows))
    assert result.exit_code == 1
    [error] = result.stdout.splitlines()
    assert error.startswith(f"{broken_flows / 'main.yaml'}:") and "unknown node type 'plya'" in error
    assert result.stderr == "ccctl: 1 error in flows (ccctl flow check)\n"
    assert "reload" not in result.output + caplog.text  # a log line would reach stderr outside pytest


def test_simulate_of_a_broken_flow_prints_its_error_once_and_no_reload(
    ccctl, broken_flows, tmp_path, sqlite_url, caplog
):
    settings = tmp_path / "broken.yaml"
    settings.write_text(f"database:\n  url: {sqlite_url}\nflows_dir: {broken_flows}\n")
    result = ccctl("flow", "simulate", "main", "--scratch", settings=settings)
    assert result.exit_code == 1
    [error] = result.stdout.splitlines()
    assert "unknown node type 'plya'" in error
    assert result.stderr == "ccctl: 1 error in flows (ccctl flow check)\n"
    assert "reload" not in result.output + caplog.text  # a log line would reach stderr outside pytest
