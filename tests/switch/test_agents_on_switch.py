"""Agents on the real switch: a caller waiting for an agent to log in, failed rings, the phones' feature codes.

Each test runs FreeSWITCH with `ccctl serve`, patients and registered agents' phones as SIPp, and checks
what a supervisor sees: `ccctl calls list`, `ccctl agents status`, the queue events.
"""

from __future__ import annotations

import pytest
import sipp
import sipp_phones
from acd_records import agent_status, ended_call, kinds, queue_events
from switch_site import AGENTS_PASSWORD, DOMAIN, QUEUE_FLOW, SippRun, SwitchSite, add_cardio_queue, free_port


@pytest.fixture
def site(tmp_path):
    with SwitchSite(tmp_path, {"main.yaml": QUEUE_FLOW}) as running:
        yield running


def test_a_caller_waiting_when_no_agent_is_logged_in_talks_to_the_agent_who_logs_in(site):
    add_cardio_queue(site, no_answer_timeout=6)
    phone = site.agent_phone("1001", talk_ms=3000, voice_hz=1000)
    patient = site.patient([sipp.until_switch_hangs_up()], voice_hz=440)
    site.wait_for(lambda: ("entered", "") in kinds(site), 20, "the caller in line")
    assert agent_status(site)["ann"] == ("logged_out", "idle")

    site.ccctl("agents", "login", "ann")
    assert patient.wait(40) == 0, patient.errors()
    assert phone.wait(10) == 0, phone.errors()
    call = ended_call(site)
    assert (call["disposition"], call["error"]) == ("completed", ""), call
    assert call["path"][-1] == "to_agent:answered", call
    assert kinds(site) == [
        ("entered", ""),
        ("offered", "ann"),
        ("answered", "ann"),
        ("ended", "ann"),
        ("wrapup_end", "ann"),
    ]
    assert agent_status(site)["ann"][0] == "available"


def cardio_queue_resting_after_a_failed_ring(site: SwitchSite, no_answer_timeout: int) -> None:
    """The cardio queue where an agent whose phone was busy or rang out rests a minute; ann and bob."""
    add_cardio_queue(site, no_answer_timeout, busy_delay_seconds=60, no_answer_delay_seconds=60)
    site.ccctl("agents", "add", "bob", "--extension", "1002", "--skills", "cardio:5")


@pytest.mark.parametrize("ann_phone", ["busy", "ignore"], ids=["busy", "rings-out"])
def test_after_a_failed_ring_the_caller_keeps_their_place_and_reaches_the_next_agent(site, ann_phone):
    cardio_queue_resting_after_a_failed_ring(site, no_answer_timeout=3)
    ann = site.agent_phone("1001", answer=ann_phone)
    bob = site.agent_phone("1002", talk_ms=3000, voice_hz=1000)
    site.ccctl("agents", "login", "ann")
    patient = site.patient([sipp.until_switch_hangs_up()], voice_hz=440)
    site.wait_for(lambda: ("no_answer", "ann") in kinds(site), 30, "ann's failed ring")
    assert ann.wait(10) == 0, ann.errors()
    assert agent_status(site)["ann"] == ("available", "resting")

    site.ccctl("agents", "login", "bob")
    assert patient.wait(40) == 0, patient.errors()
    assert bob.wait(10) == 0, bob.errors()
    call = ended_call(site)
    assert (call["disposition"], call["error"]) == ("completed", ""), call
    assert kinds(site) == [
        ("entered", ""),
        ("offered", "ann"),
        ("no_answer", "ann"),
        ("offered", "bob"),
        ("answered", "bob"),
        ("ended", "bob"),
        ("wrapup_end", "bob"),
    ]


def phone_dials(site: SwitchSite, extension: str, digits: str, steps: list) -> SippRun:
    """The phone of `extension` calls `digits` on the agents profile, with its digest credentials."""
    scenario = sipp_phones.authenticated_call_scenario(extension, AGENTS_PASSWORD, steps)
    target = f"127.0.0.1:{site.ports['agents_sip']}"
    args = [target, "-s", digits, "-m", "1", "-p", str(free_port()), "-key", "caller", extension]
    return site._sipp(f"dial-{extension}", scenario, [*args, "-key", "domain", DOMAIN])


def test_an_agent_changes_status_by_dialling_feature_codes_from_their_phone(site):
    add_cardio_queue(site, no_answer_timeout=6)
    for digits, seen in (("*21", "available"), ("*23", "on_break"), ("*21", "available"), ("*22", "logged_out")):
        phone = phone_dials(site, "1001", digits, [sipp.until_switch_hangs_up()])
        assert phone.wait(30) == 0, phone.errors()
        assert agent_status(site)["ann"] == (seen, "idle"), digits
    codes = [c["path"] for c in site.wait_for_calls(4)]
    assert sorted(map(tuple, codes)) == sorted(
        [
            ("agent_login", "available"),
            ("agent_break", "on_break"),
            ("agent_login", "available"),
            ("agent_logout", "logged_out"),
        ]
    ), codes
    status_events = [kind for kind, _, _ in queue_events(site) if kind.startswith("agent_")]
    assert status_events == ["agent_available", "agent_on_break", "agent_available", "agent_logged_out"]


def test_a_phone_that_is_no_agents_hears_so_and_nothing_changes(site):
    add_cardio_queue(site, no_answer_timeout=6)
    phone = phone_dials(site, "1009", "*21", [sipp.until_switch_hangs_up()])
    assert phone.wait(30) == 0, phone.errors()
    [call] = site.wait_for_calls(1)
    assert call["path"] == ["agent_login", "unknown_agent"], call
    assert agent_status(site) == {"ann": ("logged_out", "idle")}


def test_a_caller_who_asked_for_a_callback_is_called_back_and_talks_to_the_agent_who_logs_in(tmp_path):
    patient_port = free_port()
    dial = f"sofia/trunk/{{number}}@127.0.0.1:{patient_port}"
    with SwitchSite(tmp_path, {"main.yaml": QUEUE_FLOW}, settings={"acd": {"callback_dial": dial}}) as site:
        add_cardio_queue(site, no_answer_timeout=6)
        caller = site.patient([sipp.wait(2000), *sipp.press("1"), sipp.until_switch_hangs_up()], voice_hz=440)
        assert caller.wait(40) == 0, caller.errors()
        assert [kind for kind, _ in kinds(site)] == ["entered", "callback_requested"]

        # the patient's phone, waiting for the hospital's call
        scenario = sipp.agent_phone_scenario("answer", 300, 0, site.voice(440))
        patient = site._sipp(
            "patient-phone", scenario, ["-m", "1", "-p", str(patient_port), "-key", "extension", "0612345678"]
        )
        ann = site.agent_phone("1001", talk_ms=4000, voice_hz=1000)
        site.ccctl("agents", "login", "ann")
        assert ann.wait(60) == 0, ann.errors()
        assert patient.wait(20) == 0, patient.errors()

        def both_ended():
            calls = site.calls()
            return calls if len(calls) == 2 and all(c["ended_at"] for c in calls) else None

        first, callback = sorted(site.wait_for(both_ended, 30, "both calls ended"), key=lambda c: c["started_at"])
        assert first["path"][-1] == "to_agent:callback", first
        assert (callback["disposition"], callback["path"][-1]) == ("completed", "callback:answered"), callback
        assert [kind for kind, _ in kinds(site)] == [
            "entered",
            "callback_requested",
            "callback_made",
            "offered",
            "answered",
            "ended",
            "wrapup_end",
        ], kinds(site)
