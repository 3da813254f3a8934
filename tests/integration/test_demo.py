"""`ccctl demo`, run the way the README says, on throwaway SQLite files and free ports."""

from __future__ import annotations

import json
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

import yaml

from ccctl.local_site.demo import DEMO_MEMBERS

REPO = Path(__file__).resolve().parents[2]


def demo_config(tmp_path: Path, web_port: int = 0) -> Path:
    config = yaml.safe_load((REPO / "ccctl.yaml").read_text())
    config["database"]["url"] = f"sqlite:///{tmp_path / 'demo.db'}"
    config["esl"]["outbound_port"] = 0
    config["web"]["port"] = web_port
    config["flows_dir"] = str(REPO / "ivr_flows")
    config["recordings_dir"] = str(tmp_path / "recordings")
    path = tmp_path / "ccctl.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def ccctl_command(tmp_path: Path, *args: str, web_port: int = 0) -> list[str]:
    return [sys.executable, "-m", "ccctl.cli", "--config", str(demo_config(tmp_path, web_port)), *args]


def ccctl(tmp_path: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(ccctl_command(tmp_path, *args), cwd=tmp_path, capture_output=True, text=True, timeout=timeout)


def on_config_database(tmp_path: Path) -> list[str]:
    """--database naming the file ccctl.yaml names, so `ccctl calls list` reads what the demo stored."""
    return ["--database", f"sqlite:///{tmp_path / 'demo.db'}"]


def table_value(output: str, label: str) -> int:
    match = re.search(rf"^{re.escape(label)}\s+(\d+)%?$", output, re.MULTILINE)
    assert match, f"no '{label}' row in:\n{output}"
    return int(match.group(1))


def read_until(process: subprocess.Popen, pattern: str) -> tuple[re.Match, str]:
    """Lines of the running demo's output until one matches (the demo prints its live line every 10 s)."""
    seen = ""
    for line in process.stdout:
        seen += line
        match = re.search(pattern, line)
        if match:
            return match, seen
    raise AssertionError(f"the demo ended without printing {pattern!r}:\n{seen}{process.stderr.read()}")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_demo_answers_every_call_and_stores_it(tmp_path):
    # a Tuesday morning: the hotline is open (the flow's opening_hours branch)
    args = ["--calls", "60", "--rate", "20", "--time-factor", "50", "--seed", "5", "--at", "2026-11-24T10:00"]
    run = ccctl(tmp_path, "demo", *args, *on_config_database(tmp_path))
    assert run.returncode == 0, run.stdout + run.stderr
    assert "wallboard on http://127.0.0.1:" in run.stdout
    assert "flows see Tue 2026-11-24 10:00 (open hours: --at 2026-11-24T10:00)" in run.stdout
    assert table_value(run.stdout, "calls placed") == 60
    assert table_value(run.stdout, "failed") == 0
    assert table_value(run.stdout, "unfinished (still up at the end)") == 0

    listed = ccctl(tmp_path, "calls", "list", "--limit", "100", "--json")
    calls = json.loads(listed.stdout)
    assert len(calls) == 60
    by_disposition = {d: sum(1 for c in calls if c["disposition"] == d) for d in {c["disposition"] for c in calls}}
    # the final table counts what `ccctl calls list` stores, in its words
    assert by_disposition == {d: table_value(run.stdout, d) for d in by_disposition}
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
    args = ["--calls", "20", "--rate", "20", "--time-factor", "50", "--seed", "5", "--at", "2026-11-29T23:00"]
    run = ccctl(tmp_path, "demo", *args, *on_config_database(tmp_path))
    assert run.returncode == 0, run.stdout + run.stderr
    assert "flows see Sun 2026-11-29 23:00 (closed: --at 2026-11-29T23:00)" in run.stdout
    calls = json.loads(ccctl(tmp_path, "calls", "list", "--json").stdout)
    assert len(calls) == 20
    assert all("closed" in call["path"] for call in calls if "opening_hours" in call["path"])
    assert not any("authenticate" in call["path"] for call in calls)


def test_demo_on_its_defaults_runs_a_healthy_open_day_whenever_it_starts(tmp_path):
    # no --at and no --rate: whatever the clock says, the flows see opening hours and the traffic fits the agents
    run = ccctl(tmp_path, "demo", "--calls", "200", "--time-factor", "50", "--seed", "7", *on_config_database(tmp_path))
    assert run.returncode == 0, run.stdout + run.stderr
    assert re.search(r"^flows see \w{3} \d{4}-\d\d-\d\d \d\d:\d\d \(open hours", run.stdout, re.MULTILINE), run.stdout
    assert re.search(r"^traffic: [\d.]+ calls/s for 12 agents, sized by Erlang C", run.stdout, re.MULTILINE)
    assert table_value(run.stdout, "calls placed") == 200
    assert table_value(run.stdout, "failed") == 0
    assert table_value(run.stdout, "unfinished (still up at the end)") == 0
    assert table_value(run.stdout, "completed") + table_value(run.stdout, "abandoned") <= 200
    offered = table_value(run.stdout, "queue: offered")
    assert offered > 100
    # queued callers reach agents: few leave the queue and most are answered within the target
    assert table_value(run.stdout, "queue: answered by an agent") >= 0.95 * offered
    assert table_value(run.stdout, "queue: service level") >= 80
    calls = json.loads(ccctl(tmp_path, "calls", "list", "--limit", "300", "--json").stdout)
    assert len(calls) == 200
    hours = [call for call in calls if "opening_hours" in " ".join(call["path"])]
    assert hours and not any("closed" in call["path"] for call in hours)


def test_demo_keeps_to_its_own_database_and_will_not_seed_real_data(tmp_path):
    run = ccctl(tmp_path, "demo", "--calls", "5", "--rate", "20", "--time-factor", "50", "--seed", "3")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "database: var/ccctl-demo.db (the demo's own; --database names another)" in run.stdout
    assert (tmp_path / "var" / "ccctl-demo.db").exists()
    assert not (tmp_path / "demo.db").exists()  # the database ccctl.yaml gives `ccctl serve`

    assert ccctl(tmp_path, "db", "upgrade").returncode == 0
    added = ccctl(tmp_path, "patients", "add", "--given", "Real", "--family", "Patient", "--phone", "13812345678")
    assert added.returncode == 0, added.stderr
    refused = ccctl(tmp_path, "demo", "--calls", "5", "--rate", "20", *on_config_database(tmp_path))
    assert refused.returncode == 1
    assert refused.stderr.strip() == (
        f"ccctl: database {tmp_path / 'demo.db'} holds 1 patients the demo did not create: the demo seeds "
        "only a database of its own (leave out --database, or name a new one)"
    )
    assert "Real" not in refused.stderr and "13812345678" not in refused.stderr
    listed = ccctl(tmp_path, "patients", "list")
    assert listed.stdout.count("\n") <= 2 and "Patient" in listed.stdout  # no demo members were added


def test_ctrl_c_says_what_it_waits_for_and_a_second_ctrl_c_stops_at_once(tmp_path):
    # real time: each call lasts a minute or more, so calls are up when Ctrl-C comes
    command = ccctl_command(tmp_path, "demo", "--rate", "5", "--seed", "2", "--at", "2026-11-24T10:00")
    demo = subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        read_until(demo, r"^placed\s+\d+ \| up\s+[1-9]")
        demo.send_signal(signal.SIGINT)
        match, _ = read_until(
            demo, r"^stopping: no new calls; waiting for (\d+) calls to end \(Ctrl-C again: stop now\)"
        )
        assert int(match.group(1)) > 0
        assert demo.poll() is None  # still draining its calls
        demo.send_signal(signal.SIGINT)
        out, err = demo.communicate(timeout=60)
    finally:
        if demo.poll() is None:
            demo.kill()
    assert demo.returncode == 0, out + err
    assert table_value(out, "unfinished (still up at the end)") > 0
    assert table_value(out, "failed") == 0
    assert table_value(out, "calls placed") > 0


def test_flow_reload_reloads_the_demos_flows_and_the_demo_goes_on(tmp_path):
    port = free_port()
    command = ccctl_command(tmp_path, "demo", "--rate", "5", "--time-factor", "20", "--seed", "2", web_port=port)
    demo = subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        read_until(demo, r"^placed\s+\d+ \| up\s+[1-9]")
        reload = subprocess.run(
            ccctl_command(tmp_path, "flow", "reload", web_port=port), cwd=tmp_path, capture_output=True, text=True
        )
        assert reload.returncode == 0, reload.stdout + reload.stderr
        assert f"flows generation 2 running in pid {demo.pid}: main" in reload.stdout
        read_until(demo, r"^flows reloaded: generation 2$")
        assert demo.poll() is None
        demo.send_signal(signal.SIGINT)
        read_until(demo, r"^stopping: no new calls")
        demo.send_signal(signal.SIGINT)
        out, err = demo.communicate(timeout=60)
    finally:
        if demo.poll() is None:
            demo.kill()
    assert demo.returncode == 0, out + err
    assert table_value(out, "failed") == 0
