"""Queued calls through the emulator: agent answers, skills, no-answer and max-no-answer, recording, snapshot."""

from __future__ import annotations

import wave
from datetime import UTC, datetime, timedelta

import gevent
import pytest
from acd_site import (
    AcdSite,
    acd_settings,
    add_agents,
    agent_rows,
    alarms,
    entries,
    events,
    queue,
    recording_rows,
    set_counters,
    wait_until,
)

from ccctl.acd.agents import set_status
from ccctl.sim.callers import CallerScript
from ccctl.sim.originate import AgentEndpoint
from ccctl.sim.registrations import fire_registration


def caller(number: str = "13800000001") -> CallerScript:
    return CallerScript(number, "7000", [], context="public")


def test_queued_caller_reaches_the_skilled_agent_and_is_recorded(db_url, tmp_path):
    settings = acd_settings(db_url, tmp_path)
    add_agents(db_url, {"ann": ("1001", "dermato"), "bob": ("1002", "cardio:3")})
    queue(db_url)
    phones = {"1001": AgentEndpoint(answer_after=1), "1002": AgentEndpoint(answer_after=1, talk_seconds=5)}
    with AcdSite(settings, phones) as site:
        seen = []
        site.controller.acd.add_listener(seen.append)
        outcome = site.switch.place_call(caller()).wait(30)
        site.wait_idle()
    assert outcome.answered and outcome.failure == ""
    assert [(kind, agent) for _, kind, agent in events(db_url)] == [
        ("entered", None),
        ("offered", "bob"),
        ("answered", "bob"),
        ("ended", "bob"),
        ("wrapup_end", "bob"),
    ]
    assert [(e["type"], e["agent"], e["queue"]) for e in seen] == [
        ("offered", "bob", "cardio"),
        ("answered", "bob", "cardio"),
        ("ended", "bob", "cardio"),
    ]
    assert entries(db_url) == {outcome.uuid: "done"}
    bob = agent_rows(db_url)["bob"]
    assert bob.calls_answered == 1 and bob.state == "wrapup"
    recordings = list((tmp_path / "recordings").rglob("*.wav"))
    assert [r.name for r in recordings] == [f"{outcome.uuid}.wav"]
    with wave.open(str(recordings[0])) as wav:
        assert wav.getnchannels() == 2  # RECORD_STEREO: patient and agent on their own channels
    assert recording_rows(db_url) == [(outcome.uuid, str(recordings[0]), "bob", "cardio")]


def test_no_answer_moves_on_to_the_next_agent_and_benches_the_silent_one(sqlite_url, tmp_path):
    settings = acd_settings(sqlite_url, tmp_path)
    add_agents(sqlite_url, {"ann": ("1001", "cardio"), "bob": ("1002", "cardio")})
    queue(sqlite_url, strategy="top-down", no_answer_timeout=5, max_no_answer=1)
    phones = {"1001": AgentEndpoint(answers=False), "1002": AgentEndpoint(answer_after=1, talk_seconds=3)}
    with AcdSite(settings, phones) as site:
        outcome = site.switch.place_call(caller()).wait(30)
        site.wait_idle()
    assert outcome.bridged_to == ["sofia/internal/1002@cc.local"]
    assert [(kind, agent) for _, kind, agent in events(sqlite_url)][:5] == [
        ("entered", None),
        ("offered", "ann"),
        ("no_answer", "ann"),
        ("offered", "bob"),
        ("answered", "bob"),
    ]
    agents = agent_rows(sqlite_url)
    assert agents["ann"].status == "on_break" and agents["ann"].no_answer_count == 1
    assert [(a.kind, a.queue) for a in alarms(sqlite_url)] == [("agent_no_answer", "cardio")]


def test_caller_hanging_up_in_the_queue_is_abandoned(sqlite_url, tmp_path):
    settings = acd_settings(sqlite_url, tmp_path)
    add_agents(sqlite_url, {"ann": ("1001", "cardio")})
    set_status(sqlite_url, "ann", "On Break")
    queue(sqlite_url)
    script = CallerScript("13800000001", "7000", [], hangup_after=20, context="public")
    with AcdSite(settings, {"1001": AgentEndpoint()}) as site:
        outcome = site.switch.place_call(script).wait(30)
        site.wait_idle()
    assert outcome.hung_up_by == "caller"
    assert [kind for _, kind, _ in events(sqlite_url)] == ["entered", "abandoned"]
    assert entries(sqlite_url) == {outcome.uuid: "abandoned"}


