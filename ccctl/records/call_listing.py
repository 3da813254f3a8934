"""Call records read back for people: `ccctl calls list` (filters, newest first, table or JSON).

Times given without a zone (2026-11-23T08:00) are the local time of the machine, as an
operator types them; rows carry UTC ISO times and the table shows local times.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import select

from ccctl.errors import UserError
from ccctl.records.database import command_engine
from ccctl.records.models.calls import Call

PATH_WIDTH = 60  # the table's path column is cut here; --json has it whole
COLUMNS = ("UUID", "STARTED", "HOTLINE", "CALLER", "DISPOSITION", "DURATION", "PATH")


class ListError(UserError):
    """A filter or the database is wrong; str() is one line naming the option or the database."""


def parse_time(option: str, value: str | date | datetime | None, *, end_of_day: bool = False) -> datetime | None:
    """An aware datetime from an ISO date or date-time; a bare date is midnight (the next one if end_of_day).

    `option` (--since, --until) names the culprit in the error.
    """
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.astimezone()  # naive: local time; aware: kept (converted, same instant)
    if isinstance(value, date):
        day = value
    else:
        text = str(value).strip()
        try:
            day = date.fromisoformat(text)
        except ValueError:
            try:
                return datetime.fromisoformat(text).astimezone()
            except ValueError:
                raise ListError(
                    f"{option}: '{value}' is not a date or time (use 2026-11-23 or 2026-11-23T08:00)"
                ) from None
    if end_of_day:
        day += timedelta(days=1)
    return datetime.combine(day, time()).astimezone()


def list_calls(
    url: str,
    since: str | date | datetime | None = None,
    until: str | date | datetime | None = None,
    hotline: str | None = None,
    disposition: str | None = None,
    limit: int = 50,
) -> list[dict]:
    """Call records started in [since, until), newest first, as JSON-ready dicts.

    A bare date for `until` includes that whole day (--since 2026-11-23 --until 2026-11-23
    is that day).
    """
    start = parse_time("--since", since)
    end = parse_time("--until", until, end_of_day=True)
    if limit < 1:
        raise ListError(f"--limit: must be at least 1, got {limit}")
    query = select(Call).order_by(Call.started_at.desc(), Call.id.desc()).limit(limit)
    if start is not None:
        query = query.where(Call.started_at >= start)
    if end is not None:
        query = query.where(Call.started_at < end)
    if hotline:
        query = query.where(Call.hotline == hotline)
    if disposition:
        query = query.where(Call.disposition == disposition)
    # command_engine: a missing SQLite file is refused (a listing must not create an empty one), and
    # database problems come back as one line
    with command_engine(url, ListError) as engine, engine.connect() as connection:
        calls = connection.execute(query).all()
    return [call_dict(call) for call in calls]


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def call_dict(call) -> dict:
    """One calls-table row as JSON-ready values (UTC ISO times, duration in seconds)."""
    duration = None if call.ended_at is None else round((call.ended_at - call.started_at).total_seconds(), 3)
    return {
        "uuid": call.uuid,
        "hotline": call.hotline,
        "caller_number": call.caller_number,
        "destination": call.destination,
        "started_at": _iso(call.started_at),
        "answered_at": _iso(call.answered_at),
        "ended_at": _iso(call.ended_at),
        "duration_seconds": duration,
        "disposition": call.disposition,
        "hangup_cause": call.hangup_cause,
        "path": list(call.path or []),
        "patient_id": call.patient_id,
        "error": call.error,
    }


def _duration_text(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    whole = int(round(seconds))
    hours, rest = divmod(whole, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


def _path_text(path: list[str]) -> str:
    text = " > ".join(path)
    return text if len(text) <= PATH_WIDTH else text[: PATH_WIDTH - 1] + "…"


def _table_cells(row: dict) -> tuple[str, ...]:
    started = datetime.fromisoformat(row["started_at"]).astimezone().strftime("%Y-%m-%d %H:%M:%S")
    return (
        row["uuid"][:8],
        started,
        row["hotline"],
        row["caller_number"],
        row["disposition"],
        _duration_text(row["duration_seconds"]),
        _path_text(row["path"]),
    )


def format_calls(rows: list[dict]) -> str:
    """An aligned text table (local start times, short uuids); 'no calls' when empty."""
    if not rows:
        return "no calls"
    lines = [COLUMNS, *(_table_cells(row) for row in rows)]
    widths = [max(len(line[i]) for line in lines) for i in range(len(COLUMNS))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip() for line in lines
    )
