"""The work behind `ccctl tickets ...`: one transaction per command, reads of patients' tickets audited.

cli_inbox.py parses and prints; these functions call ccctl.tickets and return the text to print.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from sqlalchemy.orm import Session

from ccctl.channels.inbox import InboxError, get_item
from ccctl.config import Settings
from ccctl.patients.repository import find_by_code
from ccctl.records import database
from ccctl.records.audit import record_audit
from ccctl.records.models.base import utc_now
from ccctl.records.models.inbox import Ticket
from ccctl.records.models.patients import Patient
from ccctl.tickets.follow_up import escalate_overdue, file_voice_messages, resolve_ticket
from ccctl.tickets.report import report_csv, report_json, report_table, ticket_report
from ccctl.tickets.service import (
    TicketError,
    TicketFilter,
    assign_ticket,
    change_state,
    get_ticket,
    list_tickets,
    open_from_item,
    open_ticket,
    set_department,
    ticket_history,
)

SOURCE = "cli"
T = TypeVar("T")


def in_transaction(url: str, work: Callable[[Session], T]) -> T:
    """One transaction for a command; database problems become one-line TicketErrors."""
    return database.in_transaction(url, TicketError, work)


@dataclass
class NewTicket:
    source: str  # agent, letter, ...; a ticket from an inbox item takes the item's channel
    category: str
    description: str
    patient_code: str | None = None
    inbox_item_id: int | None = None


def add(settings: Settings, new: NewTicket, actor: str) -> int:
    """Open a ticket typed in by an agent (a call, a letter) or made from an inbox item; its id."""

    def work(session: Session) -> int:
        patient_id = None
        if new.patient_code:
            patient = find_by_code(session, new.patient_code)
            if patient is None:
                raise TicketError(f"no patient with code '{new.patient_code}'")
            patient_id = patient.id
        if new.inbox_item_id is not None:
            try:
                item = get_item(session, new.inbox_item_id)
            except InboxError as exc:
                raise TicketError(str(exc)) from None
            return open_from_item(
                session,
                item,
                new.category,
                new.description,
                settings=settings.inbox,
                actor=actor,
                patient_id=patient_id,
            )
        return open_ticket(
            session,
            new.source,
            patient_id,
            new.category,
            new.description,
            new.inbox_item_id,
            settings=settings.inbox,
            actor=actor,
        )

    return in_transaction(settings.database.url, work)


def _code(session: Session, patient_id: int | None) -> str:
    patient = session.get(Patient, patient_id) if patient_id is not None else None
    return patient.patient_code if patient else ""


def _when(value: datetime | None) -> str:
    return f"{value:%Y-%m-%d %H:%M}" if value else "-"


def list_rows(url: str, filters: TicketFilter) -> list[dict]:
    """Tickets as rows (what `tickets list --json` prints): id, state, category, department, owner, patient
    code, due time and whether it is overdue."""

    def work(session: Session) -> list[dict]:
        now = utc_now()
        return [
            {
                "id": t.id,
                "state": t.state,
                "category": t.category,
                "department": t.department or "",
                "owner": t.owner or "",
                "patient": _code(session, t.patient_id),
                "due_at": t.due_at,
                "overdue": t.state not in ("resolved", "closed") and t.due_at < now,
            }
            for t in list_tickets(session, filters)
        ]

    return in_transaction(url, work)


def list_text(url: str, filters: TicketFilter) -> str:
    rows = list_rows(url, filters)
    if not rows:
        return "no tickets"
    lines = [f"{'id':>5} {'state':<20} {'category':<14} {'department':<18} {'owner':<10} {'patient':<9} due (UTC)"]
    for r in rows:
        lines.append(
            f"{r['id']:>5} {r['state']:<20} {r['category']:<14} {r['department'] or '-':<18} "
            f"{r['owner'] or '-':<10} {r['patient'] or '-':<9} {_when(r['due_at'])}"
            + (" OVERDUE" if r["overdue"] else "")
        )
    return "\n".join(lines)


def show_data(url: str, ticket_id: int, actor: str) -> dict:
    """A ticket, its description and its whole history (what `tickets show --json` prints); reading a
    patient's ticket is audited."""

    def work(session: Session) -> dict:
        t: Ticket = get_ticket(session, ticket_id)
        if t.patient_id is not None:
            record_audit(session, actor, "ticket show", t.patient_id, SOURCE, f"ticket {ticket_id}")
        history = [
            {
                "at": e.at,
                "actor": e.actor,
                "action": e.action,
                "from_state": e.from_state or "",
                "to_state": e.to_state,
                "detail": e.detail,
            }
            for e in ticket_history(session, ticket_id)
        ]
        return {
            "id": t.id,
            "category": t.category,
            "state": t.state,
            "patient": _code(session, t.patient_id),
            "source": t.source,
            "inbox_item": t.inbox_item_id,
            "department": t.department or "",
            "owner": t.owner or "",
            "created_at": t.created_at,
            "due_at": t.due_at,
            "escalated_at": t.escalated_at,
            "description": t.description,
            "outcome": t.outcome or "",
            "history": history,
        }

    return in_transaction(url, work)


