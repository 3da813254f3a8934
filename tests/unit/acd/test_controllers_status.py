"""Every controller on one database with its health: the rows behind `ccctl status` and the wallboard's alarm."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from ccctl.acd.adoption import DEAD_LISTED_SECONDS, controllers
from ccctl.config import AlarmThresholds
from ccctl.records.database import make_engine
from ccctl.records.models.acd import AcdProcess
from ccctl.serve.client import format_status
from ccctl.web.alarm_board import evaluate

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def test_controllers_are_alive_or_silent_by_their_heartbeat_and_long_dead_ones_are_forgotten(db_url):
    engine = make_engine(db_url)
    with Session(engine) as session:
        for name, age in (("a:1:x", 0.5), ("b:2:y", 4.0), ("c:3:z", DEAD_LISTED_SECONDS + 1)):
            session.add(AcdProcess(instance_id=name, seen_at=NOW - timedelta(seconds=age)))
        session.commit()
        rows = controllers(session, NOW, NOW - timedelta(seconds=3))
        session.commit()
    engine.dispose()
    assert rows == [
        {"instance": "a:1:x", "health": "alive", "seen_seconds_ago": 0.5},
        {"instance": "b:2:y", "health": "silent", "seen_seconds_ago": 4.0},
    ]


def test_a_silent_controller_is_an_alarm_and_a_status_line():
    status = {
        "controllers": [
            {"instance": "a:1:x", "health": "alive", "seen_seconds_ago": 0.2, "self": True},
            {"instance": "b:2:y", "health": "silent", "seen_seconds_ago": 7.0, "self": False},
        ]
    }
    alarms = evaluate(status, None, AlarmThresholds(), None)
    assert [(a.kind, a.subject) for a in alarms] == [("controller_lost", "b:2:y")]
    lines = format_status(status).splitlines()
    assert "controller:   a:1:x (this one): alive, seen 0.2 s ago" in lines
    assert "controller:   b:2:y: silent, seen 7.0 s ago" in lines
