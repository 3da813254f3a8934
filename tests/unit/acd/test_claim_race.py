"""Two ACD engines (two controllers) on one PostgreSQL racing for the same agents: no double offer.

Each engine runs its own router loop and database thread, so their claims meet in PostgreSQL at the same
moment; the queue events written over the whole run are then counted per agent and per caller.
"""

from __future__ import annotations

from collections import defaultdict

import gevent
from sqlalchemy import select
from sqlalchemy.orm import Session

from ccctl.acd import store
from ccctl.acd.adoption import ADOPTING, claim_orphan
from ccctl.acd.agents import add_agent, add_queue, parse_skills, set_status
from ccctl.acd.engine import AcdEngine
from ccctl.config import AcdSettings
from ccctl.records.database import make_engine
from ccctl.records.models.acd import Agent, QueueEntry, QueueEvent

CALLERS_PER_ENGINE = 60
AGENTS = 8


def test_two_engines_never_offer_one_agent_two_callers_nor_one_caller_twice(postgres_url):
    for n in range(AGENTS):
        add_agent(postgres_url, f"agent{n}", f"10{n:02d}", parse_skills("cardio:1,neuro:1"))
        set_status(postgres_url, f"agent{n}", "Available")
    add_queue(postgres_url, "cardio", "longest-idle-agent", {"cardio": 1}, {"no_answer_timeout": 5})
    add_queue(postgres_url, "neuro", "ring-all", {"neuro": 1}, {"no_answer_timeout": 5})
    settings = AcdSettings(router_tick_seconds=0.01, heartbeat_seconds=60)
    engines = [AcdEngine(postgres_url, settings), AcdEngine(postgres_url, settings)]
    for acd in engines:
        acd.start()
    try:
        callers = [
            gevent.spawn(one_caller, acd, f"{name}-{n}", "neuro" if n % 4 == 0 else "cardio")
            for name, acd in zip("ab", engines, strict=True)
            for n in range(CALLERS_PER_ENGINE)
        ]
        gevent.joinall(callers, timeout=60, raise_error=True)
    finally:
        for acd in engines:
            acd.stop()
    assert all(c.successful() for c in callers)

    events = read_events(postgres_url)
    offered = [e for e in events if e.kind == "offered"]
    assert len({e.call_uuid for e in offered}) == 2 * CALLERS_PER_ENGINE  # every caller was offered
    # one caller, one offer: a ring-all offer lists several agents, all at one moment, each once
    by_caller = defaultdict(list)
    for e in offered:
        by_caller[e.call_uuid].append(e)
    assert [uuid for uuid, offers in by_caller.items() if len({o.at for o in offers}) != 1] == []
    assert [uuid for uuid, offers in by_caller.items() if len({o.agent_id for o in offers}) != len(offers)] == []
    # one agent, one caller at a time: before their next offer, the previous caller let them go (the
    # offered event's time is taken after the claim, the abandon's before the agents are released)
    released = {e.call_uuid: e.at for e in events if e.kind == "abandoned"}
    by_agent = defaultdict(list)
    for e in sorted(offered, key=lambda e: e.at):
        by_agent[e.agent_id].append(e)
    doubles = [
        (earlier.call_uuid, later.call_uuid)
        for offers in by_agent.values()
        for earlier, later in zip(offers, offers[1:], strict=False)
        if not earlier.at <= released[earlier.call_uuid] <= later.at
    ]
    assert doubles == []
    assert sum(len(offers) for offers in by_agent.values()) > AGENTS  # agents were offered again and again


def one_caller(acd: AcdEngine, call_uuid: str, queue: str) -> None:
    """A queued caller as the hold steps drive it: waits for its offer, rings, then hangs up."""
    ticket = acd.enqueue(queue, call_uuid, 0, None)
    assert ticket.entry_id, ticket.refused
    offer = None
    while offer is None:
        gevent.sleep(0.005)
        offer = acd.offer_for(ticket.entry_id)
    acd.calls.offered(ticket.entry_id, call_uuid, offer.agents)
    gevent.sleep(0.01)  # ringing; its offered events are written meanwhile
    acd.calls.call_finished(call_uuid)


def read_events(url: str) -> list[QueueEvent]:
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            return list(session.scalars(select(QueueEvent).order_by(QueueEvent.id)))
    finally:
        engine.dispose()


def test_a_caller_held_by_another_process_cannot_be_claimed_here(postgres_url):
    add_agent(postgres_url, "ann", "1001", parse_skills("cardio:1"))
    set_status(postgres_url, "ann", "Available")
    add_queue(postgres_url, "cardio", "longest-idle-agent", {"cardio": 1}, {})
    holder = AcdEngine(postgres_url, AcdSettings())
    try:
        ticket = holder.enqueue("cardio", "call-1", 0, None)
        engine = make_engine(postgres_url)
        with Session(engine) as session:
            now, ann = holder.clock(), session.scalar(select(Agent.id))
            assert not store.claim(session, ticket.entry_id, [ann], now, 30, owner="other-process")
            assert session.get(QueueEntry, ticket.entry_id).status == "waiting"
            assert session.get(Agent, ann).state == "idle"
            assert store.claim(session, ticket.entry_id, [ann], now, 30, owner=holder.instance_id)
            session.expire_all()
            assert session.get(QueueEntry, ticket.entry_id).status == "offered"
        engine.dispose()
    finally:
        holder.stop()


def test_a_dead_process_caller_is_taken_by_one_live_process_and_its_agent_freed(db_url):
    add_agent(db_url, "ann", "1001", parse_skills("cardio:1"))
    set_status(db_url, "ann", "Available")
    add_queue(db_url, "cardio", "longest-idle-agent", {"cardio": 1}, {})
    dead = AcdEngine(db_url, AcdSettings())
    try:
        ticket = dead.enqueue("cardio", "call-1", 0, None)
        assert dead.route_once()  # ann reserved for the caller, then the process dies
        now = dead.clock()
        with Session(dead.engine) as session:
            assert session.scalar(select(Agent.state)) == "reserved"
            first = claim_orphan(session, ticket.entry_id, dead.instance_id, "live-1", now)
            second = claim_orphan(session, ticket.entry_id, dead.instance_id, "live-2", now)
            session.commit()
            entry = session.get(QueueEntry, ticket.entry_id)
            assert (first, second) == (True, False)
            assert (entry.status, entry.owner) == ("waiting", ADOPTING + "live-1")
            assert session.scalar(select(Agent.state)) == "idle"
    finally:
        dead.stop()
