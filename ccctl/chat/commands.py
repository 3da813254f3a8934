"""The work behind `ccctl chat`: find chats (by a patient or by what was written), show and export a transcript.

Transcripts are patient data: every listing that names patients, every show and every export leaves an
audit row (the search as typed, the chat ids and patient codes shown, never the text).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from ccctl.chat.store import ChatError, chat_by_id, find_chats, lines_after
from ccctl.patients.repository import find_by_code
from ccctl.records.audit import record_audit
from ccctl.records.database import command_engine
from ccctl.records.models.patients import Patient


@dataclass(frozen=True)
class ChatRow:
    id: int
    started_at: datetime
    language: str
    state: str
    patient: str  # the patient's code, "" when anonymous
    verified_by: str
    agent: str
    inbox_item: int | None


def _code(db: Session, patient_id: int | None) -> str:
    patient = db.get(Patient, patient_id) if patient_id is not None else None
    return patient.patient_code if patient is not None else ""


def _row(db: Session, chat) -> ChatRow:
    return ChatRow(
        chat.id,
        chat.started_at,
        chat.language,
        chat.state,
        _code(db, chat.patient_id),
        chat.verified_by,
        chat.agent or "",
        chat.inbox_item_id,
    )


def list_chats(url: str, text: str, patient_code: str, limit: int, actor: str, source: str) -> list[ChatRow]:
    """Chats newest first, of one patient and/or with a line containing `text`; audited when it names patients."""
    with command_engine(url, ChatError) as engine, Session(engine) as db, db.begin():
        patient_id = None
        if patient_code:
            patient = find_by_code(db, patient_code)
            if patient is None:
                raise ChatError(f"patient {patient_code!r}: no such patient code")
            patient_id = patient.id
        rows = [_row(db, chat) for chat in find_chats(db, text, patient_id, limit)]
        named = sorted({r.patient for r in rows if r.patient})
        if named or text:
            detail = f"search {text!r}: " if text else ""
            detail += f"chats {', '.join(str(r.id) for r in rows) or 'none'}"
            detail += f"; patients {', '.join(named)}" if named else ""
            record_audit(db, actor, "chat list", patient_id, source, detail=detail[:2000])
        return rows


def transcript_of(url: str, chat_id: int, actor: str, source: str, action: str = "chat show") -> dict:
    """One chat and all its lines (audited: `chat show` or `chat export`)."""
    with command_engine(url, ChatError) as engine, Session(engine) as db, db.begin():
        chat = chat_by_id(db, chat_id)
        row = _row(db, chat)
        lines = [
            {"at": line.at, "who": line.who, "agent": line.agent, "text": line.text, "article": line.article}
            for line in lines_after(db, chat.id)
        ]
        record_audit(db, actor, action, chat.patient_id, source, detail=f"chat {chat.id}")
        return {
            "id": row.id,
            "started_at": row.started_at,
            "language": row.language,
            "state": row.state,
            "patient": row.patient,
            "verified_by": row.verified_by,
            "agent": row.agent,
            "wrapup": chat.wrapup_code,
            "inbox_item": row.inbox_item,
            "lines": lines,
        }


def transcript_text(chat: dict) -> str:
    head = (
        f"chat {chat['id']}: {chat['state']}, {chat['language']}, started {chat['started_at']:%Y-%m-%d %H:%M} UTC, "
        f"patient {chat['patient'] or '-'}{' (' + chat['verified_by'] + ')' if chat['verified_by'] else ''}, "
        f"agent {chat['agent'] or '-'}"
    )
    body = []
    for line in chat["lines"]:
        who = f"agent {line['agent']}" if line["who"] == "agent" else line["who"]
        source = f" [{line['article']}]" if line["article"] else ""
        body.append(f"{line['at']} {who}: {line['text']}{source}")
    return "\n".join([head, *body])
