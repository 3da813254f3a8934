"""The work behind `ccctl hl7 ...`: the message log, one message in full (audited), sending again, sending a file.

The list shows no patient data (type, control id, status, the field at fault); `show` prints the text,
which is patient data, so every show leaves an audit row naming the patient PID-3 points at.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from ccctl.config import Settings
from ccctl.errors import UserError
from ccctl.patients.hl7_inbound import receive
from ccctl.patients.hl7_message import Hl7Reject, normalise_text, parse, read_header, repetitions
from ccctl.patients.hl7_outbound import send_one
from ccctl.records.audit import record_audit
from ccctl.records.database import command_engine, in_transaction
from ccctl.records.models.appointments import Hl7Message
from ccctl.records.models.base import utc_now
from ccctl.records.models.patients import Patient

STATUSES = ("applied", "rejected", "duplicate", "reviewed", "pending", "acked")
LIST_MAX_ROWS = 10_000
MAX_FILE_BYTES = 1_048_576


class Hl7CommandError(UserError):
    """A `ccctl hl7` command that cannot be done: one line naming the message id, file or address."""


@dataclass(frozen=True)
class MessageRow:
    id: int
    direction: str
    message_type: str
    control_id: str
    status: str
    attempts: int
    created_at: datetime
    error: str
    peer: str


def list_messages(url: str, status: str | None, direction: str | None, limit: int) -> list[MessageRow]:
    """The newest messages first, filtered."""
    if not 1 <= limit <= LIST_MAX_ROWS:
        raise Hl7CommandError(f"--limit: must be between 1 and {LIST_MAX_ROWS}, got {limit}")
    query = select(Hl7Message).order_by(Hl7Message.id.desc()).limit(limit)
    if status:
        query = query.where(Hl7Message.status == status)
    if direction:
        query = query.where(Hl7Message.direction == direction)
    with command_engine(url, Hl7CommandError) as engine, Session(engine) as session:
        return [
            MessageRow(
                m.id, m.direction, m.message_type, m.control_id, m.status, m.attempts, m.created_at, m.error, m.peer
            )
            for m in session.scalars(query)
        ]


def _message(session: Session, message_id: int) -> Hl7Message:
    row = session.get(Hl7Message, message_id)
    if row is None:
        raise Hl7CommandError(f"HL7 message {message_id}: no such message")
    return row


def patient_of(session: Session, raw: str) -> int | None:
    """The stored patient the message's PID-3 names, if any (whom a read of its text is about)."""
    try:
        message = parse(raw)
    except Hl7Reject:
        return None
    ids = [rep[0] for rep in repetitions(message, "PID", 3) if rep and rep[0]]
    if not ids:
        return None
    return session.scalars(select(Patient.id).where(Patient.hospital_id.in_(ids)).limit(1)).first()


def show(url: str, message_id: int, actor: str) -> tuple[MessageRow, str]:
    """One message with its text; the read is audited (against its patient when known)."""

    def work(session: Session) -> tuple[MessageRow, str]:
        m = _message(session, message_id)
        record_audit(session, actor, "hl7 show", patient_of(session, m.raw), "cli", detail=f"HL7 message {m.id}")
        row = MessageRow(
            m.id, m.direction, m.message_type, m.control_id, m.status, m.attempts, m.created_at, m.error, m.peer
        )
        return row, normalise_text(m.raw)

    return in_transaction(url, Hl7CommandError, work)


def retry(settings: Settings, message_id: int, actor: str) -> str:
    """Inbound rejected: apply its text again (after the data was fixed); outbound: send it now. A sentence."""
    url = settings.database.url
    with command_engine(url, Hl7CommandError) as engine:
        with Session(engine) as session:
            m = _message(session, message_id)
            direction, status, raw = m.direction, m.status, m.raw
        if direction == "in":
            if status != "rejected":
                raise Hl7CommandError(f"HL7 message {message_id} is {status}: only a rejected one is applied again")
            receipt = receive(engine, raw, f"retry by {actor}", settings)
            if receipt.code != "AA":
                return f"message {message_id} rejected again: {receipt.error}"
            with Session(engine) as session, session.begin():
                _message(session, message_id).status = "reviewed"
            return f"message {message_id} applied (as message {receipt.message_id})"
        if status == "acked":
            raise Hl7CommandError(f"HL7 message {message_id} was already acknowledged")
        if not settings.hl7.outbound_host:
            raise Hl7CommandError(f"hl7.outbound_host is not set in {settings.source}: nowhere to send")
        acked, detail = send_one(raw, settings.hl7)
        with Session(engine) as session, session.begin():
            row = _message(session, message_id)
            row.attempts += 1
            row.status, row.error = ("acked", "") if acked else ("pending", detail[:512])
            if acked:
                row.done_at, row.next_attempt_at = utc_now(), None
        return f"message {message_id} {'acknowledged' if acked else 'not acknowledged'}: {detail}"


def send_file(settings: Settings, file: str, to: str | None) -> str:
    """Send an HL7 file (one message) over MLLP to `to` (HOST:PORT) or hl7.outbound_host; the ACK's code."""
    path = Path(file)
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise Hl7CommandError(f"{file}: larger than {MAX_FILE_BYTES} bytes")
        text = normalise_text(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise Hl7CommandError(f"{file}: cannot read ({getattr(exc, 'strerror', None) or type(exc).__name__})") from None
    try:
        read_header(parse(text))
    except Hl7Reject as exc:
        raise Hl7CommandError(f"{file}: {exc}") from None
    host, port = settings.hl7.outbound_host, settings.hl7.outbound_port
    if to:
        host, _, port_text = to.rpartition(":")
        if not host or not port_text.isdigit():
            raise Hl7CommandError(f"--to {to}: use HOST:PORT")
        port = int(port_text)
    if not host:
        raise Hl7CommandError(f"hl7.outbound_host is not set in {settings.source}: give --to HOST:PORT")
    acked, detail = send_one(text, settings.hl7, host, port)
    return f"{'acknowledged' if acked else 'not acknowledged'}: {detail}"
