"""Transfers on the real switch (`ccctl transfer`, docs/acd.md): blind to an agent or a queue, warm completed or cancelled.

The patient talks to ann (extension 1001); ann hands the call on; bob (1002) takes it. The call records, the
queue events and `ccctl agents status` say who talked to the patient.
"""

from __future__ import annotations

import json

import pytest
import sipp
from acd_records import agent_status, ended_call, kinds
from switch_site import QUEUE_FLOW, SwitchSite, add_cardio_queue


@pytest.fixture
def site(tmp_path):
    with SwitchSite(tmp_path, {"main.yaml": QUEUE_FLOW}) as running:
        add_cardio_queue(running, no_answer_timeout=6)
        running.ccctl("agents", "add", "bob", "--extension", "1002", "--skills", "cardio:5,derma:5")
        running.ccctl("queues", "add", "derma", "--skills", "derma", "--set", "wrapup_seconds=0")
        yield running


def patient_talking_to_ann(site: SwitchSite, ann_talk_ms: int = 0):
    """A patient who listens until the switch hangs up, answered by ann; bob is not logged in yet."""
    ann = site.agent_phone("1001", talk_ms=ann_talk_ms, voice_hz=1000)
    site.ccctl("agents", "login", "ann")
    patient = site.patient([sipp.until_switch_hangs_up()], voice_hz=440)
    site.wait_for(lambda: ("answered", "ann") in kinds(site), 30, "ann talking to the patient")
    return patient, ann


@pytest.mark.parametrize("target", ["--to-agent", "--to-queue"])
def test_a_blind_transfer_hands_the_patient_to_bob(site, target):
    patient, ann = patient_talking_to_ann(site)
    bob = site.agent_phone("1002", talk_ms=3000, voice_hz=700)
    site.ccctl("agents", "login", "bob")
    if target == "--to-queue":
        site.ccctl("agents", "logout", "ann")  # the derma queue must not ring ann back
    site.ccctl("transfer", "ann", target, "bob" if target == "--to-agent" else "derma")
    assert ann.wait(20) == 0, ann.errors()
    assert patient.wait(40) == 0, patient.errors()
    assert bob.wait(10) == 0, bob.errors()
    call = ended_call(site)
    assert (call["disposition"], call["error"]) == ("completed", ""), call
    events = kinds(site)
    assert in_order(
        events,
        [("answered", "ann"), ("transfer_requested", "ann"), ("transferred", "ann"), ("answered", "bob")],
    ), events
    assert in_order(events, [("ended", "ann"), ("answered", "bob"), ("ended", "bob")]), events
    assert in_order(events, [("answered", "bob"), ("ended", "bob")]), events


# att_xfer ends a consultation with switch_ivr_uuid_bridge, which ends the caller's own `bridge`: the
# caller's controller must wait for the new bridge, not hang the patient up or play hold music into it
def test_a_warm_transfer_completed_leaves_the_patient_with_bob(site):
    patient, ann = patient_talking_to_ann(site)
    bob = site.agent_phone("1002", talk_ms=8000, voice_hz=700)
    site.ccctl("agents", "login", "bob")
    site.ccctl("transfer", "ann", "--to-agent", "bob", "--warm")
    assert agent_status(site)["bob"] == ("available", "reserved")
    site.wait_for(lambda: "ACTIVE" in callstates(site, "1002"), 20, "bob answering ann")
    site.ccctl("transfer", "ann", "--complete")
    assert ann.wait(20) == 0, ann.errors()
    assert patient.wait(40) == 0, patient.errors()
    assert bob.wait(10) == 0, bob.errors()
    call = ended_call(site)
    assert (call["disposition"], call["error"]) == ("completed", ""), call
    events = kinds(site)
    assert in_order(events, [("answered", "ann"), ("transfer_requested", "ann"), ("ended", "bob")]), events
    assert any(kind == "transferred" for kind, _ in events), events
    # bob hung up on the patient: the patient's call lasted until bob's BYE, not ann's
    assert "ORIGINATOR_CANCEL" not in hangups(site, "1002"), hangups(site, "1002")


def test_a_warm_transfer_cancelled_brings_ann_back_to_the_patient(site):
    patient, ann = patient_talking_to_ann(site, ann_talk_ms=15000)
    bob = site.agent_phone("1002", voice_hz=700)
    site.ccctl("agents", "login", "bob")
    site.ccctl("transfer", "ann", "--to-agent", "bob", "--warm")
    site.wait_for(lambda: "ACTIVE" in callstates(site, "1002"), 20, "bob answering ann")
    site.ccctl("transfer", "ann", "--cancel")
    assert bob.wait(20) == 0, bob.errors()
    assert agent_status(site)["bob"] == ("available", "idle")
    assert patient.wait(40) == 0, patient.errors()
    assert ann.wait(10) == 0, ann.errors()
    call = ended_call(site)
    assert (call["disposition"], call["error"]) == ("completed", ""), call
    events = kinds(site)
    assert in_order(events, [("transfer_requested", "ann"), ("transfer_failed", "ann"), ("ended", "ann")]), events
    assert ("no_answer", "ann") not in events and not any(agent == "bob" for _, agent in events), events


def in_order(events: list, expected: list) -> bool:
    """`expected` appear in `events` in this order (others may come between)."""
    rest = iter(events)
    return all(item in rest for item in expected)


def callstates(site: SwitchSite, extension: str) -> str:
    """The call states of the switch's channels to or from `extension`."""
    rows = json.loads(site.api("show channels as json") or "{}").get("rows", [])
    return " ".join(row.get("callstate", "") for row in rows if f"/{extension}@" in row.get("name", ""))


def hangups(site: SwitchSite, extension: str) -> list[str]:
    """The hangup lines of the FreeSWITCH log for channels of `extension`."""
    return [line for line in site.freeswitch_log().splitlines() if " Hangup " in line and f"/{extension}@" in line]