def test_max_wait_sends_the_caller_to_the_failure_branch(sqlite_url, tmp_path):
    settings = acd_settings(sqlite_url, tmp_path)
    queue(sqlite_url, max_wait_seconds=0.3)
    with AcdSite(settings, {}) as site:
        outcome = site.switch.place_call(caller()).wait(30)
        site.wait_idle()
    assert outcome.prompts[-1] == "say:Nobody could take your call"
    assert [kind for _, kind, _ in events(sqlite_url)] == ["entered", "timeout"]


def test_overflow_to_another_queue_after_its_time(sqlite_url, tmp_path):
    settings = acd_settings(sqlite_url, tmp_path)
    add_agents(sqlite_url, {"gus": ("1005", "general")})
    queue(sqlite_url, overflow_after_seconds=0.2, overflow_action="queue", overflow_queue="general")
    queue(sqlite_url, "general", skills={"general": 1})
    with AcdSite(settings, {"1005": AgentEndpoint(answer_after=1, talk_seconds=2)}) as site:
        outcome = site.switch.place_call(caller()).wait(30)
        site.wait_idle()
    assert outcome.bridged_to == ["sofia/internal/1005@cc.local"]
    kinds = [(kind, agent) for _, kind, agent in events(sqlite_url)]
    assert kinds[:4] == [("entered", None), ("overflow", None), ("offered", "gus"), ("answered", "gus")]


def test_overflow_to_lower_skill_levels(sqlite_url, tmp_path):
    settings = acd_settings(sqlite_url, tmp_path)
    add_agents(sqlite_url, {"jr": ("1006", "cardio:2")})
    queue(sqlite_url, skills={"cardio": 5}, overflow_after_seconds=0.2, overflow_action="lower-level",
          overflow_level=2)  # fmt: skip
    with AcdSite(settings, {"1006": AgentEndpoint(answer_after=1, talk_seconds=2)}) as site:
        outcome = site.switch.place_call(caller()).wait(30)
        site.wait_idle()
    assert outcome.bridged_to == ["sofia/internal/1006@cc.local"]
    assert [kind for _, kind, _ in events(sqlite_url)][:3] == ["entered", "overflow", "offered"]


def test_wrapup_keeps_the_agent_from_the_next_caller_until_it_ends(sqlite_url, tmp_path):
    settings = acd_settings(sqlite_url, tmp_path)
    add_agents(sqlite_url, {"ann": ("1001", "cardio")})
    queue(sqlite_url, wrapup_seconds=0.5)
    with AcdSite(settings, {"1001": AgentEndpoint(answer_after=1, talk_seconds=2)}) as site:
        calls = [site.switch.place_call(caller(f"1380000000{n}")) for n in (1, 2)]
        outcomes = [c.wait(30) for c in calls]
        site.wait_idle()
    assert all(o.bridged_to == ["sofia/internal/1001@cc.local"] for o in outcomes)
    rows = events(sqlite_url, with_times=True)
    first_wrapup_end = next(at for _, kind, _, at in rows if kind == "wrapup_end")
    offers = [at for _, kind, _, at in rows if kind == "offered"]
    assert len(offers) == 2 and offers[1] >= first_wrapup_end


def test_snapshot_lists_the_caller_waiting_for_a_busy_agent(sqlite_url, tmp_path):
    settings = acd_settings(sqlite_url, tmp_path)
    add_agents(sqlite_url, {"ann": ("1001", "cardio")})
    queue(sqlite_url)
    with AcdSite(settings, {"1001": AgentEndpoint(answer_after=1)}) as site:
        acd = site.controller.acd
        first = site.switch.place_call(caller("13800000001"))
        assert wait_until(lambda: acd.snapshot()["agents"][0]["state"] == "in_call")
        second = site.switch.place_call(caller("13800000002"))
        assert wait_until(lambda: acd.snapshot()["queues"][0]["waiting"])
        snap = acd.snapshot()
        for handle in (second, first):
            site.controller.inbound.api(f"uuid_kill {handle.uuid}")
        site.wait_idle()
    assert snap["agents"][0]["call_uuid"] == first.uuid
    assert [w["call_uuid"] for w in snap["queues"][0]["waiting"]] == [second.uuid]
    assert snap["queues"][0]["answered_today"] == 1


