"""KPI figures against a scenario computed by hand (see the comments for each figure)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from ccctl.acd.agents import add_queue
from ccctl.records.database import make_engine
from ccctl.records.models.acd import QueueEvent
from ccctl.reports.kpi import compute_kpis, format_kpis

NINE = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def at(minutes: int, seconds: int = 0) -> datetime:
    return NINE + timedelta(minutes=minutes, seconds=seconds)


def call(uuid: str, patient: int | None, *steps: tuple[str, datetime], queue: str = "cardio") -> list[QueueEvent]:
    return [
        QueueEvent(at=t, queue=queue, call_uuid=uuid, kind=k, agent_id=1, patient_id=patient, detail="")
        for k, t in steps
    ]


def scenario() -> list[QueueEvent]:
    return [
        # A: waits 10 s, talks 300 s, wraps up 30 s; patient 1 calls again at 09:40 (not resolved first time)
        *call("A", 1, ("entered", at(0)), ("offered", at(0, 5)), ("answered", at(0, 10)), ("ended", at(5, 10)),
              ("wrapup_end", at(5, 40))),
        # B: waits 30 s (beyond the 20 s target), talks 120 s, wraps up 30 s; patient 2 calls again at 10:30
        *call("B", 2, ("entered", at(10)), ("answered", at(10, 30)), ("ended", at(12, 30)), ("wrapup_end", at(13))),
        *call("C", 3, ("entered", at(20)), ("abandoned", at(21))),
        *call("D", 4, ("entered", at(30)), ("callback_requested", at(31))),
        # E: patient 1 again, waits 5 s, talks 60 s, wraps up 30 s, does not call again
        *call("E", 1, ("entered", at(40)), ("answered", at(40, 5)), ("ended", at(41, 5)), ("wrapup_end", at(41, 35))),
        *call("F", 2, ("entered", at(90))),  # after the period: only counts against B's resolution
        *call("X", 9, ("entered", at(15)), ("abandoned", at(16)), queue="derma"),
        QueueEvent(at=at(0), queue="", call_uuid="", kind="agent_available", agent_id=1, detail=""),
        QueueEvent(at=at(50), queue="", call_uuid="", kind="agent_on_break", agent_id=1, detail=""),
    ]  # fmt: skip


def store_scenario(url: str) -> None:
    add_queue(url, "cardio", "longest-idle-agent", {"cardio": 1}, {"service_level_seconds": 20})
    engine = make_engine(url)
    with Session(engine) as session, session.begin():
        session.add_all(scenario())
    engine.dispose()


def report(url: str, **kw):
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            return compute_kpis(session, NINE, NINE + timedelta(hours=1), **kw)
    finally:
        engine.dispose()


def test_kpis_match_the_hand_computed_scenario(db_url):
    store_scenario(db_url)
    kpi = report(db_url, queue="cardio")
    assert (kpi.offered, kpi.answered, kpi.abandoned) == (5, 3, 1)  # A B C D E
    assert kpi.abandonment_rate == 0.2  # C of 5
    assert kpi.asa_seconds == 15.0  # (10 + 30 + 5) / 3
    assert kpi.service_level == 0.5  # A and E within 20 s, of 3 answered + 1 abandoned
    assert kpi.aht_seconds == 190.0  # (330 + 150 + 90) / 3
    assert kpi.callback_rate == 0.2  # D of 5
    assert kpi.fcr_rate == 0.3333  # only E of A, B, E
    assert kpi.occupancy == 0.19  # 570 s handled of 3000 s Available


def test_every_queue_counts_the_other_queue_too(db_url):
    store_scenario(db_url)
    kpi = report(db_url)
    assert (kpi.offered, kpi.abandoned) == (6, 2)


def test_formats_are_parseable(sqlite_url):
    store_scenario(sqlite_url)
    kpi = report(sqlite_url, queue="cardio")
    assert json.loads(format_kpis(kpi, "json"))["asa_seconds"] == 15.0
    header, values = format_kpis(kpi, "csv").splitlines()
    assert dict(zip(header.split(","), values.split(","), strict=True))["answered"] == "3"
    assert "service_level" in format_kpis(kpi)
