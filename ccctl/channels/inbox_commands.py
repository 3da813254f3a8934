"""The work behind `ccctl inbox ...`: one transaction per command, reads of patients' items audited.

cli_inbox.py parses and prints; these functions open the database, call the inbox and turn
database failures into one-line InboxError messages without SQL or patient data.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from sqlalchemy.orm import Session

from ccctl.channels.inbox import (
    InboxError,
    InboxFilter,
    add_patient_email,
    assign,
    file_under,
    get_item,
    list_items,
    set_flag,
)
from ccctl.channels.inbox_reply import reply
from ccctl.config import Settings
from ccctl.patients.repository import find_by_code
from ccctl.records import database
from ccctl.records.audit import record_audit
from ccctl.records.models.inbox import InboxItem
from ccctl.records.models.patients import Patient
from ccctl.storage.sealed import MediaKeyError, copy_clear

T = TypeVar("T")
SOURCE = "cli"


def in_transaction(url: str, work: Callable[[Session], T]) -> T:
    """One transaction for a command; database problems become one-line InboxErrors."""
    return database.in_transaction(url, InboxError, work)


def _codes(session: Session, items: list[InboxItem]) -> dict[int, str]:
    ids = {item.patient_id for item in items if item.patient_id is not None}
    ids |= {item.suggested_patient_id for item in items if item.suggested_patient_id is not None}
    return {p.id: p.patient_code for p in session.query(Patient).filter(Patient.id.in_(ids))} if ids else {}


def _flags(item: InboxItem) -> str:
    return (
        ",".join(
            f
            for f, on in (
                ("unverified", item.suggested_patient_id is not None),
                ("needs-reply", item.needs_reply),
                ("done", item.done),
                ("problem", bool(item.problem)),
            )
            if on
        )
        or "-"
    )


def list_text(url: str, filters: InboxFilter, as_json: bool) -> str:
    """The filtered inbox as a table (or JSON): id, time, channel, patient code, flags, assignee, subject."""

    def work(session: Session) -> str:
        items = list_items(session, filters)
        codes = _codes(session, items)
        rows = [
            {
                "id": item.id,
                "received_at": item.received_at.isoformat(timespec="seconds"),
                "channel": item.channel,
                "direction": item.direction,
                "patient": codes.get(item.patient_id, "") if item.patient_id else "",
                "suggested_patient": codes.get(item.suggested_patient_id, "") if item.suggested_patient_id else "",
                "flags": _flags(item),
                "assigned_to": item.assigned_to or "",
                "subject": (item.subject or item.body).splitlines()[0][:60] if (item.subject or item.body) else "",
            }
            for item in items
        ]
        if as_json:
            return json.dumps(rows, indent=2)
        if not rows:
            return "no inbox items"
        lines = [
            f"{'id':>5} {'received (UTC)':<19} {'channel':<7} {'dir':<3} {'patient':<9} {'flags':<20} {'assigned':<10} subject"
        ]
        for r in rows:
            lines.append(
                f"{r['id']:>5} {r['received_at'][:19]:<19} {r['channel']:<7} {r['direction']:<3} "
                f"{r['patient'] or (r['suggested_patient'] + '?' if r['suggested_patient'] else 'unfiled'):<9} "
                f"{r['flags']:<20} {r['assigned_to'] or '-':<10} {r['subject']}"
            )
        return "\n".join(lines)

    return in_transaction(url, work)


def show_data(url: str, item_id: int, actor: str) -> dict:
    """One item in full with its attachments (what `inbox show --json` prints); reading a patient's item is
    written to the audit log."""

    def work(session: Session) -> dict:
        item = get_item(session, item_id)
        codes = _codes(session, [item])
        for patient_id in (item.patient_id, item.suggested_patient_id):
            if patient_id is not None:
                record_audit(session, actor, "inbox show", patient_id, SOURCE, f"item {item_id}")
        return {
            "id": item.id,
            "channel": item.channel,
            "direction": item.direction,
            "received_at": item.received_at,
            "patient": codes.get(item.patient_id, "") if item.patient_id else "",
            "suggested_patient": codes.get(item.suggested_patient_id, "") if item.suggested_patient_id else "",
            "sender": item.sender,
            "subject": item.subject,
            "flags": _flags(item),
            "assigned_to": item.assigned_to or "",
            "thread": item.thread_key or "",
            "problem": item.problem or "",
            "attachments": [
                {
                    "filename": a.filename,
                    "content_type": a.content_type,
                    "size": a.size,
                    "sha256": a.sha256,
                    "path": a.path,
                }
                for a in item.attachments
            ],
            "body": item.body,
        }

    return in_transaction(url, work)


def show_text(url: str, item_id: int, actor: str) -> str:
    item = show_data(url, item_id, actor)
    if item["suggested_patient"]:
        suggested = item["suggested_patient"]
        filed = (
            f"unverified: what the sender typed matches {suggested}; "
            f"once confirmed: ccctl inbox file {item['id']} --patient {suggested}"
        )
    else:
        filed = item["patient"] or f"unfiled (ccctl inbox file {item['id']} --patient CODE)"
    incoming = item["direction"] == "in"
    lines = [
        f"item {item['id']} ({item['channel']}, {'received' if incoming else 'sent'} "
        f"{item['received_at']:%Y-%m-%d %H:%M:%S} UTC)",
        f"patient:   {filed}",
        f"{'from' if incoming else 'to'}:      {item['sender']}",
        f"subject:   {item['subject']}",
        f"flags:     {item['flags']}",
        f"assigned:  {item['assigned_to'] or '-'}",
        f"thread:    {item['thread'] or '-'}",
    ]
    if item["problem"]:
        lines.append(f"problem:   {item['problem']}")
    for a in item["attachments"]:
        lines.append(
            f"attached:  {a['filename']} ({a['content_type']}, {a['size']} bytes, sha256 {a['sha256'][:12]}) {a['path']}"
        )
    lines += ["", item["body"]]
    return "\n".join(lines)


def get_attachment(url: str, item_id: int, filename: str, out: str | Path, actor: str, key: bytes | None) -> Path:
    """Copy one attachment of an item, in clear (sealed at rest), to `out`; audited like the console's download."""

    def work(session: Session) -> Path:
        item = get_item(session, item_id)
        found = next((a for a in item.attachments if a.filename == filename), None)
        if found is None:
            raise InboxError(f"inbox item {item_id}: no attachment named {filename!r} (ccctl inbox show {item_id})")
        record_audit(session, actor, "inbox attachment", item.patient_id, SOURCE, f"item {item_id}")
        try:
            copy_clear(found.path, out, key)
        except MediaKeyError as exc:
            raise InboxError(str(exc)) from None
        return Path(out)

    return in_transaction(url, work)


