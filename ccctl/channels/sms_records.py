"""What SMS traffic leaves in the database: incoming messages filed in the inbox, opt-outs,
outgoing messages with their delivery reports.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ccctl.channels.inbox import IncomingMessage, receive
from ccctl.channels.sms import SmsError, normalize_number, send_sms_with_id
from ccctl.config import Settings
from ccctl.records.models.base import utc_now
from ccctl.records.models.channels import SmsMessage, SmsOptOut

log = logging.getLogger("ccctl.channels.sms")

# Kannel's DLR types (dlr-mask bits) and the status each leaves on the message
DELIVERY_STATES = {1: "delivered", 2: "failed", 4: "buffered", 8: "sent", 16: "failed"}
# a later report never moves a message back (a late "SMSC accepted" after "delivered")
STATE_RANK = {"queued": 0, "sent": 1, "buffered": 2, "failed": 3, "delivered": 4}


@dataclass
class IncomingSms:
    """One message as Kannel's get-url hands it over: the text still as raw bytes."""

    sender: str
    receiver: str
    text: bytes
    coding: str = "0"  # 0: 7-bit GSM (given to us as charset), 1: 8-bit data, 2: UCS-2
    charset: str = ""
    kannel_id: str = ""


def decode_text(sms: IncomingSms) -> tuple[str, str]:
    """The text and a problem ("" when it decoded cleanly); undecodable bytes become U+FFFD, never lost."""
    charset = (sms.charset or "").strip()
    if sms.coding == "2":
        encoding = charset if charset and charset.upper() not in ("UCS-2", "UCS2") else "utf-16-be"
    elif sms.coding == "1" or charset.upper() in ("8-BIT", "BINARY"):
        encoding = "utf-8"
    else:
        encoding = charset or "utf-8"
    try:
        return sms.text.decode(encoding), ""
    except LookupError:
        return sms.text.decode("utf-8", "replace"), f"SMS text in an unknown character set {charset[:30]!r}"
    except UnicodeDecodeError:
        text = sms.text.decode(encoding, "replace")
        return text, f"SMS text is not valid {encoding} (coding {sms.coding[:3]}): unreadable characters replaced"


def file_incoming(session: Session, settings: Settings, sms: IncomingSms) -> int:
    """File one received SMS in the inbox (under its patient when the number matches); the inbox item id.

    A keyword (STOP, START...) also changes the sender's opt-out. Nothing is refused: a
    message without a sender or with broken text is filed with its problem.
    """
    text, problem = decode_text(sms)
    sender = normalize_number(sms.sender)
    if not sender:
        problem = "; ".join(p for p in ("SMS without a sender number", problem) if p)
    elif not problem:
        keyword = apply_keyword(session, settings, sender, text)
        if keyword:
            log.info("SMS keyword %s from a patient recorded", keyword)
    message = IncomingMessage(
        channel="sms",
        sender=sender,
        body=text,
        external_id=sms.kannel_id,
        thread_key=f"sms:{sender}" if sender else "",
        problem=problem,
    )
    return receive(session, message)


def apply_keyword(session: Session, settings: Settings, number: str, text: str) -> str:
    """Record an opt-out or opt-in keyword ("STOP", "START"...); the keyword, or "" for a plain message."""
    words = text.strip().split(maxsplit=1)
    word = words[0].upper().strip(".!") if words else ""
    if word in (k.upper() for k in settings.sms.opt_out_keywords):
        if not is_opted_out(session, number):
            session.add(SmsOptOut(number=number, keyword=word))
            session.flush()
        return word
    if word in (k.upper() for k in settings.sms.opt_in_keywords):
        session.execute(delete(SmsOptOut).where(SmsOptOut.number == number))
        return word
    return ""


def is_opted_out(session: Session, number: str) -> bool:
    query = select(SmsOptOut.id).where(SmsOptOut.number == normalize_number(number))
    return session.scalars(query).first() is not None


def record_delivery(session: Session, message_id: str, dlr_type: int) -> SmsMessage | None:
    """Apply one Kannel delivery report; the message, or None for an id we never sent."""
    message = session.scalars(select(SmsMessage).where(SmsMessage.message_id == message_id)).first()
    if message is None:
        return None
    state = DELIVERY_STATES.get(dlr_type)
    if state is None:
        message.dlr_status = message.dlr_status or dlr_type
    # reports can arrive out of order (SMSC "submitted" after "delivered"): the furthest state wins
    elif STATE_RANK[state] >= STATE_RANK.get(message.status, 0):
        message.dlr_status = dlr_type
        message.status = state
        if state == "delivered":
            message.delivered_at = utc_now()
        if state == "failed" and not message.error:
            message.error = f"delivery report {dlr_type}: not delivered"
    session.flush()
    return message


def send_and_record(session: Session, settings: Settings, message: SmsMessage) -> SmsMessage:
    """Send one stored message unless its number opted out; its status says what happened.

    The row is committed as "sending" before Kannel is asked, so a crash between the two
    leaves a row a re-run will not send again (at most once beats twice for patients).
    """
    if is_opted_out(session, message.recipient):
        message.status = "opted_out"
        session.commit()
        return message
    message.status = "sending"
    message.message_id = message.message_id or uuid.uuid4().hex
    session.commit()
    try:
        send_sms_with_id(settings, message.recipient, message.body, message.message_id)
    except SmsError as exc:
        message.status = "failed"
        message.error = str(exc)
    else:
        message.status = "sent" if message.status == "sending" else message.status
        message.sent_at = utc_now()
    session.commit()
    return message


def send_one(session: Session, settings: Settings, to: str, text: str, patient_id: int | None = None) -> SmsMessage:
    """A single SMS (not part of a batch), recorded with its status."""
    message = SmsMessage(recipient=normalize_number(to), body=text, patient_id=patient_id, status="queued")
    session.add(message)
    session.flush()
    return send_and_record(session, settings, message)
