"""The expected wait a queued caller is told: their place times the queue's recent handle time, shared among
the qualified agents logged in; nothing when nobody is logged in or nothing was handled lately."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ccctl.acd.agents import add_agent, set_status
from ccctl.acd.queue_rules import QueueRules
from ccctl.acd.wait_estimate import expected_wait_minutes, expected_wait_seconds
from ccctl.records.database import make_engine
from ccctl.records.models.acd import QueueEvent

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


def handled(call: str, started: datetime, talk: float, wrapup: float) -> list[QueueEvent]:
    ended = started + timedelta(seconds=talk)
    return [
        QueueEvent(at=started, queue="cardio", call_uuid=call, kind="answered", agent_id=1),
        QueueEvent(at=ended, queue="cardio", call_uuid=call, kind="ended", agent_id=1),
        QueueEvent(at=ended + timedelta(seconds=wrapup), queue="cardio", call_uuid=call, kind="wrapup_end", agent_id=1),
    ]


def estimate(url: str, position: int) -> float | None:
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            return expected_wait_seconds(session, QueueRules("cardio", {"cardio": 3}), position, NOW)
    finally:
        engine.dispose()


def test_the_wait_is_the_place_times_the_recent_handle_time_over_the_qualified_agents(sqlite_url):
    for name, extension, skills in [("ann", "1001", {"cardio": 5}), ("bob", "1002", {"cardio": 3}),
                                    ("cid", "1003", {"cardio": 1}), ("dan", "1004", {"cardio": 5})]:  # fmt: skip
        add_agent(sqlite_url, name, extension, skills)
    for name in ("ann", "bob", "cid"):
        set_status(sqlite_url, name, "Available")  # cid lacks the level, dan is logged out
    assert estimate(sqlite_url, 3) is None  # nothing handled lately: no estimate

    engine = make_engine(sqlite_url)
    with Session(engine) as session, session.begin():
        session.add_all(handled("a", NOW - timedelta(hours=1), talk=200, wrapup=40))
        session.add_all(handled("b", NOW - timedelta(hours=2), talk=100, wrapup=20))
        session.add_all(handled("old", NOW - timedelta(hours=20), talk=3000, wrapup=0))  # not recent
        assert session.scalar(select(QueueEvent.id).limit(1))
    engine.dispose()

    # (240 + 120) / 2 = 180 s a call; three callers for two agents
    assert estimate(sqlite_url, 3) == 270.0
    assert expected_wait_minutes(270.0) == 5
    assert expected_wait_minutes(20.0) == 1

    for name in ("ann", "bob"):
        set_status(sqlite_url, name, "Logged Out")
    assert estimate(sqlite_url, 3) is None
