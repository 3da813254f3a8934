"""Agents registered through a lost node go on break, and come back when it answers, unless they changed it."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ccctl.acd.agents import add_agent, parse_skills, set_status
from ccctl.acd.node_loss import pause_agents, resume_agents
from ccctl.records.database import make_engine
from ccctl.records.models.acd import AcdAlarm, Agent

NOW = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)


def test_only_available_agents_of_the_lost_node_pause_and_only_those_still_paused_resume(db_url):
    for name, extension, status in (
        ("ann", "1001", "Available"),
        ("bob", "1002", "On Break"),
        ("cy", "1003", "Available"),
    ):
        add_agent(db_url, name, extension, parse_skills("cardio"))
        set_status(db_url, name, status)
    engine = make_engine(db_url)
    try:
        with Session(engine) as session, session.begin():
            assert pause_agents(session, ["1001", "1002"], "fs-b", NOW) == ["ann"]
            details = [a.detail for a in session.scalars(select(AcdAlarm).where(AcdAlarm.kind == "status"))]
            assert "on_break: FreeSWITCH node fs-b lost" in details
        set_status(db_url, "bob", "Available")  # bob came back on his own meanwhile
        with Session(engine) as session, session.begin():
            assert resume_agents(session, ["ann"], NOW) == ["ann"]
            statuses = {a.name: a.status for a in session.scalars(select(Agent))}
        assert statuses == {"ann": "available", "bob": "available", "cy": "available"}
    finally:
        engine.dispose()