def assign_item(url: str, item_id: int, user: str) -> None:
    in_transaction(url, lambda session: assign(session, item_id, user))


def flag_item(url: str, item_id: int, flag: str) -> None:
    in_transaction(url, lambda session: set_flag(session, item_id, flag))


def file_item(url: str, item_id: int, patient_code: str, actor: str) -> None:
    def work(session: Session) -> None:
        item = file_under(session, item_id, patient_code, actor)
        record_audit(session, actor, "inbox file", item.patient_id, SOURCE, f"item {item_id}")

    in_transaction(url, work)


def reply_item(url: str, settings: Settings, item_id: int, text: str, actor: str) -> int:
    return in_transaction(url, lambda session: reply(session, settings, item_id, text, actor))


def add_address(url: str, patient_code: str, address: str, actor: str) -> None:
    def work(session: Session) -> None:
        patient = find_by_code(session, patient_code)
        if patient is None:
            raise InboxError(f"no patient with code '{patient_code}'")
        add_patient_email(session, patient, address)
        record_audit(session, actor, "add e-mail address", patient.id, SOURCE)

    in_transaction(url, work)


def poll_email(settings: Settings) -> str:
    """Poll the configured IMAP folder once; a one-line summary."""
    from ccctl.channels.email_imap import MailboxError, poll_mailbox
    from ccctl.storage.sealed import load_key

    if not settings.email.imap_host:
        raise InboxError(f"{settings.source}: 'email.imap_host' is empty: no mailbox to poll")
    with database.command_engine(settings.database.url, InboxError) as engine:
        try:
            result = poll_mailbox(settings.email, settings.inbox.attachments_dir, engine, load_key(settings))
        except MailboxError as exc:
            raise InboxError(str(exc)) from None
    return f"filed {len(result.filed)} mail(s), {result.problems} with a problem"
