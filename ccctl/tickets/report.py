"""The ticket report: per category and department, how many were opened, closed, escalated, and
how long they took to close (resolved or closed, whichever came first), as a table, JSON or CSV.
"""

from __future__ import annotations

import csv
import io
import json
import statistics
from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ccctl.records.models.inbox import Ticket
from ccctl.tickets.service import OPEN_STATES


@dataclass
class ReportRow:
    category: str
    department: str
    opened: int
    closed: int  # resolved or closed
    still_open: int
    escalated: int
    mean_hours_to_close: float | None
    median_hours_to_close: float | None


def _finished_at(ticket: Ticket) -> datetime | None:
    times = [t for t in (ticket.resolved_at, ticket.closed_at) if t is not None]
    return min(times) if times else None


def ticket_report(session: Session, since: datetime | None = None, until: datetime | None = None) -> list[ReportRow]:
    """Tickets opened in [since, until), grouped by category and department."""
    query = select(Ticket)
    if since is not None:
        query = query.where(Ticket.created_at >= since)
    if until is not None:
        query = query.where(Ticket.created_at < until)
    groups: dict[tuple[str, str], list[Ticket]] = {}
    for ticket in session.scalars(query):
        groups.setdefault((ticket.category, ticket.department), []).append(ticket)
    rows = []
    for (category, department), tickets in sorted(groups.items()):
        hours = [(finished - t.created_at).total_seconds() / 3600 for t in tickets if (finished := _finished_at(t))]
        rows.append(
            ReportRow(
                category=category,
                department=department,
                opened=len(tickets),
                closed=len(hours),
                still_open=sum(t.state in OPEN_STATES for t in tickets),
                escalated=sum(t.escalated_at is not None for t in tickets),
                mean_hours_to_close=round(statistics.fmean(hours), 2) if hours else None,
                median_hours_to_close=round(statistics.median(hours), 2) if hours else None,
            )
        )
    return rows


def report_json(rows: list[ReportRow]) -> str:
    return json.dumps([asdict(row) for row in rows], indent=2)


def report_csv(rows: list[ReportRow]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([name for name in ReportRow.__dataclass_fields__])
    for row in rows:
        writer.writerow(["" if value is None else value for value in asdict(row).values()])
    return out.getvalue()


def report_table(rows: list[ReportRow]) -> str:
    if not rows:
        return "no tickets in this period"
    header = f"{'category':<16} {'department':<20} {'opened':>6} {'closed':>6} {'open':>5} {'escal.':>6} {'mean h':>7}"
    lines = [header + f" {'median h':>8}"]
    for row in rows:
        mean = "-" if row.mean_hours_to_close is None else f"{row.mean_hours_to_close:.1f}"
        median = "-" if row.median_hours_to_close is None else f"{row.median_hours_to_close:.1f}"
        lines.append(
            f"{row.category:<16} {row.department or '-':<20} {row.opened:>6} {row.closed:>6} "
            f"{row.still_open:>5} {row.escalated:>6} {mean:>7} {median:>8}"
        )
    return "\n".join(lines)
