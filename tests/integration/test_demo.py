"""`ccctl demo`, run the way the README says, on a throwaway SQLite file and free ports."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import yaml

from ccctl.local_site.demo import DEMO_MEMBERS

REPO = Path(__file__).resolve().parents[2]


def demo_config(tmp_path: Path) -> Path:
    config = yaml.safe_load((REPO / "ccctl.yaml").read_text())
    config["database"]["url"] = f"sqlite:///{tmp_path / 'demo.db'}"
    config["esl"]["outbound_port"] = 0
    config["web"]["port"] = 0
    config["flows_dir"] = str(REPO / "ivr_flows")
    config["recordings_dir"] = str(tmp_path / "recordings")
    path = tmp_path / "ccctl.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def ccctl(tmp_path: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "ccctl.cli", "--config", str(demo_config(tmp_path)), *args]
    return subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=timeout)


def table_value(output: str, label: str) -> int:
    match = re.search(rf"^{re.escape(label)}\s+(\d+)$", output, re.MULTILINE)
    assert match, f"no '{label}' row in:\n{output}"
    return int(match.group(1))


def test_demo_answers_every_call_and_stores_it(tmp_path):
    # a Tuesday morning: the hotline is open (the flow's opening_hours branch)
    run = ccctl(
        tmp_path,
        "demo",
        "--calls",
        "60",
        "--rate",
        "20",
        "--time-factor",
        "50",
        "--seed",
        "5",
        "--at",
        "2026-11-24T10:00",
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "wallboard on http://127.0.0.1:" in run.stdout
    assert table_value(run.stdout, "calls placed by the emulator") == 60
    assert table_value(run.stdout, "completed (ran to their end)") == 60
    assert table_value(run.stdout, "failed") == 0

    listed = ccctl(tmp_path, "calls", "list", "--limit", "100", "--json")
    calls = json.loads(listed.stdout)
    assert len(calls) == 60
    assert {call["disposition"] for call in calls} <= {"completed", "abandoned"}
    paths = [call["path"] for call in calls]
    # the demo callers walk the shipped hotline: members authenticate, others use the menus
    assert any("authenticate:ok" in path for path in paths)
    assert any("general_menu" in path for path in paths)
    authenticated = [call for call in calls if "authenticate:ok" in call["path"]]
    assert all(call["patient_id"] for call in authenticated)
    # what the callers keyed (member numbers, PINs) appears nowhere ops can read
    log = (tmp_path / "var" / "ccctl-demo.log").read_text()
    for member in DEMO_MEMBERS:
        for text in (run.stdout, run.stderr, listed.stdout, log):
            assert member.pin + "#" not in text
            assert member.member_number not in text


def test_demo_out_of_hours_takes_messages(tmp_path):
    run = ccctl(
        tmp_path,
        "demo",
        "--calls",
        "20",
        "--rate",
        "20",
        "--time-factor",
        "50",
        "--seed",
        "5",
        "--at",
        "2026-11-29T23:00",
    )
    assert run.returncode == 0, run.stdout + run.stderr
    calls = json.loads(ccctl(tmp_path, "calls", "list", "--json").stdout)
    assert len(calls) == 20
    assert all("closed" in call["path"] for call in calls if "opening_hours" in call["path"])
    assert not any("authenticate" in call["path"] for call in calls)
