"""Routing calls, chats and tasks together: capacity per channel, the no-call-while-chatting rule, and the
same strategies, priorities and skills on every channel."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from ccctl.acd.model import AgentCandidate, Capacities, WaitingCaller
from ccctl.acd.queue_rules import QueueRules
from ccctl.acd.routing import plan_assignments

T0 = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)
DEFAULTS = Capacities(voice=1, chat=3, task=1, max_chats_for_call=1)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def agent(agent_id: int, name: str, chats: int = 0, tasks: int = 0, idle: float = 0, **capacity) -> AgentCandidate:
    candidate = AgentCandidate(agent_id, name, f"10{agent_id:02d}", {"cardio": 3}, idle_since=at(idle))
    candidate.chats_open, candidate.tasks_open, candidate.capacity = chats, tasks, capacity
    return candidate


def contact(entry_id: int, channel: str, entered: float = 0, priority: int = 0, queue: str = "q") -> WaitingCaller:
    return WaitingCaller(entry_id, queue, priority, at(entered), channel=channel)


def plan(callers, agents, strategy="longest-idle-agent", queues=None, capacities=DEFAULTS):
    queues = queues or {"q": QueueRules("q", {"cardio": 1}, strategy)}
    made = plan_assignments(callers, agents, queues, random.Random(1), capacities)
    return [(a.entry_id, [x.name for x in a.agents]) for a in made]


def test_an_agent_takes_chats_up_to_their_capacity_in_one_pass():
    chats = [contact(n, "chat", entered=n) for n in range(1, 5)]
    assert plan(chats, [agent(1, "ann")]) == [(1, ["ann"]), (2, ["ann"]), (3, ["ann"])]


def test_a_chat_goes_to_an_agent_who_already_has_two_chats():
    assert plan([contact(1, "chat")], [agent(1, "ann", chats=2)]) == [(1, ["ann"])]


def test_an_agent_at_chat_capacity_is_skipped_for_the_next_with_room():
    agents = [agent(1, "ann", chats=3, idle=0), agent(2, "bob", chats=1, idle=50)]
    assert plan([contact(1, "chat")], agents) == [(1, ["bob"])]


def test_an_agent_of_their_own_capacity_takes_more_or_fewer_chats_than_the_setting():
    chats = [contact(n, "chat", entered=n) for n in range(1, 6)]
    assert plan(chats, [agent(1, "ann", chat=5)]) == [(n, ["ann"]) for n in range(1, 6)]
    assert plan(chats, [agent(1, "ann", chat=0)]) == []


def test_no_call_while_chatting_beyond_the_setting():
    call = [contact(1, "voice")]
    assert plan(call, [agent(1, "ann", chats=1)]) == [(1, ["ann"])]
    assert plan(call, [agent(1, "ann", chats=2)]) == []
    allowed = Capacities(max_chats_for_call=2)
    assert plan(call, [agent(1, "ann", chats=2)], capacities=allowed) == [(1, ["ann"])]


def test_chats_given_in_this_pass_count_against_the_next_call():
    # two chats come first (earlier), so ann has two open chats when the call's turn comes
    work = [contact(1, "chat", entered=0), contact(2, "chat", entered=1), contact(3, "voice", entered=2)]
    agents = [agent(1, "ann"), agent(2, "bob", idle=50)]
    assert plan(work, agents) == [(1, ["ann"]), (2, ["ann"]), (3, ["bob"])]


def test_a_call_takes_the_agent_out_of_the_pass_and_a_chat_does_not():
    work = [contact(1, "voice", entered=0), contact(2, "chat", entered=1)]
    assert plan(work, [agent(1, "ann")]) == [(1, ["ann"])]
    work = [contact(1, "chat", entered=0), contact(2, "voice", entered=1)]
    assert plan(work, [agent(1, "ann")]) == [(1, ["ann"]), (2, ["ann"])]


def test_a_voice_only_agent_gets_no_chat_and_a_chat_only_agent_no_call():
    agents = [agent(1, "phone", chat=0), agent(2, "typist", voice=0, idle=50)]
    work = [contact(1, "chat", entered=0), contact(2, "voice", entered=1)]
    assert plan(work, agents) == [(1, ["typist"]), (2, ["phone"])]


def test_tasks_have_their_own_capacity_beside_chats():
    work = [contact(1, "task"), contact(2, "task", entered=1), contact(3, "chat", entered=2)]
    assert plan(work, [agent(1, "ann", chats=2)]) == [(1, ["ann"]), (3, ["ann"])]


def test_priority_and_skills_apply_to_chats():
    queues = {
        "q": QueueRules("q", {"cardio": 1}),
        "expert": QueueRules("expert", {"cardio": 5}),
    }
    work = [
        contact(1, "chat", entered=0),
        contact(2, "chat", entered=5, priority=3),
        contact(3, "chat", queue="expert"),
    ]
    made = plan(work, [agent(1, "ann", chat=1)], queues=queues)
    assert made == [(2, ["ann"])]  # the urgent chat first; ann lacks the expert level


def test_ring_all_offers_a_chat_to_one_agent():
    agents = [agent(1, "ann", idle=10), agent(2, "bob", idle=0)]
    assert plan([contact(1, "chat")], agents, strategy="ring-all") == [(1, ["bob"])]
    assert plan([contact(1, "voice")], agents, strategy="ring-all") == [(1, ["bob", "ann"])]


def test_strategies_rank_chat_agents_as_they_rank_callers():
    agents = [agent(1, "ann", idle=10), agent(2, "bob", idle=0)]
    assert plan([contact(1, "chat")], agents, strategy="top-down") == [(1, ["ann"])]
    assert plan([contact(1, "chat")], agents, strategy="longest-idle-agent") == [(1, ["bob"])]
