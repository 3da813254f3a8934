"""Answers from the inbox: a reply goes out on the item's own channel and is kept in its thread.

E-mail goes through ccctl.channels.email, SMS through ccctl.channels.sms (Kannel); a web-form item is
answered by the e-mail or SMS the patient gave in the form; other channels (fax, letter, voice) have no
automatic way back and are refused with a one-line reason.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ccctl.channels.email import EmailError, send_email
from ccctl.channels.inbox import InboxError, email_address, get_item, patient_email, record_outgoing
from ccctl.config import Settings
from ccctl.records.audit import record_audit
from ccctl.records.models.inbox import InboxItem
from ccctl.records.models.patients import PatientPhone

REPLY_CHANNELS = ("email", "sms")


class DeliveryError(RuntimeError):
    """A message could not be sent; str() names the channel and the gateway's reason, no patient data."""


def deliver(settings: Settings, channel: str, to: str, subject: str, text: str, in_reply_to: str = "") -> str:
    """Send one message on a channel; the gateway's id for it (Message-ID, Kannel id)."""
    if channel == "email":
        try:
            return send_email(settings.email, to, subject, text, in_reply_to=in_reply_to)
        except EmailError as exc:
            raise DeliveryError(f"e-mail: {exc}") from None
    if channel == "sms":
        try:
            from ccctl.channels import sms  # another feature's adapter (Kannel); imported when used
        except ImportError:
            raise DeliveryError("sms: no SMS gateway adapter is installed (ccctl.channels.sms)") from None
        try:
            return sms.send_sms(settings, to, text)
        except sms.SmsError as exc:
            raise DeliveryError(f"sms: {exc}") from None
    raise DeliveryError(f"channel {channel!r} has no automatic sending (use {', '.join(REPLY_CHANNELS)})")


def reply_route(item: InboxItem) -> tuple[str, str]:
    """(channel, address) an answer to this received item goes by; ("", "") when there is no way back."""
    if item.channel == "email":
        return "email", email_address(item.sender)
    if item.channel == "sms":
        return "sms", item.sender
    if item.channel == "web":
        # the form keeps the phone the patient typed, else their e-mail address
        address = email_address(item.sender)
        return ("email", address) if address else ("sms", item.sender.strip())
    return "", ""


def _reply_subject(subject: str) -> str:
    return subject if subject.lower().startswith("re:") else f"Re: {subject}".strip()


def reply(session: Session, settings: Settings, item_id: int, text: str, actor: str) -> int:
    """Answer an inbox item on its channel; the id of the item kept for the sent reply."""
    item = get_item(session, item_id)
    if item.direction != "in":
        raise InboxError(f"inbox item {item_id} is a sent message; reply to the message it answered")
    if not text.strip():
        raise InboxError("reply text is empty")
    channel, to = reply_route(item)
    if not channel:
        raise InboxError(f"inbox item {item_id} came by {item.channel}, which has no automatic reply")
    if not to:
        raise InboxError(f"inbox item {item_id} has no sender address to reply to")
    subject = _reply_subject(item.subject) if channel == "email" else ""
    in_reply_to = item.external_id if item.channel == "email" and (item.external_id or "").startswith("<") else ""
    try:
        sent_id = deliver(settings, channel, to, subject, text, in_reply_to=in_reply_to)
    except DeliveryError as exc:
        raise InboxError(f"inbox item {item_id}: reply not sent, {exc}") from None
    reply_id = record_outgoing(session, item, to, subject, text, sent_id)
    item.needs_reply, item.done = False, True
    if item.patient_id is not None:
        record_audit(session, actor, "inbox reply", item.patient_id, "inbox", f"item {item_id}")
    return reply_id


@dataclass
class Notice:
    channel: str  # email, sms, "" when the patient has no known address
    external_id: str = ""


def _patient_mobile(session: Session, patient_id: int) -> str:
    query = select(PatientPhone.number).where(PatientPhone.patient_id == patient_id)
    numbers = list(session.scalars(query.order_by((PatientPhone.kind == "mobile").desc(), PatientPhone.id)))
    return numbers[0] if numbers else ""


def notify_patient(
    session: Session, settings: Settings, patient_id: int | None, subject: str, text: str, item: InboxItem | None
) -> Notice:
    """Tell a patient something on their channel: the item's own (e-mail, SMS), else e-mail, else SMS."""
    if item is not None and item.direction == "in":
        channel, to = reply_route(item)
        if channel and to:
            sent_id = deliver(settings, channel, to, subject if channel == "email" else "", text)
            record_outgoing(session, item, to, subject, text, sent_id)
            return Notice(channel, sent_id)
    if patient_id is None:
        return Notice("")
    address = patient_email(session, patient_id)
    if address:
        return Notice("email", deliver(settings, "email", address, subject, text))
    mobile = _patient_mobile(session, patient_id)
    if mobile:
        return Notice("sms", deliver(settings, "sms", mobile, "", text))
    return Notice("")
