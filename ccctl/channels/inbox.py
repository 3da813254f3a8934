"""One inbox for every written message: files what a channel received under its patient and keeps it.

Channels call receive(); bad content is stored with `problem` set, never dropped. What only the
sender's own typing ties to a patient (the web form) is filed unverified: the patient is suggested,
not attached. Agents sort the items with list/assign/flag/file; replies go out on the item's own channel.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import parseaddr
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from ccctl.errors import UserError
from ccctl.patients.repository import find_by_code, find_by_phone
from ccctl.records.models.base import utc_now
from ccctl.records.models.inbox import InboxAttachment, InboxItem, PatientEmail, Ticket
from ccctl.records.models.patients import Patient
from ccctl.tickets.service import add_event

CHANNELS = ("sms", "email", "fax", "web", "voice", "letter", "chat")
# the web form gives a phone number when the patient typed one (else an e-mail address)
PHONE_CHANNELS = ("sms", "fax", "voice", "web")
FLAGS = ("needs-reply", "done")
LIST_FLAGS = ("needs-reply", "done", "open", "unverified")
# generated patient codes (P000123); a hand-chosen code in a text cannot be told from other words
PATIENT_CODE_IN_TEXT = re.compile(r"\bP\d{6}\b")
SAFE_FILENAME = re.compile(r"[^A-Za-z0-9._-]+")
MAX_INDEXED = 255  # String(255) columns: longer values are cut, not refused


class InboxError(UserError, ValueError):
    """An inbox command that cannot be done; str() is one line naming the item or value at fault."""


@dataclass
class Attachment:
    filename: str
    content_type: str
    path: str


@dataclass
class IncomingMessage:
    channel: str  # sms|email|fax|web|voice|letter
    sender: str
    subject: str = ""
    body: str = ""
    attachments: list[Attachment] = field(default_factory=list)
    external_id: str = ""
    thread_key: str = ""
    problem: str = ""
    # False: anyone could have typed the sender and codes, so a matched patient is only suggested
    verified: bool = True


def save_attachment(directory: str | Path, filename: str, data: bytes, content_type: str) -> Attachment:
    """Write a received file under directory/YYYY/MM/DD/ with a name that cannot escape it."""
    digest = hashlib.sha256(data).hexdigest()
    safe = SAFE_FILENAME.sub("_", Path(filename or "attachment").name).strip("._") or "attachment"
    day = utc_now()
    folder = Path(directory) / f"{day:%Y}" / f"{day:%m}" / f"{day:%d}"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{digest[:16]}-{safe[:100]}"
    path.write_bytes(data)
    return Attachment(filename=filename or safe, content_type=content_type, path=str(path))


def email_address(sender: str) -> str:
    """The bare lower-cased address of 'Name <a@b.org>' ('' when there is none)."""
    address = parseaddr(sender or "")[1].strip().lower()
    return address if "@" in address else ""


def add_patient_email(session: Session, patient: Patient, address: str) -> None:
    """Remember an e-mail address of a patient so their mail is filed under them."""
    bare = email_address(address)
    if not bare:
        raise InboxError("e-mail address: not an address like name@example.org")
    known = select(PatientEmail).where(PatientEmail.patient_id == patient.id, PatientEmail.address == bare)
    if session.scalars(known).first() is None:
        session.add(PatientEmail(patient_id=patient.id, address=bare))
        session.flush()


def patient_email(session: Session, patient_id: int) -> str:
    """The first e-mail address known for a patient, '' when none."""
    query = select(PatientEmail.address).where(PatientEmail.patient_id == patient_id).order_by(PatientEmail.id)
    return session.scalars(query).first() or ""


def match_patient(session: Session, channel: str, sender: str, text: str) -> int | None:
    """The patient a message belongs to: by sender phone or e-mail, else by a patient code in the text."""
    patient = None
    if channel in PHONE_CHANNELS:
        patient = find_by_phone(session, sender)
    address = email_address(sender) if patient is None else ""
    if address:
        query = select(PatientEmail.patient_id).where(PatientEmail.address == address).order_by(PatientEmail.id)
        patient_id = session.scalars(query).first()
        if patient_id is not None:
            return patient_id
    if patient is None:
        for code in PATIENT_CODE_IN_TEXT.findall(text or ""):
            patient = find_by_code(session, code)
            if patient is not None:
                break
    return patient.id if patient is not None else None


def _clean(text: str, limit: int | None = None) -> str:
    # PostgreSQL refuses NUL in text; a broken message must still be stored
    text = (text or "").replace("\x00", "\ufffd")
    return text[:limit] if limit else text


def _thread_patient(session: Session, thread_key: str) -> int | None:
    if not thread_key:
        return None
    query = select(InboxItem.patient_id).where(InboxItem.thread_key == thread_key, InboxItem.patient_id.is_not(None))
    return session.scalars(query.order_by(InboxItem.id)).first()


def _attachment_row(attachment: Attachment) -> tuple[InboxAttachment, str]:
    path = Path(attachment.path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        problem = f"attachment {attachment.filename!r}: cannot read {path} ({exc.strerror})"
        row = InboxAttachment(filename=_clean(attachment.filename), path=str(path), size=0, sha256="")
        return row, problem
    row = InboxAttachment(
        filename=_clean(attachment.filename),
        content_type=_clean(attachment.content_type or "application/octet-stream", MAX_INDEXED),
        path=str(path),
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
    )
    return row, ""


def receive(session: Session, message: IncomingMessage, received_at: datetime | None = None) -> int:
    """File one received message (matched to its patient when possible); the inbox item id.

    The same (channel, external_id) twice gives the first item's id: a re-polled mailbox or a
    re-sent SMS is not filed twice. Bad content is stored with `problem` set, never refused.
    """
    external_id = _clean(message.external_id, MAX_INDEXED) or None
    if external_id is not None:
        existing = session.scalars(
            select(InboxItem.id).where(InboxItem.channel == message.channel, InboxItem.external_id == external_id)
        ).first()
        if existing is not None:
            return existing
    problems = [message.problem] if message.problem else []
    if message.channel not in CHANNELS:
        problems.append(f"unknown channel {message.channel[:20]!r}")
    text = f"{message.subject}\n{message.body}"
    thread_key = _clean(message.thread_key, MAX_INDEXED)
    patient_id = match_patient(session, message.channel, message.sender, text) or _thread_patient(session, thread_key)
    suggested_id = None
    if not message.verified:
        patient_id, suggested_id = None, patient_id
    item = InboxItem(
        channel=_clean(message.channel, 16),
        direction="in",
        sender=_clean(message.sender),
        patient_id=patient_id,
        suggested_patient_id=suggested_id,
        subject=_clean(message.subject),
        body=_clean(message.body),
        received_at=received_at or utc_now(),
        thread_key=thread_key,
        external_id=external_id,
    )
    for attachment in message.attachments:
        row, problem = _attachment_row(attachment)
        item.attachments.append(row)
        if problem:
            problems.append(problem)
    item.problem = _clean("; ".join(problems))
    session.add(item)
    session.flush()
    return item.id


def record_outgoing(session: Session, original: InboxItem, to: str, subject: str, body: str, external_id: str) -> int:
    """Keep a sent reply in the inbox, in the thread and under the patient of the item it answers."""
    item = InboxItem(
        channel=original.channel,
        direction="out",
        sender=_clean(to),
        patient_id=original.patient_id,
        subject=_clean(subject),
        body=_clean(body),
        thread_key=original.thread_key or (original.external_id or ""),
        external_id=_clean(external_id, MAX_INDEXED) or None,
        done=True,
    )
    session.add(item)
    session.flush()
    return item.id


@dataclass
class InboxFilter:
    channel: str | None = None
    flag: str | None = None  # needs-reply, done, open (not done)
    assigned_to: str | None = None
    unassigned: bool = False
    patient_code: str | None = None
    limit: int = 100
    oldest_first: bool = False  # work the queue in arrival order


def list_items(session: Session, filters: InboxFilter) -> list[InboxItem]:
    """Items newest (or oldest) first, filtered; a patient code that does not exist is an InboxError."""
    query = select(InboxItem)
    if filters.channel:
        query = query.where(InboxItem.channel == filters.channel)
    if filters.flag == "needs-reply":
        query = query.where(InboxItem.needs_reply.is_(True), InboxItem.done.is_(False))
    elif filters.flag == "done":
        query = query.where(InboxItem.done.is_(True))
    elif filters.flag == "open":
        query = query.where(InboxItem.done.is_(False))
    elif filters.flag == "unverified":
        query = query.where(InboxItem.suggested_patient_id.is_not(None))
    elif filters.flag:
        raise InboxError(f"--flag: {filters.flag!r} is not one of {', '.join(LIST_FLAGS)}")
    if filters.assigned_to:
        query = query.where(InboxItem.assigned_to == filters.assigned_to)
    if filters.unassigned:
        query = query.where(InboxItem.assigned_to.is_(None))
    if filters.patient_code:
        patient = find_by_code(session, filters.patient_code)
        if patient is None:
            raise InboxError(f"no patient with code '{filters.patient_code}'")
        query = query.where(InboxItem.patient_id == patient.id)
    if filters.oldest_first:
        query = query.order_by(InboxItem.received_at, InboxItem.id)
    else:
        query = query.order_by(InboxItem.received_at.desc(), InboxItem.id.desc())
    query = query.limit(filters.limit)
    return list(session.scalars(query))


def get_item(session: Session, item_id: int) -> InboxItem:
    item = session.get(InboxItem, item_id)
    if item is None:
        raise InboxError(f"no inbox item {item_id}")
    return item


def assign(session: Session, item_id: int, user: str) -> InboxItem:
    item = get_item(session, item_id)
    item.assigned_to = user.strip() or None
    return item


def set_flag(session: Session, item_id: int, flag: str) -> InboxItem:
    """needs-reply: someone must answer; done: nothing left to do (also clears needs-reply)."""
    item = get_item(session, item_id)
    if flag == "needs-reply":
        item.needs_reply, item.done = True, False
    elif flag == "done":
        item.needs_reply, item.done = False, True
    else:
        raise InboxError(f"flag {flag!r} is not one of {', '.join(FLAGS)}")
    return item


def file_under(session: Session, item_id: int, patient_code: str, actor: str = "system") -> InboxItem:
    """Move an item (unmatched, unverified or wrongly matched) under the patient with this code.

    Filing confirms an unverified item: the suggestion goes, and a ticket the item opened without
    a patient (a web-form complaint) is filed under the same patient.
    """
    item = get_item(session, item_id)
    patient = find_by_code(session, patient_code)
    if patient is None:
        raise InboxError(f"no patient with code '{patient_code}'")
    item.patient_id = patient.id
    item.suggested_patient_id = None
    unfiled = select(Ticket).where(Ticket.inbox_item_id == item.id, Ticket.patient_id.is_(None))
    for ticket in session.scalars(unfiled):
        ticket.patient_id = patient.id
        add_event(session, ticket, actor, "filed", ticket.state, f"under the patient of inbox item {item.id}")
    return item
