"""The ACD engine on a real database without sockets: claims, priority, expiry of reservations, snapshot."""

from __future__ import annotations

from datetime import UTC, datetime

import gevent
import pytest
from settable_clock import SettableClock

from ccctl.acd.agents import AgentError, add_agent, add_queue, list_agents, parse_skills, set_status
from ccctl.acd.engine import BREAK_ATTEMPTS, AcdEngine
from ccctl.config import AcdSettings

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock():
    return SettableClock(T0)


@pytest.fixture
def acd(db_url, clock):
    engine = AcdEngine(db_url, AcdSettings(reservation_seconds=10), clock=clock)
    yield engine
    engine.stop()


def setup_site(url: str, agents: dict[str, str], strategy: str = "longest-idle-agent") -> None:
    for n, (name, skills) in enumerate(agents.items()):
        add_agent(url, name, f"10{n:02d}", parse_skills(skills))
        set_status(url, name, "Available")
    add_queue(url, "cardio", strategy, {"cardio": 1}, {"no_answer_timeout": 5})


def test_higher_priority_caller_is_served_first(db_url, acd, clock):
    setup_site(db_url, {"ann": "cardio"})
    first = acd.enqueue("cardio", "call-1", 0, None)
    clock.advance(5)
    urgent = acd.enqueue("cardio", "call-2", 5, None)
    assert acd.position(urgent.entry_id) == 1 and acd.position(first.entry_id) == 2
    made = acd.route_once()
    assert [(m.entry_id, m.agents[0].name) for m in made] == [(urgent.entry_id, "ann")]
    assert acd.offer_for(urgent.entry_id).agents[0].name == "ann"
    assert acd.offer_for(first.entry_id) is None


def test_a_reserved_agent_is_not_offered_twice_until_the_reservation_lapses(db_url, acd, clock):
    setup_site(db_url, {"ann": "cardio"})
    one = acd.enqueue("cardio", "call-1", 0, None)
    two = acd.enqueue("cardio", "call-2", 0, None)
    assert [m.entry_id for m in acd.route_once()] == [one.entry_id]
    assert acd.route_once() == []
    clock.advance(16)  # reservation (10 s) + no-answer timeout (5 s) passed: a crashed process frees the agent
    assert [m.entry_id for m in acd.route_once()] == [two.entry_id]


def test_a_full_queue_and_an_unknown_queue_refuse_the_caller(db_url, acd):
    setup_site(db_url, {})
    add_queue(db_url, "small", "ring-all", {}, {"max_length": 1})
    assert acd.enqueue("small", "call-1", 0, None).refused == ""
    assert acd.enqueue("small", "call-2", 0, None).refused == "full"
    assert "no queue named 'nope'" in acd.enqueue("nope", "call-3", 0, None).refused


def test_abandoned_caller_frees_the_agent_reserved_for_them(db_url, acd):
    setup_site(db_url, {"ann": "cardio"})
    one = acd.enqueue("cardio", "call-1", 0, None)
    acd.route_once()
    acd.calls.call_finished("call-1")
    two = acd.enqueue("cardio", "call-2", 0, None)
    assert [m.entry_id for m in acd.route_once()] == [two.entry_id]
    assert one.entry_id != two.entry_id


def test_a_caller_who_leaves_after_the_router_claimed_an_agent_frees_that_agent_at_once(db_url, acd):
    setup_site(db_url, {"ann": "cardio"})
    late = acd.enqueue("cardio", "call-1", 0, None)
    assert [m.entry_id for m in acd.route_once()] == [late.entry_id]  # ann reserved for the caller...
    acd.calls.left(late.entry_id, "timeout")  # ...whose hold steps had already found no offer and gave up
    assert acd.offer_for(late.entry_id) is None
    two = acd.enqueue("cardio", "call-2", 0, None)
    assert [(m.entry_id, m.agents[0].name) for m in acd.route_once()] == [(two.entry_id, "ann")]


def test_snapshot_shows_waiting_callers_and_agents(db_url, acd, clock):
    setup_site(db_url, {"ann": "cardio", "bob": "cardio"})
    set_status(db_url, "bob", "On Break")
    acd.enqueue("cardio", "call-1", 3, 42)
    clock.advance(12)
    snap = acd.snapshot()
    assert snap["queues"] == [
        {
            "name": "cardio",
            "waiting": [{"call_uuid": "call-1", "wait_seconds": 12.0, "priority": 3, "channel": "voice"}],
            "waiting_by_channel": {"voice": 1},
            "longest_wait_seconds": 12.0,
            "agents_by_state": {"idle": 2},
            "service_level_today": None,
            "abandoned_today": 0,
            "answered_today": 0,
            "answered_today_by_channel": {},
        }
    ]
    assert [(a["name"], a["status"], a["state"], a["call_uuid"]) for a in snap["agents"]] == [
        ("ann", "available", "idle", None),
        ("bob", "on_break", "idle", None),
    ]


def test_agent_commands_name_what_is_wrong(db_url):
    with pytest.raises(AgentError, match="no agent named 'zed'"):
        set_status(db_url, "zed", "Available")
    with pytest.raises(AgentError, match="status 'asleep'"):
        set_status(db_url, "zed", "asleep")
    with pytest.raises(AgentError, match="skill 'cardio:high'"):
        parse_skills("cardio:high")
    add_agent(db_url, "ann", "1001", {"cardio": 4})
    with pytest.raises(AgentError, match="exists already"):
        add_agent(db_url, "ann", "1002", {})
    assert [(a.name, a.status, a.skills) for a in list_agents(db_url)] == [("ann", "logged_out", {"cardio": 4})]


class RecordingInbound:
    """The inbound connection as the router uses it for uuid_break: every api command it was given."""

    def __init__(self) -> None:
        self.commands: list[str] = []

    def api(self, command: str, timeout: float = 5) -> str:
        self.commands.append(command)
        return "+OK\n"


def test_the_hold_prompt_break_is_sent_again_until_the_caller_takes_the_offer(db_url, acd):
    setup_site(db_url, {"ann": "cardio"})
    acd.inbound, acd.break_retry_seconds = RecordingInbound(), 0.05
    ticket = acd.enqueue("cardio", "call-1", 0, None)
    acd.route_once()
    gevent.sleep(0.12)  # the first break landed between two prompts: the offer is still not taken
    assert acd.inbound.commands[:2] == ["uuid_break call-1", "uuid_break call-1"]
    assert acd.offer_for(ticket.entry_id) is not None  # the caller's greenlet rings ann now
    gevent.sleep(0.5)  # longer than every attempt together
    assert set(acd.inbound.commands) == {"uuid_break call-1"}
    assert len(acd.inbound.commands) < BREAK_ATTEMPTS  # none once the offer was taken
