"""What happens to tickets without an agent asking: voice messages become tickets, overdue tickets
escalate (marked, recorded, e-mailed to the escalation address), the outcome goes back to the patient.

`ccctl serve` runs from_voice_messages and escalate_overdue periodically; the CLI runs them on demand.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ccctl.channels.email import EmailError, send_email
from ccctl.channels.inbox_reply import DeliveryError, notify_patient
from ccctl.config import Settings
from ccctl.records.models.base import utc_now
from ccctl.records.models.calls import VoiceMessage
from ccctl.records.models.inbox import InboxItem, Ticket
from ccctl.tickets.service import (
    OPEN_STATES,
    TicketError,
    add_event,
    change_state,
    get_ticket,
    open_ticket,
)

log = logging.getLogger(__name__)


def from_voice_messages(session: Session, settings: Settings, actor: str = "system") -> list[int]:
    """Turn every new voice message into a ticket (category = its reason when that is a category)."""
    categories = [rule.name for rule in settings.inbox.ticket_categories]
    fallback = "complaint" if "complaint" in categories else (categories[0] if categories else "complaint")
    created = []
    messages = session.scalars(select(VoiceMessage).where(VoiceMessage.status == "new").order_by(VoiceMessage.id))
    for message in list(messages):
        category = message.reason if message.reason in categories else fallback
        description = f"voice message ({message.reason}) recorded at {message.path}"
        created.append(
            open_ticket(
                session,
                "voice",
                message.patient_id,
                category,
                description,
                voice_message_id=message.id,
                settings=settings.inbox,
                actor=actor,
                now=message.created_at,
            )
        )
        message.status = "ticket"
    return created


def _escalation_text(tickets: list[Ticket], now: datetime) -> str:
    lines = [f"{len(tickets)} ticket(s) are past their due time as of {now:%Y-%m-%d %H:%M} UTC:", ""]
    for ticket in tickets:
        owner = ticket.owner or "nobody"
        lines.append(
            f"#{ticket.id} {ticket.category} ({ticket.department or 'no department'}), {ticket.state}, "
            f"owner {owner}, due {ticket.due_at:%Y-%m-%d %H:%M} UTC"
        )
    lines += ["", "Details: ccctl tickets show ID"]
    return "\n".join(lines)


def escalate_overdue(session: Session, settings: Settings, now: datetime | None = None) -> list[int]:
    """Mark open tickets past their due time as escalated (once each), record it, e-mail the escalation address.

    The e-mail lists ticket numbers, categories and owners only: no patient data leaves by mail.
    """
    now = now or utc_now()
    query = select(Ticket).where(Ticket.state.in_(OPEN_STATES), Ticket.due_at < now, Ticket.escalated_at.is_(None))
    tickets = list(session.scalars(query.order_by(Ticket.due_at, Ticket.id)))
    if not tickets:
        return []
    address = settings.inbox.escalation_address
    notice = "no escalation address configured"
    if address:
        try:
            send_email(settings.email, address, f"{len(tickets)} overdue ticket(s)", _escalation_text(tickets, now))
            notice = f"notified {address}"
        except EmailError as exc:
            notice = f"escalation e-mail failed: {exc}"
            log.warning("ticket escalation: %s", notice)
    for ticket in tickets:
        ticket.escalated_at = now
        add_event(session, ticket, "system", "escalated", ticket.state, f"due {ticket.due_at:%Y-%m-%d %H:%M}; {notice}")
    return [ticket.id for ticket in tickets]


def resolve_ticket(session: Session, settings: Settings, ticket_id: int, outcome: str, actor: str) -> str:
    """Resolve with an outcome and send it to the patient on their channel; how the patient was told."""
    if not outcome.strip():
        raise TicketError(f"ticket {ticket_id}: the outcome is empty (the patient is sent this text)")
    ticket = change_state(session, ticket_id, "resolved", actor)
    ticket.outcome = outcome.replace("\x00", "\ufffd")
    item = session.get(InboxItem, ticket.inbox_item_id) if ticket.inbox_item_id else None
    subject = f"Your {ticket.category} (ticket {ticket.id})"
    try:
        notice = notify_patient(session, settings, ticket.patient_id, subject, ticket.outcome, item)
    except DeliveryError as exc:
        told = f"notice failed: {exc}"
    else:
        told = f"sent by {notice.channel}" if notice.channel else "no address known: tell the patient another way"
    add_event(session, get_ticket(session, ticket_id), actor, "notice", ticket.state, told)
    return told