def test_caller_hanging_up_while_talking_ends_the_call_and_starts_wrapup(sqlite_url, tmp_path):
    settings = acd_settings(sqlite_url, tmp_path)
    add_agents(sqlite_url, {"ann": ("1001", "cardio")})
    queue(sqlite_url, wrapup_seconds=30)
    script = CallerScript("13800000001", "7000", [], hangup_after=30, context="public")
    with AcdSite(settings, {"1001": AgentEndpoint(answer_after=1)}) as site:
        outcome = site.switch.place_call(script).wait(30)
        site.wait_idle()
    assert outcome.hung_up_by == "caller" and outcome.bridged_to == ["sofia/internal/1001@cc.local"]
    assert [kind for _, kind, _ in events(sqlite_url)] == ["entered", "offered", "answered", "ended", "wrapup_end"]
    ann = agent_rows(sqlite_url)["ann"]
    assert ann.state == "wrapup" and ann.calls_answered == 1


def test_callback_keeps_the_place_and_connects_the_patient_to_the_agent(sqlite_url, tmp_path):
    settings = acd_settings(sqlite_url, tmp_path)
    add_agents(sqlite_url, {"ann": ("1001", "cardio")})
    set_status(sqlite_url, "ann", "On Break")
    queue(sqlite_url, callback_key="1")
    with AcdSite(settings, {"1001": AgentEndpoint(answer_after=1, talk_seconds=3)}) as site:
        acd = site.controller.acd
        handle = site.switch.place_call(caller("13800000001"))
        assert wait_until(lambda: acd.snapshot()["queues"][0]["waiting"])
        site.controller.inbound.api(f"uuid_send_dtmf {handle.uuid} 1")
        first = handle.wait(30)
        set_status(sqlite_url, "ann", "Available")
        acd.wake()
        assert wait_until(lambda: "ended" in [kind for _, kind, _ in events(sqlite_url)])
        site.wait_idle()
    assert first.hung_up_by == "controller" and first.bridged_to == []
    assert [(uuid, kind, agent) for uuid, kind, agent in events(sqlite_url)] == [
        (first.uuid, "entered", None),
        (first.uuid, "callback_requested", None),
        (first.uuid, "callback_made", None),  # the patient answers first, then the reserved agent rings
        (first.uuid, "offered", "ann"),
        (first.uuid, "answered", "ann"),
        (first.uuid, "ended", "ann"),
        (first.uuid, "wrapup_end", "ann"),
    ]
    assert entries(sqlite_url) == {first.uuid: "done"}


STRATEGY_AGENTS = {
    # name: (extension, skills, minutes idle, minutes since last offer, calls answered, talk seconds)
    "ann": ("1001", "cardio:2", 30, 5, 4, 900),
    "bob": ("1002", "cardio:5", 50, 20, 9, 100),
    "cid": ("1003", "cardio:3", 40, 60, 1, 500),
}


@pytest.mark.parametrize(
    ("strategy", "expected"),
    [
        ("longest-idle-agent", {"bob"}),
        ("round-robin", {"cid"}),
        ("top-down", {"ann"}),
        ("agent-with-least-talk-time", {"bob"}),
        ("agent-with-fewest-calls", {"cid"}),
        ("best-skill-match", {"bob"}),
        ("ring-all", {"bob"}),  # all three ring; the longest idle is listed first and answers first here
        ("random", {"ann", "bob", "cid"}),
    ],
)
def test_each_strategy_through_the_switch(sqlite_url, tmp_path, strategy, expected):
    settings = acd_settings(sqlite_url, tmp_path)
    add_agents(sqlite_url, {name: (ext, skills) for name, (ext, skills, *_) in STRATEGY_AGENTS.items()})
    now = datetime.now(UTC)
    for name, (_, _, idle, offered, calls, talk) in STRATEGY_AGENTS.items():
        set_counters(sqlite_url, name, now - timedelta(minutes=idle), now - timedelta(minutes=offered), calls, talk)
    queue(sqlite_url, strategy=strategy)
    phones = {ext: AgentEndpoint(answer_after=1, talk_seconds=2) for ext, *_ in STRATEGY_AGENTS.values()}
    with AcdSite(settings, phones) as site:
        outcome = site.switch.place_call(caller()).wait(30)
        site.wait_idle()
    rung = [agent for _, kind, agent in events(sqlite_url) if kind == "offered"]
    answered = [agent for _, kind, agent in events(sqlite_url) if kind == "answered"]
    assert answered[0] in expected and len(outcome.bridged_to) == 1
    assert sorted(rung) == (["ann", "bob", "cid"] if strategy == "ring-all" else answered)


