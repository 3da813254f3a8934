"""Tickets from open to close: allowed state changes, owner, department, due date by SLA, history.

Every change writes a TicketEvent in the caller's transaction, so the history is the truth of
who did what. Escalation and the notice to the patient live in ccctl.tickets.follow_up.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ccctl.config import InboxSettings
from ccctl.errors import UserError
from ccctl.patients.repository import find_by_code
from ccctl.records.models.base import utc_now
from ccctl.records.models.inbox import InboxItem, Ticket, TicketEvent

STATES = ("new", "assigned", "in-progress", "waiting-for-patient", "resolved", "closed")
OPEN_STATES = ("new", "assigned", "in-progress", "waiting-for-patient")
SOURCES = ("voice", "fax", "agent", "web", "email", "sms", "letter")
# resolved can be reopened (the patient answers back); closed is final
TRANSITIONS = {
    "new": ("assigned", "in-progress", "resolved", "closed"),
    "assigned": ("in-progress", "waiting-for-patient", "resolved", "closed"),
    "in-progress": ("assigned", "waiting-for-patient", "resolved", "closed"),
    "waiting-for-patient": ("in-progress", "resolved", "closed"),
    "resolved": ("in-progress", "closed"),
    "closed": (),
}


class TicketError(UserError, ValueError):
    """A ticket change that breaks a rule; str() is one line naming the ticket and value at fault."""


def category_rule(settings: InboxSettings, category: str) -> tuple[str, float]:
    """(department, SLA hours) of a category; unknown categories get no department and the default SLA."""
    for rule in settings.ticket_categories:
        if rule.name == category:
            return rule.department, rule.sla_hours
    return "", settings.default_sla_hours


def add_event(
    session: Session, ticket: Ticket, actor: str, action: str, from_state: str = "", detail: str = ""
) -> None:
    session.add(
        TicketEvent(
            ticket_id=ticket.id,
            at=utc_now(),
            actor=actor,
            action=action,
            from_state=from_state,
            to_state=ticket.state,
            detail=detail,
        )
    )


def open_ticket(
    session: Session,
    source: str,
    patient_id: int | None,
    category: str,
    description: str,
    inbox_item_id: int | None = None,
    voice_message_id: int | None = None,
    *,
    settings: InboxSettings | None = None,
    actor: str = "system",
    now: datetime | None = None,
) -> int:
    """A new ticket, due by its category's SLA; its id."""
    if source not in SOURCES:
        raise TicketError(f"source {source!r} is not one of {', '.join(SOURCES)}")
    if not category.strip():
        raise TicketError("category is empty")
    department, sla_hours = category_rule(settings or InboxSettings(), category.strip())
    created = now or utc_now()
    ticket = Ticket(
        source=source,
        patient_id=patient_id,
        category=category.strip()[:64],
        department=department,
        description=(description or "").replace("\x00", "\ufffd"),
        state="new",
        created_at=created,
        due_at=created + timedelta(hours=sla_hours),
        inbox_item_id=inbox_item_id,
        voice_message_id=voice_message_id,
        outcome="",
    )
    session.add(ticket)
    session.flush()
    add_event(session, ticket, actor, "opened", detail=f"source {source}, category {ticket.category}")
    return ticket.id


def open_from_item(
    session: Session,
    item: InboxItem,
    category: str,
    description: str,
    *,
    settings: InboxSettings,
    actor: str,
    patient_id: int | None = None,
) -> int:
    """The ticket someone decided an inbox item needs: the item's channel and patient, due by the SLA counted
    from when the item arrived (the patient has waited since then); its id."""
    source = item.channel if item.channel in SOURCES else "agent"
    voice_id = item.external_id.removeprefix("voice-message-") if item.channel == "voice" and item.external_id else ""
    return open_ticket(
        session,
        source,
        patient_id or item.patient_id,
        category,
        description or item.subject or item.body,
        item.id,
        int(voice_id) if voice_id.isdigit() else None,
        settings=settings,
        actor=actor,
        now=item.received_at,
    )


