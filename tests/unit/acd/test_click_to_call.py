"""Click-to-call: a worklist callback pinned to one agent is dialled for that agent alone, at once; two agents
(or an agent and the router) never take one callback; a failed try puts it back on the worklist, resting."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import gevent
import pytest
from settable_clock import SettableClock
from sqlalchemy import select

from ccctl.acd.agents import add_agent, add_queue, parse_skills, set_status
from ccctl.acd.callbacks import CallbackError, list_callbacks
from ccctl.acd.click_to_call import call_now, place_for_agent
from ccctl.acd.engine import AcdEngine
from ccctl.config import AcdSettings
from ccctl.records.database import in_transaction
from ccctl.records.models.acd import Agent, QueueEntry, QueueEvent

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock():
    return SettableClock(T0)


@pytest.fixture
def acd(db_url, clock):
    engine = AcdEngine(db_url, AcdSettings(reservation_seconds=10, callback_retry_minutes=10), clock=clock)
    add_queue(db_url, "cardio", "longest-idle-agent", {"cardio": 1}, {"callback_key": "1"})
    for name, extension in (("ann", "1001"), ("bob", "1002")):
        add_agent(db_url, name, extension, parse_skills("cardio"))
        set_status(db_url, name, "Available")
    yield engine
    engine.stop()


def ask_callback(acd, clock, uuid: str, number: str) -> int:
    ticket = acd.enqueue("cardio", uuid, 0, None)
    acd.calls.request_callback(ticket.entry_id, number)
    return ticket.entry_id


def rows(url: str, query) -> list[tuple]:
    return in_transaction(url, RuntimeError, lambda s: [tuple(r) for r in s.execute(query)])


def test_a_pinned_callback_is_offered_to_its_agent_only_and_before_older_callers(db_url, acd, clock):
    older = ask_callback(acd, clock, "call-1", "+48601000001")
    clock.now += timedelta(minutes=1)
    younger = ask_callback(acd, clock, "call-2", "+48601000002")
    # bob is longest idle and would take the older caller first; he asks for the younger one
    row = call_now(db_url, younger, "bob", "bob", "test")
    assert (row.state, row.agent) == ("calling", "bob")
    assert [(r.id, r.state, r.agent) for r in list_callbacks(db_url)] == [
        (older, "pending", ""),
        (younger, "calling", "bob"),
    ]
    acd.callback_socket = None  # no switch: the dialling itself is the emulator tests' business
    made = acd.route_once()
    offers = {a.entry_id: [agent.name for agent in a.agents] for a in made}
    assert offers == {younger: ["bob"], older: ["ann"]}


def test_two_agents_never_pin_one_callback_and_a_busy_agent_pins_none(db_url, acd, clock):
    entry = ask_callback(acd, clock, "call-1", "+48601000001")
    call_now(db_url, entry, "ann", "ann", "test")
    with pytest.raises(CallbackError, match=f"callback {entry} is being called by agent ann already"):
        call_now(db_url, entry, "bob", "bob", "test")
    other = ask_callback(acd, clock, "call-2", "+48601000002")
    with pytest.raises(CallbackError, match="agent ann is not free for a call now"):
        call_now(db_url, other, "ann", "ann", "test")  # reserved for the first one
    set_status(db_url, "bob", "On Break")
    with pytest.raises(CallbackError, match="agent bob is not Available"):
        call_now(db_url, other, "bob", "bob", "test")
    assert rows(db_url, select(QueueEntry.id, QueueEntry.pinned_agent_id).order_by(QueueEntry.id)) == [
        (entry, rows(db_url, select(Agent.id).where(Agent.name == "ann"))[0][0]),
        (other, None),
    ]


def test_a_failed_click_to_call_goes_back_on_the_worklist_with_its_attempt_and_rests(db_url, acd, clock):
    entry = ask_callback(acd, clock, "call-1", "+48601000001")
    set_status(db_url, "ann", "On Break")  # only bob could take it
    call_now(db_url, entry, "bob", "bob", "test")
    assert [a.entry_id for a in acd.route_once()] == [entry]
    # no switch connection here: the dialling fails as a no-answer would
    assert wait_for(lambda: list_callbacks(db_url)[0].state == "pending")
    (row,) = list_callbacks(db_url)
    assert (row.attempts, row.agent, row.last_attempt) == (1, "", "no inbound ESL connection to place the call")
    assert row.not_before == T0 + timedelta(minutes=10)
    kinds = [k for (k,) in rows(db_url, select(QueueEvent.kind).where(QueueEvent.call_uuid == "call-1"))]
    assert kinds[-3:] == ["callback_pinned", "callback_failed", "callback_unpinned"]
    assert acd.route_once() == []  # not dialled again at once by anyone
    clock.now += timedelta(minutes=11)
    assert [a.entry_id for a in acd.route_once()] == [entry]


def test_place_for_agent_files_a_pinned_callback_or_pins_the_open_one(db_url, acd, clock):
    open_one = ask_callback(acd, clock, "call-1", "+48601000001")

    def place(number: str, agent: str) -> int:
        return in_transaction(
            db_url, CallbackError, lambda s: place_for_agent(s, agent, number, None, "preview", "sys", "test")
        )

    assert place("+48601000001", "ann") == open_one
    new = place("+48601000009", "bob")
    assert [(r.id, r.state, r.agent) for r in list_callbacks(db_url)] == [
        (open_one, "calling", "ann"),
        (new, "calling", "bob"),
    ]
    with pytest.raises(CallbackError, match="^number: not phone digits"):
        place("12 34; drop", "ann")


def wait_for(condition, timeout: float = 5.0) -> bool:
    for _ in range(int(timeout / 0.02)):
        if condition():
            return True
        gevent.sleep(0.02)
    return condition()