def test_agent_phone_learned_from_its_sip_registration(sqlite_url, tmp_path):
    settings = acd_settings(sqlite_url, tmp_path)
    add_agents(sqlite_url, {"ann": ("1001", "cardio")})
    queue(sqlite_url)
    with AcdSite(settings, {"1001": AgentEndpoint(answer_after=1, talk_seconds=2)}) as site:
        assert site.controller.inbound.wait_connected(5)
        site.switch.default_remote = AgentEndpoint(answer_after=1, talk_seconds=2)  # sofia/... reaches this phone
        contact = "sofia/internal/sip:1001@10.0.0.5:5062"
        assert wait_until(lambda: register_and_check(site, sqlite_url, contact))
        outcome = site.switch.place_call(caller()).wait(30)
        site.wait_idle()
        fire_registration(site.switch, "1001", "10.0.0.5", 5062, expires=0)
        assert wait_until(lambda: agent_rows(sqlite_url)["ann"].contact == "")
    assert ("bridge", "{originate_timeout=20}" + contact) in outcome.apps
    assert [agent for _, kind, agent in events(sqlite_url) if kind == "answered"] == ["ann"]


def register_and_check(site, url: str, contact: str) -> bool:
    # the subscription reaches the switch shortly after the connection: repeat until the event lands
    fire_registration(site.switch, "1001", "10.0.0.5", 5062)
    gevent.sleep(0.05)
    return agent_rows(url)["ann"].contact == contact


def test_hold_music_stops_as_soon_as_an_agent_is_free(sqlite_url, tmp_path):
    """The router's uuid_break ends the caller's hold prompt: they do not hear it out before ringing the agent."""
    settings = acd_settings(sqlite_url, tmp_path)
    add_agents(sqlite_url, {"ann": ("1001", "cardio")})
    set_status(sqlite_url, "ann", "On Break")
    queue(sqlite_url, hold_prompt="silence_stream://3000000")  # 3000 emulated s: a minute of real time here
    with AcdSite(settings, {"1001": AgentEndpoint(answer_after=1, talk_seconds=2)}) as site:
        call = site.switch.place_call(caller())
        assert wait_until(lambda: entries(sqlite_url) == {call.uuid: "waiting"})
        gevent.sleep(0.5)  # the caller is well into the prompt

        set_status(sqlite_url, "ann", "Available")

        assert wait_until(lambda: agent_rows(sqlite_url)["ann"].calls_answered == 1, timeout=20)
        call.wait(30)
        site.wait_idle()


def test_an_agent_whose_phone_is_busy_rests_for_the_queues_busy_delay(sqlite_url, tmp_path):
    """mod_callcenter's busy_delay_time: a busy phone is not rung again at once (nor benched by repeats)."""
    settings = acd_settings(sqlite_url, tmp_path)
    add_agents(sqlite_url, {"ann": ("1001", "cardio")})
    queue(sqlite_url, busy_delay_seconds=60)
    with AcdSite(settings, {"1001": AgentEndpoint(answer_after=1, reject_cause="USER_BUSY")}) as site:
        call = site.switch.place_call(CallerScript("13800000001", "7000", [], hangup_after=150, context="public"))
        assert call.wait(30) is not None
        site.wait_idle()
    assert [(kind, agent) for _, kind, agent in events(sqlite_url)] == [
        ("entered", None),
        ("offered", "ann"),
        ("no_answer", "ann"),
        ("abandoned", None),
    ]
    ann = agent_rows(sqlite_url)["ann"]
    assert ann.status == "available" and ann.state == "resting" and ann.no_answer_count == 1
    assert 50 < (ann.reserved_until - ann.state_since).total_seconds() <= 60
