"""`ccctl report kpi`: a period (default today), one row per queue, rates as percentages, honest errors."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from ccctl.acd.agents import add_queue
from ccctl.records.database import make_engine
from ccctl.records.models.acd import QueueEvent
from ccctl.records.models.base import utc_now


def event(at: datetime, kind: str, uuid: str = "", queue: str = "cardio") -> QueueEvent:
    return QueueEvent(at=at, queue=queue, call_uuid=uuid, kind=kind, agent_id=1, patient_id=None, detail="")


def store(url: str, events: list[QueueEvent]) -> None:
    add_queue(url, "cardio", "longest-idle-agent", {"cardio": 1}, {"service_level_seconds": 20})
    add_queue(url, "derma", "longest-idle-agent", {"derma": 1}, {})
    engine = make_engine(url)
    with Session(engine) as session, session.begin():
        session.add_all(events)
    engine.dispose()


def local(text: str) -> str:
    return datetime.fromisoformat(text).astimezone().isoformat(sep=" ", timespec="minutes")


def test_kpi_prints_one_row_per_queue_with_percentages_and_durations(ccctl, sqlite_url):
    nine = datetime.fromisoformat("2026-11-23T09:00:00+00:00")
    store(
        sqlite_url,
        [
            event(nine, "entered", "A"),
            event(nine + timedelta(seconds=10), "answered", "A"),
            event(nine + timedelta(seconds=190), "ended", "A"),
            event(nine + timedelta(minutes=5), "entered", "B"),
            event(nine + timedelta(minutes=6), "abandoned", "B"),
            event(nine + timedelta(minutes=7), "entered", "X", queue="derma"),
        ],
    )
    result = ccctl("report", "kpi", "--from", "2026-11-23T00:00+00:00", "--to", "2026-11-24T00:00+00:00")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    start, end = local("2026-11-23T00:00+00:00"), local("2026-11-24T00:00+00:00")
    assert lines[0] == f"calls that entered a queue from {start} to {end}"
    assert lines[1].split("  ")[0] == "QUEUE" and "SERVICE LEVEL" in lines[1] and "ASA" not in lines[1]
    rows = {line.split()[0]: line.split() for line in lines[2:]}
    assert rows["cardio"][1:8] == ["2", "1", "1", "50.0%", "0:10", "50.0%", "3:00"]
    assert rows["derma"][1:4] == ["1", "0", "0"]
    assert lines[-2].startswith("all queues") and lines[-2].split()[2:5] == ["3", "1", "1"]
    assert lines[-1] == "callers who hung up in the IVR before reaching a queue: 0"


def test_kpi_json_and_csv_keep_every_queue_and_the_total(ccctl):
    data = json.loads(ccctl("report", "kpi", "--from", "2026-11-23", "--json").output)
    assert data["from"].startswith("2026-11-23T00:00:00") and data["to"].startswith("2026-11-24T00:00:00")
    assert data["queues"] == [] and data["all"]["offered"] == 0
    header = ccctl("report", "kpi", "--from", "2026-11-23", "--csv").output.splitlines()
    assert header[0].startswith("since,until,queue,offered") and header[1].split(",")[2] == "all"


def test_kpi_without_a_period_reports_today(ccctl):
    today = datetime.now().astimezone().date().isoformat()
    data = json.loads(ccctl("report", "kpi", "--json").output)
    assert data["from"].startswith(f"{today}T00:00:00")
    first = ccctl("report", "kpi").output.splitlines()[0]
    assert first.startswith(f"calls that entered a queue from {today} 00:00")


def test_kpi_errors_name_the_option_or_the_queue(ccctl, sqlite_url):
    store(sqlite_url, [])
    result = ccctl("report", "kpi", "--queue", "nosuch")
    assert (result.exit_code, result.output) == (1, "ccctl: no queue named 'nosuch' (queues: cardio, derma)\n")
    result = ccctl("report", "kpi", "--from", "2026-11-24", "--to", "2026-11-23")
    assert (result.exit_code, result.output) == (1, "ccctl: --to 2026-11-23 is not after --from 2026-11-24\n")
    result = ccctl("report", "kpi", "--from", "yesterday")
    assert result.exit_code == 1 and result.output.startswith("ccctl: --from: 'yesterday' is not a date or time")


def test_occupancy_does_not_count_agents_time_after_now(ccctl, sqlite_url):
    now = utc_now()
    store(
        sqlite_url,
        [
            event(now - timedelta(hours=1), "agent_available"),  # still logged in: Available up to now
            event(now - timedelta(minutes=50), "entered", "A"),
            event(now - timedelta(minutes=50), "answered", "A"),
            event(now - timedelta(minutes=40), "ended", "A"),  # 600 s handled of 3600 s Available
        ],
    )
    since = (now - timedelta(hours=2)).isoformat()

    def occupancy(until: datetime) -> float:
        output = ccctl(
            "report", "kpi", "--queue", "cardio", "--from", since, "--to", until.isoformat(), "--json"
        ).output
        return json.loads(output)["queues"][0]["occupancy"]

    assert occupancy(now + timedelta(days=1)) == occupancy(now + timedelta(days=30)) == 0.1667