def show_text(url: str, ticket_id: int, actor: str) -> str:
    t = show_data(url, ticket_id, actor)
    lines = [
        f"ticket {t['id']}: {t['category']}, {t['state']}",
        f"patient:    {t['patient'] or '-'}",
        f"source:     {t['source']}" + (f" (inbox item {t['inbox_item']})" if t["inbox_item"] else ""),
        f"department: {t['department'] or '-'}",
        f"owner:      {t['owner'] or '-'}",
        f"opened:     {_when(t['created_at'])} UTC, due {_when(t['due_at'])} UTC"
        + (f", escalated {_when(t['escalated_at'])}" if t["escalated_at"] else ""),
        "",
        t["description"],
    ]
    if t["outcome"]:
        lines += ["", f"outcome: {t['outcome']}"]
    lines += ["", "history:"]
    for e in t["history"]:
        move = (
            f"{e['from_state']} -> {e['to_state']}"
            if e["from_state"] and e["from_state"] != e["to_state"]
            else e["to_state"]
        )
        lines.append(f"  {_when(e['at'])} {e['actor']:<12} {e['action']:<10} {move:<30} {e['detail']}".rstrip())
    return "\n".join(lines)


def assign(url: str, ticket_id: int, owner: str, actor: str) -> None:
    in_transaction(url, lambda session: assign_ticket(session, ticket_id, owner, actor))


def move(url: str, ticket_id: int, state: str | None, department: str | None, actor: str) -> None:
    if not state and not department:
        raise TicketError("give a STATE and/or --department")

    def work(session: Session) -> None:
        if department:
            set_department(session, ticket_id, department, actor)
        if state:
            change_state(session, ticket_id, state, actor)

    in_transaction(url, work)


def resolve(settings: Settings, ticket_id: int, outcome: str, actor: str) -> str:
    return in_transaction(settings.database.url, lambda s: resolve_ticket(s, settings, ticket_id, outcome, actor))


def close(url: str, ticket_id: int, actor: str) -> None:
    in_transaction(url, lambda session: change_state(session, ticket_id, "closed", actor))


def escalate(settings: Settings) -> list[int]:
    return in_transaction(settings.database.url, lambda session: escalate_overdue(session, settings))


def from_voice(settings: Settings, actor: str) -> list[int]:
    return in_transaction(settings.database.url, lambda session: file_voice_messages(session, actor))


def report(url: str, since: datetime | None, until: datetime | None, output: str) -> str:
    rows = in_transaction(url, lambda session: ticket_report(session, since, until))
    return {"json": report_json, "csv": report_csv}.get(output, report_table)(rows)
