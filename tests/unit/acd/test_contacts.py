"""Chats and tasks through the ACD engine on a real database (SQLite and PostgreSQL), without sockets:
queue_contact, the offer event, accept, finish, transfer, an offer not taken in time, and the KPIs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from settable_clock import SettableClock
from sqlalchemy import select
from sqlalchemy.orm import Session

from ccctl.acd.agents import add_agent, add_queue, parse_skills, set_status
from ccctl.acd.contact_store import ContactError
from ccctl.acd.engine import AcdEngine
from ccctl.config import AcdSettings
from ccctl.records.database import make_engine
from ccctl.records.models.acd import Agent, QueueEvent
from ccctl.reports.kpi import compute_kpis

T0 = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock():
    return SettableClock(T0)


@pytest.fixture
def acd(db_url, clock):
    engine = AcdEngine(db_url, AcdSettings(reservation_seconds=10), clock=clock)
    events: list[dict] = []
    engine.add_listener(events.append)
    engine.events = events
    yield engine
    engine.stop()


def site(url: str, agents: dict[str, str]) -> None:
    for n, (name, skills) in enumerate(agents.items()):
        add_agent(url, name, f"10{n:02d}", parse_skills(skills))
        set_status(url, name, "Available")
    add_queue(url, "cardio", "longest-idle-agent", {"cardio": 1}, {"no_answer_timeout": 5})
    add_queue(url, "derma", "longest-idle-agent", {"derma": 1}, {})


def offers(acd) -> list[tuple]:
    return [(e["agent"], e["channel"], e["contact_ref"]) for e in acd.events if e["type"] == "offer"]


def wait_offers(acd, count: int) -> list[tuple]:
    import gevent

    for _ in range(100):
        if len(offers(acd)) >= count:
            break
        gevent.sleep(0.01)
    return offers(acd)


def open_chats(url: str, name: str) -> int:
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            return session.scalar(select(Agent.chats_open).where(Agent.name == name))
    finally:
        engine.dispose()


def test_a_chat_is_offered_accepted_and_finished_and_counts_in_the_kpis(db_url, acd, clock):
    site(db_url, {"ann": "cardio"})
    entry = acd.queue_contact("cardio", "chat", "session-1", None, 0)
    assert [m.entry_id for m in acd.route_once()] == [entry]
    assert wait_offers(acd, 1) == [("ann", "chat", "session-1")]
    assert open_chats(db_url, "ann") == 1
    clock.advance(4)
    acd.accept(entry, "ann")
    clock.advance(60)
    acd.finish(entry, "ann", "answered by article")
    assert open_chats(db_url, "ann") == 0
    engine = make_engine(db_url)
    try:
        with Session(engine) as session:
            query = select(QueueEvent).where(QueueEvent.call_uuid != "").order_by(QueueEvent.id)
            kinds = [(e.kind, e.channel) for e in session.scalars(query)]
            chat = compute_kpis(session, T0, T0 + timedelta(days=1), channel="chat", now=clock.now)
            voice = compute_kpis(session, T0, T0 + timedelta(days=1), channel="voice", now=clock.now)
    finally:
        engine.dispose()
    assert [k for k, _ in kinds] == ["entered", "offered", "answered", "ended", "wrapup_end"]
    assert {c for _, c in kinds} == {"chat"}
    assert (chat.offered, chat.answered, chat.asa_seconds, chat.aht_seconds) == (1, 1, 4.0, 60.0)
    assert voice.offered == 0


def test_three_chats_then_the_agent_is_full_and_gets_no_call(db_url, acd, clock):
    site(db_url, {"ann": "cardio"})
    chats = [acd.queue_contact("cardio", "chat", f"s{n}", None, 0) for n in range(4)]
    call = acd.enqueue("cardio", "call-1", 0, None)
    made = acd.route_once()
    assert [m.entry_id for m in made] == chats[:3]  # the fourth chat and the call wait
    assert acd.route_once() == []
    acd.accept(chats[0], "ann")
    acd.finish(chats[0], "ann")
    assert [m.entry_id for m in acd.route_once()] == [chats[3]]  # room for one chat; three open again
    acd.accept(chats[1], "ann")
    acd.finish(chats[1], "ann")
    assert acd.route_once() == []  # two chats open: no call beyond max_chats_for_call (1)
    acd.accept(chats[2], "ann")
    acd.finish(chats[2], "ann")
    assert [m.entry_id for m in acd.route_once()] == [call.entry_id]


def test_a_chat_is_transferred_to_a_colleague_or_a_queue(db_url, acd, clock):
    site(db_url, {"ann": "cardio,derma", "bob": "cardio,derma"})
    entry = acd.queue_contact("cardio", "chat", "s1", 42, 0)
    acd.route_once()
    first = wait_offers(acd, 1)[0][0]
    other = "bob" if first == "ann" else "ann"
    acd.accept(entry, first)
    acd.transfer_contact(entry, to_agent=other)
    assert offers(acd)[-1] == (other, "chat", "s1")
    assert (open_chats(db_url, first), open_chats(db_url, other)) == (0, 1)
    acd.accept(entry, other)
    acd.transfer_contact(entry, to_queue="derma")
    assert (open_chats(db_url, first), open_chats(db_url, other)) == (0, 0)
    assert [m.queue for m in acd.route_once()] == ["derma"]
    with pytest.raises(ContactError, match="no queue named 'nope'"):
        acd.transfer_contact(entry, to_queue="nope")


def test_an_offer_not_accepted_in_time_goes_back_in_line(db_url, acd, clock):
    import gevent

    site(db_url, {"ann": "cardio"})
    entry = acd.queue_contact("cardio", "task", "inbox-7", None, 0)
    acd.route_once()
    acd.contacts._deadlines[entry] = 0  # the queue's no_answer_timeout has passed
    for _ in range(150):
        if acd.route_once():
            break
        gevent.sleep(0.02)
    assert wait_offers(acd, 2) == [("ann", "task", "inbox-7"), ("ann", "task", "inbox-7")]


def test_queue_contact_names_what_is_wrong(db_url, acd):
    site(db_url, {})
    with pytest.raises(ContactError, match="no queue named 'nope'"):
        acd.queue_contact("nope", "chat", "s1", None, 0)
    with pytest.raises(ContactError, match="channel 'fax'"):
        acd.queue_contact("cardio", "fax", "s1", None, 0)
    acd.queue_contact("cardio", "chat", "s1", None, 0)
    with pytest.raises(ContactError, match="chat 's1' is in queue 'cardio' already"):
        acd.queue_contact("cardio", "chat", "s1", None, 0)
    with pytest.raises(ContactError, match="no agent named 'nobody'"):
        acd.accept(1, "nobody")


def test_the_wallboard_snapshot_shows_each_channel(db_url, acd, clock):
    site(db_url, {"ann": "cardio"})
    acd.enqueue("cardio", "call-1", 0, None)
    chat = acd.queue_contact("cardio", "chat", "s1", None, 0)
    acd.queue_contact("cardio", "task", "inbox-3", None, 0)
    acd.route_once()  # the call takes ann's phone first; the chat waits for her
    clock.advance(3)
    snapshot = acd.snapshot()
    cardio = snapshot["queues"][0]
    assert cardio["waiting_by_channel"] == {"chat": 1, "task": 1}
    assert sorted(w["channel"] for w in cardio["waiting"]) == ["chat", "task", "voice"]
    assert chat and snapshot["agents"][0]["chats_open"] == 0


def test_a_callers_position_counts_the_callers_ahead_not_the_chats(db_url, acd, clock):
    site(db_url, {})
    acd.queue_contact("cardio", "chat", "s1", None, 0)
    first = acd.enqueue("cardio", "call-1", 0, None)
    clock.advance(1)
    acd.queue_contact("cardio", "chat", "s2", None, 5)
    second = acd.enqueue("cardio", "call-2", 0, None)
    assert (acd.position(first.entry_id), acd.position(second.entry_id)) == (1, 2)


def test_a_chat_closed_by_the_patient_is_abandoned_before_accept_and_answered_after(db_url, acd, clock):
    site(db_url, {"ann": "cardio"})
    waiting = acd.queue_contact("cardio", "chat", "s1", None, 0)
    acd.leave_contact(waiting)
    talked = acd.queue_contact("cardio", "chat", "s2", None, 0)
    acd.route_once()
    acd.accept(talked, "ann")
    clock.advance(30)
    acd.leave_contact(talked)
    assert open_chats(db_url, "ann") == 0
    engine = make_engine(db_url)
    try:
        with Session(engine) as session:
            kpi = compute_kpis(session, T0, T0 + timedelta(days=1), channel="chat", now=clock.now)
    finally:
        engine.dispose()
    assert (kpi.offered, kpi.answered, kpi.abandoned, kpi.aht_seconds) == (2, 1, 1, 30.0)


class NoSwitch:
    """Adoption's switch client: no call is left on it (only chats are taken over here)."""

    def api(self, command: str, timeout: float = 5) -> str:
        return "false"


def test_the_chats_of_a_stopped_process_are_taken_over_by_a_live_one(db_url, acd, clock):
    from ccctl.acd.adoption import adopt_orphans

    site(db_url, {"ann": "cardio"})
    acd._beat()
    entry = acd.queue_contact("cardio", "chat", "s1", None, 0)
    survivor = AcdEngine(db_url, AcdSettings(reservation_seconds=10), clock=clock)
    try:
        survivor._beat()
        assert survivor.route_once() == []  # the chat is the other process's while it lives
        acd.stop()  # its heartbeat goes at once
        adopt_orphans(survivor, NoSwitch(), "127.0.0.1:8084")
        assert [m.entry_id for m in survivor.route_once()] == [entry]
    finally:
        survivor.stop()
