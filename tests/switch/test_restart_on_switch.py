"""A controller restart on the real switch: queued callers stay up, the next controller serves them.

While callers wait in a queue with no agent free, `ccctl serve` is stopped (SIGTERM: a clean stop, or
SIGKILL: a crash). FreeSWITCH keeps each caller (socket_resume=true; the dialplan's ccctl_socket_loss
context parks them), the next `ccctl serve` takes them back (uuid_transfer ... socket) and rings the
agent who logs in. `ccctl calls list` then shows one row per call with its real outcome.
"""

from __future__ import annotations

import json
import signal
from datetime import UTC, datetime

import pytest
import sipp
from switch_site import QUEUE_FLOW, SwitchSite, add_cardio_queue

CALLERS = 2


@pytest.fixture
def site(tmp_path):
    with SwitchSite(tmp_path, {"main.yaml": QUEUE_FLOW}, settings={"acd": {"heartbeat_seconds": 1}}) as running:
        add_cardio_queue(running, no_answer_timeout=6)
        yield running


def parked_for_resume(site: SwitchSite) -> list[str]:
    """The callers' channels on the switch that will be kept if their controller goes (socket_resume)."""
    listing = json.loads(site.api("show channels as json") or "{}")
    uuids = [row["uuid"] for row in listing.get("rows", []) if row.get("direction") == "inbound"]
    return [u for u in uuids if site.api(f"uuid_getvar {u} socket_resume").strip() == "true"]


def ended_calls(site: SwitchSite) -> list[dict] | None:
    calls = site.calls()
    return calls if len(calls) >= CALLERS and all(c["ended_at"] for c in calls) else None


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGKILL], ids=["stopped", "killed"])
def test_callers_waiting_through_a_controller_restart_are_served_and_recorded_once(site, stop_signal):
    patients = site.patient([sipp.until_switch_hangs_up()], voice_hz=440, calls=CALLERS, rate=10)
    waiting = site.wait_for(
        lambda: len(parked_for_resume(site)) == CALLERS and parked_for_resume(site), 30, "callers in line"
    )
    first_part = {}
    stopped_at = datetime.now(UTC)
    site.stop_serve(stop_signal)
    assert sorted(parked_for_resume(site)) == sorted(waiting), "the switch kept every caller"
    if stop_signal == signal.SIGTERM:
        # the stopping controller says so: the calls go on, another controller will finish them
        first_part = {c["uuid"]: c for c in site.calls()}
        assert sorted(first_part) == sorted(waiting), first_part
        assert {(c["disposition"], c["ended_at"], c["error"]) for c in first_part.values()} == {
            ("handed-over", None, "")
        }

    site.start_serve()
    site.ccctl("agents", "login", "ann")
    phone = site.agent_phone("1001", talk_ms=3000, voice_hz=1000, calls=CALLERS)
    assert patients.wait(90) == 0, patients.errors()
    assert phone.wait(20) == 0, phone.errors()

    calls = site.wait_for(lambda: ended_calls(site), 30, "both calls ended in the records")
    assert sorted(c["uuid"] for c in calls) == sorted(waiting), calls
    for call in calls:
        assert (call["disposition"], call["error"]) == ("completed", ""), call
        assert call["path"][-2:] == ["readopted", "queue:answered"], call
        # the call began when the patient called, before the restart (after a kill -9: as the switch knows it)
        assert call["started_at"] <= call["answered_at"] < stopped_at.isoformat(), call
        if first_part:
            before = first_part[call["uuid"]]
            assert call["path"] == before["path"] + ["readopted", "queue:answered"], call
            assert (call["started_at"], call["answered_at"]) == (before["started_at"], before["answered_at"]), call
    log = site.serve_output()
    assert "UNIQUE" not in log and "not stored" not in log and "interrupted" not in log


LONG_GREETING_FLOW = """\
flow: main
description: a long greeting, so the callers are still in the flow when their controller dies
language: en
start: hello
nodes:
  hello:
    type: hangup
    prompt: "tone_stream://%(20000,0,440)"
"""


def test_callers_in_a_flow_when_the_controller_is_killed_are_each_recorded_as_interrupted(tmp_path):
    with SwitchSite(tmp_path, {"main.yaml": LONG_GREETING_FLOW}) as site:
        patients = site.patient([sipp.until_switch_hangs_up()], calls=3, rate=10)
        running = site.wait_for(lambda: len(site.calls()) == 3 and site.calls(), 20, "3 calls in progress")
        assert {(c["disposition"], c["ended_at"]) for c in running} == {("in-progress", None)}

        site.stop_serve(signal.SIGKILL)  # no end record is ever written by it
        assert patients.wait(30) == 0, patients.errors()  # the switch hangs them up: nobody runs their flow
        site.start_serve()

        def settled():
            calls = site.calls()
            return calls if {c["disposition"] for c in calls} == {"interrupted"} else None

        calls = site.wait_for(settled, 20, "the killed controller's calls settled")
        assert sorted(c["uuid"] for c in calls) == sorted(c["uuid"] for c in running)
        assert all(c["ended_at"] and "controller stopped before the call ended" in c["error"] for c in calls)
