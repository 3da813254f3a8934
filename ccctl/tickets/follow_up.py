"""What happens without an agent asking: voice messages are filed in the inbox (a person decides whether
one becomes a ticket), overdue tickets escalate (marked, recorded, e-mailed to the escalation address),
the outcome goes back to the patient.

`ccctl serve` runs file_voice_messages and escalate_overdue periodically; the CLI runs them on demand.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from ccctl.channels.email import EmailError, send_email
from ccctl.channels.inbox_reply import DeliveryError, notify_patient
from ccctl.config import Settings
from ccctl.records.models.base import utc_now
from ccctl.records.models.calls import VoiceMessage
from ccctl.records.models.inbox import InboxAttachment, InboxItem, Ticket
from ccctl.tickets.service import (
    OPEN_STATES,
    TicketError,
    add_event,
    change_state,
    get_ticket,
)

log = logging.getLogger(__name__)


def _recording(path: str) -> InboxAttachment:
    file = Path(path)
    try:
        data = file.read_bytes()
    except OSError:
        data = b""  # played from the page when it appears; the item still says a message was left
    return InboxAttachment(
        filename=file.name, content_type="audio/wav", path=path, size=len(data), sha256=hashlib.sha256(data).hexdigest()
    )


def file_voice_messages(session: Session, actor: str = "system") -> list[int]:
    """File every new voice message in the inbox (channel voice, the recording attached); the items' ids.

    A message is an inbox item that needs an answer, not a ticket: who reads it decides whether it
    becomes one (a complaint) or is simply done (a callback made, a question answered).
    """
    filed = []
    messages = session.scalars(select(VoiceMessage).where(VoiceMessage.status == "new").order_by(VoiceMessage.id))
    for message in list(messages):
        item = InboxItem(
            channel="voice",
            direction="in",
            sender="",
            patient_id=message.patient_id,
            subject=f"voice message: {message.reason}",
            body="",
            received_at=message.created_at,
            external_id=f"voice-message-{message.id}",
            needs_reply=True,
        )
        item.attachments.append(_recording(message.path))
        session.add(item)
        session.flush()
        message.status = "inbox"
        filed.append(item.id)
        log.info("voice message %d filed as inbox item %d by %s", message.id, item.id, actor)
    return filed


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