def get_ticket(session: Session, ticket_id: int) -> Ticket:
    ticket = session.get(Ticket, ticket_id)
    if ticket is None:
        raise TicketError(f"no ticket {ticket_id}")
    return ticket


def change_state(session: Session, ticket_id: int, state: str, actor: str, detail: str = "") -> Ticket:
    """Move a ticket to an allowed next state, or TicketError naming what is allowed from here."""
    ticket = get_ticket(session, ticket_id)
    if state not in STATES:
        raise TicketError(f"state {state!r} is not one of {', '.join(STATES)}")
    allowed = TRANSITIONS[ticket.state]
    if state not in allowed:
        choices = ", ".join(allowed) or "nothing (closed is final)"
        raise TicketError(f"ticket {ticket_id} is {ticket.state}: it can move to {choices}, not {state}")
    before = ticket.state
    ticket.state = state
    now = utc_now()
    if state == "resolved":
        ticket.resolved_at = now
    elif state == "closed":
        ticket.closed_at = now
    elif before == "resolved":
        ticket.resolved_at = None  # reopened
    add_event(session, ticket, actor, "state", before, detail)
    return ticket


def assign_ticket(session: Session, ticket_id: int, owner: str, actor: str) -> Ticket:
    """Give a ticket an owner; a new ticket becomes assigned."""
    ticket = get_ticket(session, ticket_id)
    if ticket.state == "closed":
        raise TicketError(f"ticket {ticket_id} is closed")
    if not owner.strip():
        raise TicketError("owner is empty")
    before = ticket.state
    ticket.owner = owner.strip()[:128]
    if ticket.state == "new":
        ticket.state = "assigned"
    add_event(session, ticket, actor, "assigned", before, f"owner {ticket.owner}")
    return ticket


def set_department(session: Session, ticket_id: int, department: str, actor: str) -> Ticket:
    ticket = get_ticket(session, ticket_id)
    before = ticket.department
    ticket.department = department.strip()[:64]
    add_event(session, ticket, actor, "department", ticket.state, f"from {before or '-'} to {ticket.department}")
    return ticket


@dataclass
class TicketFilter:
    state: str | None = None  # a state, or "open"
    category: str | None = None
    department: str | None = None
    owner: str | None = None
    patient_code: str | None = None
    overdue_at: datetime | None = None  # only open tickets due before this time
    limit: int = 100


def list_tickets(session: Session, filters: TicketFilter) -> list[Ticket]:
    query = select(Ticket)
    if filters.state == "open":
        query = query.where(Ticket.state.in_(OPEN_STATES))
    elif filters.state:
        if filters.state not in STATES:
            raise TicketError(f"--state: {filters.state!r} is not open or one of {', '.join(STATES)}")
        query = query.where(Ticket.state == filters.state)
    for column, value in ((Ticket.category, filters.category), (Ticket.department, filters.department)):
        if value:
            query = query.where(column == value)
    if filters.owner:
        query = query.where(Ticket.owner == filters.owner)
    if filters.patient_code:
        patient = find_by_code(session, filters.patient_code)
        if patient is None:
            raise TicketError(f"no patient with code '{filters.patient_code}'")
        query = query.where(Ticket.patient_id == patient.id)
    if filters.overdue_at is not None:
        query = query.where(Ticket.state.in_(OPEN_STATES), Ticket.due_at < filters.overdue_at)
    return list(session.scalars(query.order_by(Ticket.due_at, Ticket.id).limit(filters.limit)))


def ticket_history(session: Session, ticket_id: int) -> list[TicketEvent]:
    query = select(TicketEvent).where(TicketEvent.ticket_id == ticket_id)
    return list(session.scalars(query.order_by(TicketEvent.at, TicketEvent.id)))
