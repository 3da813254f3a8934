"""`ccctl report kpi` counts callers who hung up in the IVR apart from those who abandoned a queue, and gives
the average time from asking for a callback to being called back (by the ACD or by staff)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from ccctl.acd.agents import add_queue
from ccctl.records.database import make_engine
from ccctl.records.models.acd import QueueEvent
from ccctl.records.models.calls import Call

NINE = datetime.fromisoformat("2026-11-23T09:00:00+00:00")
PERIOD = ("--from", "2026-11-23T00:00+00:00", "--to", "2026-11-24T00:00+00:00")


def event(seconds: float, kind: str, uuid: str) -> QueueEvent:
    at = NINE + timedelta(seconds=seconds)
    return QueueEvent(at=at, queue="cardio", call_uuid=uuid, kind=kind, agent_id=None, patient_id=None, detail="")


def call(uuid: str, disposition: str, started: datetime = NINE) -> Call:
    return Call(uuid=uuid, hotline="7000", started_at=started, ended_at=started, disposition=disposition)


def store(url: str, rows: list) -> None:
    add_queue(url, "cardio", "longest-idle-agent", {"cardio": 1}, {})
    engine = make_engine(url)
    with Session(engine) as session, session.begin():
        session.add_all(rows)
    engine.dispose()


def test_kpi_counts_ivr_hangups_apart_and_averages_the_time_to_callback(ccctl, sqlite_url):
    store(
        sqlite_url,
        [
            call("ivr-1", "abandoned"),  # hung up in the menus
            call("ivr-2", "abandoned"),
            call("ivr-old", "abandoned", NINE - timedelta(days=2)),  # outside the period
            call("done", "completed"),  # the flow ended it
            call("Q", "abandoned"),  # hung up in the queue: the queue's abandoned, not the IVR's
            event(0, "entered", "Q"),
            event(30, "abandoned", "Q"),
            call("CB1", "callback"),
            event(0, "entered", "CB1"),
            event(20, "callback_requested", "CB1"),
            event(20 + 300, "callback_made", "CB1"),  # the ACD dialled after 5 minutes
            call("CB2", "callback"),
            event(0, "entered", "CB2"),
            event(40, "callback_requested", "CB2"),
            event(40 + 900, "callback_done", "CB2"),  # staff called back by hand after 15 minutes
            event(0, "entered", "CB3"),
            event(50, "callback_requested", "CB3"),  # not called back yet: not in the average
        ],
    )

    result = ccctl("report", "kpi", *PERIOD)

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    header = lines[1]
    assert "TIME TO CALLBACK" in header
    column = header.index("TIME TO CALLBACK")
    cardio = next(line for line in lines if line.startswith("cardio"))
    assert cardio[column:].split()[0] == "10:00"
    assert lines[-1] == "callers who hung up in the IVR before reaching a queue: 2"

    data = json.loads(ccctl("report", "kpi", *PERIOD, "--json").output)
    assert data["all"]["ivr_hangups"] == 2
    assert data["all"]["abandoned"] == 1
    assert data["all"]["callback_seconds"] == 600.0
    assert data["queues"][0]["ivr_hangups"] is None
