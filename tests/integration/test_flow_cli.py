"""`ccctl flow reload` against a real `ccctl serve` process, and `ccctl flow simulate`, run as an admin would."""

from __future__ import annotations

import dataclasses
import json
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from gevent.pywsgi import WSGIServer

from ccctl.config import load_settings
from ccctl.local_site.demo import DEMO_MEMBERS
from ccctl.records.migrate import upgrade
from ccctl.serve.client import ReloadFailed, StatusUnavailable, fetch_status, request_reload

REPO = Path(__file__).resolve().parents[2]
CCCTL = str(Path(sys.executable).parent / "ccctl")  # the installed entry point, as an admin runs it
OPEN = "2026-11-24T10:00"  # a Tuesday morning
SUNDAY_NIGHT = "2026-11-29T23:00"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def write_config(tmp_path: Path, flows_dir: Path | None = None) -> Path:
    """A ccctl.yaml on free ports, a SQLite file and recordings under tmp_path."""
    config = yaml.safe_load((REPO / "ccctl.yaml").read_text())
    config["database"]["url"] = f"sqlite:///{tmp_path / 'ccctl.db'}"
    config["esl"].update(outbound_port=free_port(), inbound_port=free_port())  # no FreeSWITCH: it keeps retrying
    config["esl"]["password"] = "flow-cli-secret"  # ccctl serve refuses FreeSWITCH's shipped ClueCon
    config["web"]["port"] = free_port()
    config["flows_dir"] = str(flows_dir or REPO / "ivr_flows")
    config["recordings_dir"] = str(tmp_path / "recordings")
    path = tmp_path / "ccctl.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def ccctl(config: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    command = [CCCTL, "--config", str(config), *args]
    return subprocess.run(command, cwd=config.parent, capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def serve(tmp_path):
    """A `ccctl serve` on a copy of the shipped flows; yields (config, flows_dir)."""
    flows = tmp_path / "ivr_flows"
    shutil.copytree(REPO / "ivr_flows", flows)
    config = write_config(tmp_path, flows)
    upgrade(f"sqlite:///{tmp_path / 'ccctl.db'}")
    log = (tmp_path / "serve.log").open("w")
    process = subprocess.Popen([CCCTL, "--config", str(config), "serve"], cwd=tmp_path, stdout=log, stderr=log)
    try:
        settings = load_settings(config)
        deadline = time.monotonic() + 30
        while not answers(settings):
            assert process.poll() is None, (tmp_path / "serve.log").read_text()
            assert time.monotonic() < deadline, "ccctl serve did not answer its status API within 30 s"
            time.sleep(0.05)
        yield config, flows
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()


def answers(settings) -> bool:
    try:
        fetch_status(settings, timeout=1.0)
    except StatusUnavailable:
        return False
    return True


def flows_status(config: Path) -> dict:
    return json.loads(ccctl(config, "status", "--json").stdout)["flows"]


def test_reload_swaps_in_the_changed_flows(serve):
    config, flows = serve
    prompts = flows / "prompt_text" / "en.yaml"
    prompts.write_text(prompts.read_text().replace("Welcome to City Hospital.", "Welcome to the new City Hospital."))
    run = ccctl(config, "flow", "reload")
    assert run.returncode == 0, run.stderr
    pid = json.loads(ccctl(config, "status", "--json").stdout)["pid"]
    assert run.stdout == f"flows generation 2 running in pid {pid}: main\n"
    assert flows_status(config)["generation"] == 2
    assert "flows:        generation 2: main\n" in ccctl(config, "status").stdout


def test_a_broken_flow_is_refused_with_every_error_and_the_old_flows_stay(serve):
    config, flows = serve
    main = flows / "main.yaml"
    good = main.read_text()
    main.write_text(good.replace("next: choose_language", "next: choose_langauge"))
    run = ccctl(config, "flow", "reload")
    assert run.returncode == 1
    assert run.stdout.splitlines() == [
        f"{main}:14: node 'welcome': 'next' goes to 'choose_langauge', which is not a node of this flow",
        f"{main}:17: node 'choose_language': unreachable: no path leads here from the start node 'welcome'",
    ]
    assert run.stderr == "ccctl: reload refused (2 errors); ccctl serve keeps flows generation 1\n"
    status = flows_status(config)
    assert status["generation"] == 1 and status["reloads"]["ok"] is False
    text = ccctl(config, "status").stdout
    assert "flows:        generation 1: main (last reload refused: 2 errors, see `ccctl status --json`)\n" in text
    main.write_text(good)
    again = ccctl(config, "flow", "reload")
    assert again.returncode == 0 and "flows generation 2 running in pid" in again.stdout


def test_reload_without_a_running_serve_says_so(tmp_path):
    config = write_config(tmp_path)
    run = ccctl(config, "flow", "reload")
    port = yaml.safe_load(config.read_text())["web"]["port"]
    assert run.returncode == 1
    assert run.stderr == f"ccctl: no ccctl serve answering on http://127.0.0.1:{port} (connection refused)\n"


def json_answer(data: dict):
    """A WSGI app answering every request with `data` as JSON."""

    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "application/json")])
        return [json.dumps(data).encode()]

    return app


