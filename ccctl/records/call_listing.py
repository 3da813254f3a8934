"""Call records read back for people: `ccctl calls list` (filters, newest first, table or JSON) and
`ccctl calls show` (one call, every field, the node it was on among them).

Times given without a zone (2026-11-23T08:00) are the local time of the machine, as an
operator types them; rows carry UTC ISO times and the table shows local times. A listing
shows callers' numbers and patient ids, so it is audited like `ccctl patients list`.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ccctl.errors import UserError
from ccctl.records.audit import default_actor, record_audit
from ccctl.records.database import command_engine
from ccctl.records.models.calls import Call

PATH_WIDTH = 60  # the table's path column is cut here; --json has it whole
COLUMNS = ("UUID", "STARTED", "HOTLINE", "CALLER", "DISPOSITION", "DURATION", "PATH")
LIST_MAX_ROWS = 10_000
FILTER_MAX_CHARS = 64  # the longest hotline name or disposition the calls table holds


class ListError(UserError):
    """A filter or the database is wrong; str() is one line naming the option or the database."""


def parse_time(option: str, value: str | date | datetime | None, *, end_of_day: bool = False) -> datetime | None:
    """An aware datetime from an ISO date or date-time; a bare date is midnight (the next one if end_of_day).

    `option` (--from, --to) names the culprit in the error.
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
    *,
    actor: str | None = None,
    source: str = "cli",
) -> list[dict]:
    """Call records started in [since, until), newest first, as JSON-ready dicts; the read is audited.

    A bare date for `until` includes that whole day (--from 2026-11-23 --to 2026-11-23
    is that day). One audit row goes in the same transaction: `actor` (default: the OS user),
    the filters, how many calls and which patient ids were shown.
    """
    start = parse_time("--from", since)
    end = parse_time("--to", until, end_of_day=True)
    if not 1 <= limit <= LIST_MAX_ROWS:
        raise ListError(f"--limit: must be between 1 and {LIST_MAX_ROWS}, got {limit}")
    for option, text in (("--hotline", hotline), ("--disposition", disposition)):
        if text and len(text) > FILTER_MAX_CHARS:
            raise ListError(f"{option}: longer than {FILTER_MAX_CHARS} characters")
    query = select(Call).order_by(Call.started_at.desc(), Call.id.desc()).limit(limit)
    if start is not None:
        query = query.where(Call.started_at >= start)
    if end is not None:
        query = query.where(Call.started_at < end)
    if hotline:
        query = query.where(Call.hotline == hotline)
    if disposition:
        query = query.where(Call.disposition == disposition)
    asked = [
        f"{name} {value}"
        for name, value in (
            ("since", _iso(start)),
            ("before", _iso(end)),
            ("hotline", hotline),
            ("disposition", disposition),
        )
        if value
    ]
    asked.append(f"limit {limit}")
    # command_engine: a missing SQLite file is refused (a listing must not create an empty one), and
    # database problems come back as one line
    with command_engine(url, ListError) as engine, Session(engine) as session, session.begin():
        rows = [call_dict(call) for call in session.scalars(query)]
        detail = f"{', '.join(asked)}: {_shown_text(rows)}"
        record_audit(session, actor or default_actor(), "calls list", None, source, detail=detail)
    return rows


def show_call(url: str, uuid: str, *, actor: str | None = None, source: str = "cli") -> dict:
    """One call record by its uuid (or the start of it, at least 8 characters, as the list shows it);
    the read is audited like a listing."""
    text = uuid.strip().lower()
    if not 8 <= len(text) <= 64 or any(c not in "0123456789abcdef-" for c in text):
        raise ListError(f"calls show: '{uuid[:64]}' is not a call uuid (8 to 36 characters of 0-9, a-f and -)")
    query = select(Call).where(Call.uuid.startswith(text, autoescape=True)).order_by(Call.id).limit(2)
    with command_engine(url, ListError) as engine, Session(engine) as session, session.begin():
        found = [call_dict(call) for call in session.scalars(query)]
        if len(found) != 1:
            raise ListError(f"calls show: {'no call' if not found else 'more than one call'} with uuid {text}*")
        record_audit(session, actor or default_actor(), "calls show", found[0]["patient_id"], source, detail=text)
    return found[0]


SHOWN_FIELDS = (
    "uuid",
    "hotline",
    "caller_number",
    "destination",
    "node",
    "started_at",
    "answered_at",
    "ended_at",
    "duration_seconds",
    "disposition",
    "hangup_cause",
    "patient_id",
    "error",
)


def format_call(row: dict) -> str:
    """One call as `field: value` lines (UTC times as stored, the whole path last)."""
    lines = [f"{name + ':':<18}{'-' if row[name] in (None, '') else row[name]}" for name in SHOWN_FIELDS]
    lines.append(f"{'path:':<18}{' > '.join(row['path']) or '-'}")
    return "\n".join(lines)


def _shown_text(rows: list[dict]) -> str:
    """'3 calls, patients 4, 7' (each patient id once, in order of first appearance)."""
    patients = list(dict.fromkeys(row["patient_id"] for row in rows if row["patient_id"] is not None))
    count = f"{len(rows)} {'call' if len(rows) == 1 else 'calls'}"
    return f"{count}, patients {', '.join(map(str, patients))}" if patients else f"{count}, no patients"


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
        "node": call.node,
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
