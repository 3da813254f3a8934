"""Calls and chats in one ACD through the emulator: a call still reaches an agent, a chat goes to an agent
who already has two, and an agent at chat capacity is skipped (no call while chatting beyond the setting)."""

from __future__ import annotations

from acd_site import AcdSite, acd_settings, add_agents, agent_rows, entries, queue, wait_until

from ccctl.acd.agents import set_capacity
from ccctl.sim.callers import CallerScript
from ccctl.sim.originate import AgentEndpoint


def offers(seen: list[dict]) -> list[tuple]:
    return [(e["agent"], e["channel"], e["contact_ref"]) for e in seen if e["type"] == "offer"]


def test_chats_and_a_call_share_the_agents_by_capacity(db_url, tmp_path):
    settings = acd_settings(db_url, tmp_path)
    add_agents(db_url, {"ann": ("1001", "cardio"), "bob": ("1002", "cardio")})
    set_capacity(db_url, "bob", {"chat": 0})  # bob takes calls only
    queue(db_url)
    phones = {"1001": AgentEndpoint(answer_after=1), "1002": AgentEndpoint(answer_after=1, talk_seconds=2)}
    with AcdSite(settings, phones) as site:
        acd, seen = site.controller.acd, []
        acd.add_listener(seen.append)
        first = [acd.queue_contact("cardio", "chat", f"s{n}", None, 0) for n in (1, 2)]
        assert wait_until(lambda: len(offers(seen)) == 2)
        for entry in first:
            acd.accept(entry, "ann")
        third = acd.queue_contact("cardio", "chat", "s3", None, 0)
        assert wait_until(lambda: len(offers(seen)) == 3)  # ann has two chats and room for a third
        acd.accept(third, "ann")
        fourth = acd.queue_contact("cardio", "chat", "s4", None, 0)
        outcome = site.switch.place_call(CallerScript("13800000001", "7000", [], context="public")).wait(90)
        site.wait_idle()
        waiting_chat = entries(db_url)["chat:s4"]
    assert offers(seen) == [("ann", "chat", "s1"), ("ann", "chat", "s2"), ("ann", "chat", "s3")]
    # ann, at chat capacity and beyond max_chats_for_call, is skipped: the call goes to bob
    assert outcome.answered
    assert [(e["type"], e["agent"], e["channel"]) for e in seen if e["type"] == "offered"] == [
        ("offered", "bob", "voice")
    ]
    assert waiting_chat == "waiting" and fourth not in first
    rows = agent_rows(db_url)
    assert (rows["ann"].chats_open, rows["ann"].calls_answered, rows["bob"].calls_answered) == (3, 0, 1)