def test_reload_never_signals_a_process_that_is_not_ccctl(tmp_path):
    # something else answers the status API with the pid of an unrelated program
    bystander = subprocess.Popen(["sleep", "60"])
    try:
        status = {"calls": {}, "pid": bystander.pid, "flows": {"generation": 1, "reloads": {"count": 0}}}
        web = WSGIServer(("127.0.0.1", 0), json_answer(status), log=None)
        web.start()
        try:
            settings = load_settings(write_config(tmp_path))
            settings = dataclasses.replace(settings, web=dataclasses.replace(settings.web, port=web.server_port))
            with pytest.raises(ReloadFailed) as refused:
                request_reload(settings)
        finally:
            web.stop()
        assert str(refused.value) == (
            f"pid {bystander.pid} reported by http://127.0.0.1:{web.server_port} is not a ccctl process on this machine"
        )
        assert bystander.poll() is None  # no SIGHUP reached it
    finally:
        bystander.kill()
        bystander.wait()


def test_simulate_a_member_call_on_a_scratch_database(tmp_path):
    member = DEMO_MEMBERS[0]
    keys = f"1,1,{member.member_number}#,{member.pin}#,2,1"
    run = ccctl(write_config(tmp_path), "flow", "simulate", "main", "--keys", keys, "--scratch", "--at", OPEN)
    assert run.returncode == 0, run.stderr
    out = run.stdout
    assert out.startswith("hotline main, flow version 1-")
    assert "database: scratch SQLite with the demo members, discarded" in out
    path = out.split("path:\n")[1].split("\n\n")[0].split()
    assert path[-7:] == [
        "authenticate", "authenticate:pin", "authenticate:ok", "member_menu", "expert_menu",
        "cardiology_expert", "cardiology_expert:answered",
    ]  # fmt: skip
    assert "   1. [tts] Welcome to City Hospital.\n" in out
    assert "   6. [tts] Hello Anna Kowalska. For appointment registration, press 1." in out
    assert f"keys: 1, 1, {member.member_number}#, <PIN>, 2, 1\n" in out
    assert "  disposition: completed (NORMAL_CLEARING, hung up by controller)\n" in out
    assert "  patient:     P000001 (member)\n" in out
    assert "  hand-off:    queue skill cardiology -> user/1000, answered by sofia/internal/1000@" in out
    assert member.pin not in out + run.stderr


def test_simulate_out_of_hours_on_the_configured_database_as_json(tmp_path):
    config = write_config(tmp_path)
    url = f"sqlite:///{tmp_path / 'ccctl.db'}"
    upgrade(url)
    run = ccctl(config, "flow", "simulate", "main", "--keys", "1,2,,9", "--at", SUNDAY_NIGHT, "--json")
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    assert result["path"][3:6] == ["opening_hours", "opening_hours:default", "closed"]
    assert result["path"][-3:] == ["message:saved", "voice_message.thanks", "goodbye"]
    assert result["keys"] == ["1", "2"] and result["unused_keys"] == 2
    assert {"kind": "tone", "text": "tone_stream://%(400,0,800)"} in result["prompts"]
    assert result["prompts"][-1] == {"kind": "tts", "text": "Thank you for calling City Hospital. Goodbye."}
    assert (result["disposition"], result["patient"], result["handoffs"]) == ("completed", None, [])
    [recording] = result["voice_messages"]
    assert recording.startswith(str(tmp_path / "recordings" / "voice" / "2026-11-29"))
    # the voice message is filed in the configured database; the simulated call is not a call record
    import sqlalchemy

    engine = sqlalchemy.create_engine(url)
    with engine.connect() as conn:
        assert conn.execute(sqlalchemy.text("SELECT path, reason FROM voice_messages")).all() == [
            (recording, "after_hours")
        ]
        assert conn.execute(sqlalchemy.text("SELECT count(*) FROM calls")).scalar() == 0
    engine.dispose()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nowhere", "--scratch"], "no hotline 'nowhere' in {config} (hotlines: main)"),
        (["main", "--keys", "1,x9", "--scratch"], "--keys entry 2: only 0-9, * and # are keys"),
        (["main"], "database.url in {config} has no tables yet: run `ccctl db upgrade`, or simulate with --scratch"),
    ],
    ids=["unknown hotline", "not a key", "database not migrated"],
)
def test_simulate_refuses_with_one_line(tmp_path, args, message):
    config = write_config(tmp_path)
    run = ccctl(config, "flow", "simulate", *args)
    assert run.returncode == 1
    assert run.stderr.startswith("ccctl: " + message.format(config=config))
