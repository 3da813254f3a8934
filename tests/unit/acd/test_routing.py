"""Routing decisions: each strategy's order, skills and levels, overflow levels, caller priority."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from ccctl.acd.model import AgentCandidate, WaitingCaller
from ccctl.acd.queue_rules import QueueRules, QueueRulesError, build_rules
from ccctl.acd.routing import plan_assignments

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def agents() -> list[AgentCandidate]:
    return [
        AgentCandidate(1, "ann", "1001", {"cardio": 2}, idle_since=at(30), last_offered_at=at(5), calls_answered=4,
                       talk_seconds=900),
        AgentCandidate(2, "bob", "1002", {"cardio": 5}, idle_since=at(10), last_offered_at=at(20), calls_answered=9,
                       talk_seconds=100),
        AgentCandidate(3, "cid", "1003", {"cardio": 3}, idle_since=at(20), last_offered_at=at(1), calls_answered=1,
                       talk_seconds=500),
    ]  # fmt: skip


def one_caller_gets(strategy: str, seed: int = 1) -> list[str]:
    queues = {"q": QueueRules("q", {"cardio": 1}, strategy)}
    plan = plan_assignments([WaitingCaller(1, "q", 0, at(40))], agents(), queues, random.Random(seed))
    return [a.name for a in plan[0].agents]


@pytest.mark.parametrize(
    ("strategy", "expected"),
    [
        ("longest-idle-agent", ["bob"]),  # idle since 10 s
        ("round-robin", ["cid"]),  # offered a call longest ago
        ("top-down", ["ann"]),  # first in the list
        ("agent-with-least-talk-time", ["bob"]),
        ("agent-with-fewest-calls", ["cid"]),
        ("best-skill-match", ["bob"]),  # level 5
        ("ring-all", ["bob", "cid", "ann"]),  # everyone, longest idle first
    ],
)
def test_each_strategy_picks_its_agent(strategy, expected):
    assert one_caller_gets(strategy) == expected


def test_random_spreads_callers_over_every_agent():
    picked = {one_caller_gets("random", seed)[0] for seed in range(30)}
    assert picked == {"ann", "bob", "cid"}


def test_agents_without_the_skill_level_are_not_offered():
    queues = {"q": QueueRules("q", {"cardio": 3})}
    plan = plan_assignments([WaitingCaller(1, "q", 0, at(40))], agents()[:1], queues)
    assert plan == []


def test_overflow_level_widens_to_lower_skilled_agents():
    queues = {"q": QueueRules("q", {"cardio": 3})}
    plan = plan_assignments([WaitingCaller(1, "q", 0, at(40), min_level=2)], agents()[:1], queues)
    assert [a.name for a in plan[0].agents] == ["ann"]


def test_every_required_skill_is_needed():
    queues = {"q": QueueRules("q", {"cardio": 1, "spanish": 1})}
    team = agents()
    team[2].skills["spanish"] = 1
    plan = plan_assignments([WaitingCaller(1, "q", 0, at(40))], team, queues)
    assert [a.name for a in plan[0].agents] == ["cid"]


def test_priority_goes_ahead_of_arrival_and_each_agent_is_used_once():
    queues = {"q": QueueRules("q", {"cardio": 1})}
    callers = [WaitingCaller(1, "q", 0, at(0)), WaitingCaller(2, "q", 5, at(30)), WaitingCaller(3, "q", 0, at(10))]
    plan = plan_assignments(callers, agents()[:2], queues)
    assert [(p.entry_id, p.agents[0].name) for p in plan] == [(2, "bob"), (1, "ann")]


def test_a_higher_priority_queue_is_served_first_by_an_agent_of_both():
    queues = {
        "routine": QueueRules("routine", {"cardio": 1}),
        "urgent": QueueRules("urgent", {"cardio": 1}, priority=5),
    }
    callers = [WaitingCaller(1, "routine", 9, at(0)), WaitingCaller(2, "urgent", 0, at(30))]
    plan = plan_assignments(callers, agents()[:1], queues)
    # before the routine caller who came earlier with a higher caller priority
    assert [(p.entry_id, p.agents[0].name) for p in plan] == [(2, "ann")]


def test_callers_of_an_unknown_queue_wait_without_blocking_others():
    queues = {"q": QueueRules("q", {"cardio": 1})}
    callers = [WaitingCaller(1, "gone", 9, at(0)), WaitingCaller(2, "q", 0, at(5))]
    assert [p.entry_id for p in plan_assignments(callers, agents(), queues)] == [2]


def test_bad_queue_settings_name_the_queue_and_key():
    with pytest.raises(QueueRulesError, match="queue 'q': max_wait_seconds='soon' is not a float"):
        build_rules("q", "ring-all", {}, {"max_wait_seconds": "soon"})
    with pytest.raises(QueueRulesError, match="queue 'q': strategy 'fastest'"):
        build_rules("q", "fastest", {}, {})
    with pytest.raises(QueueRulesError, match="unknown setting 'colour'"):
        build_rules("q", "ring-all", {}, {"colour": 1})


def test_sip_contacts_become_dial_strings():
    from ccctl.acd.registrations import contact_dial_string

    assert (
        contact_dial_string("internal", '"1001" <sip:1001@10.0.0.5:5060;ob>') == "sofia/internal/sip:1001@10.0.0.5:5060"
    )
    assert contact_dial_string("internal", "<sips:ann@pbx.example>") == "sofia/internal/sips:ann@pbx.example"
    assert contact_dial_string("internal", "garbage") == ""
