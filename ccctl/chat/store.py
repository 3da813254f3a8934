"""SQL of the web chat, on an open Session: chats, their messages, who holds them, their transcripts.

A waiting chat goes to the first agent who accepts it (one compare-and-set, so two agents never
both hold it); a transfer hands it to a named agent or back to waiting on another skill. A chat
that ends is filed as an inbox item: under its patient when they signed in, unfiled otherwise.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from ccctl.channels.inbox import Attachment, IncomingMessage, receive
from ccctl.channels.uploads import SIGNATURES
from ccctl.errors import UserError
from ccctl.records.models.acd import Agent, AgentSkill, Skill
from ccctl.records.models.base import utc_now
from ccctl.records.models.chat import ChatMessage, ChatSession
from ccctl.records.models.inbox import InboxItem
from ccctl.records.models.patients import Patient

LANGUAGES = ("en", "zh", "pl")
STATES = ("assistant", "waiting", "with_agent", "closed")
MAX_TEXT_CHARS = 2000


class ChatError(UserError, ValueError):
    """A chat action that cannot be done; one line naming the chat, never what the patient wrote."""


@dataclass(frozen=True)
class Line:
    """One message as the widget and the workstation show it."""

    id: int
    who: str
    text: str
    article: str
    agent: str
    at: str

    def json(self) -> dict:
        return {"id": self.id, "who": self.who, "text": self.text, "article": self.article, "at": self.at}


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def start_chat(db: Session, language: str) -> tuple[ChatSession, str]:
    """A new chat with the assistant; the chat and the random token only its browser holds."""
    token = secrets.token_urlsafe(32)
    chat = ChatSession(token_sha256=token_digest(token), language=language if language in LANGUAGES else "en")
    db.add(chat)
    db.flush()
    return chat, token


def chat_by_token(db: Session, token: str) -> ChatSession | None:
    if not token:
        return None
    return db.scalars(select(ChatSession).where(ChatSession.token_sha256 == token_digest(token))).first()


def chat_by_id(db: Session, chat_id: int) -> ChatSession:
    chat = db.get(ChatSession, chat_id)
    if chat is None:
        raise ChatError(f"chat {chat_id}: no such chat")
    return chat


def add_message(db: Session, chat: ChatSession, who: str, text: str, **extra: str) -> Line:
    message = ChatMessage(session_id=chat.id, who=who, text=text.replace("\x00", "")[:MAX_TEXT_CHARS], **extra)
    db.add(message)
    db.flush()
    return _line(message)


def _line(message: ChatMessage) -> Line:
    return Line(
        message.id, message.who, message.text, message.article_slug, message.agent, message.at.isoformat("T", "seconds")
    )


def lines_after(db: Session, chat_id: int, after: int = 0) -> list[Line]:
    query = select(ChatMessage).where(ChatMessage.session_id == chat_id, ChatMessage.id > after)
    return [_line(m) for m in db.scalars(query.order_by(ChatMessage.id))]


def patient_messages(db: Session, chat_id: int) -> int:
    query = select(func.count(ChatMessage.id)).where(ChatMessage.session_id == chat_id, ChatMessage.who == "patient")
    return db.scalar(query) or 0


def free_agents(db: Session, skill: str) -> int:
    """Agents with the skill who chose to be available (logged in, not on a break)."""
    query = (
        select(func.count(Agent.id))
        .join(AgentSkill, AgentSkill.agent_id == Agent.id)
        .join(Skill, Skill.id == AgentSkill.skill_id)
        .where(Skill.name == skill, Agent.status == "available")
    )
    return db.scalar(query) or 0


def skills_of(db: Session, agent: str) -> list[str]:
    query = (
        select(Skill.name)
        .join(AgentSkill, AgentSkill.skill_id == Skill.id)
        .join(Agent, Agent.id == AgentSkill.agent_id)
        .where(Agent.name == agent)
    )
    return list(db.scalars(query))


def wait_for_agent(db: Session, chat: ChatSession, queue: str) -> None:
    if chat.state == "closed":
        raise ChatError(f"chat {chat.id} has ended")
    chat.state, chat.queue, chat.agent, chat.waiting_since = "waiting", queue, None, utc_now()


def chats_of_agent(db: Session, agent: str) -> list[ChatSession]:
    """The agent's open chats, then the chats waiting for one of their skills (oldest first)."""
    skills = skills_of(db, agent)
    query = select(ChatSession).where(
        or_(
            (ChatSession.state == "with_agent") & (ChatSession.agent == agent),
            (ChatSession.state == "waiting") & ChatSession.queue.in_(skills),
            (ChatSession.state == "waiting") & (ChatSession.agent == agent),
        )
    )
    return list(db.scalars(query.order_by(ChatSession.waiting_since, ChatSession.id)))


def accept(db: Session, chat_id: int, agent: str) -> None:
    """The agent takes a waiting chat offered to their skills or to them; ChatError when someone else was first."""
    skills = skills_of(db, agent)
    taken = db.execute(
        update(ChatSession)
        .where(
            ChatSession.id == chat_id,
            ChatSession.state == "waiting",
            or_(ChatSession.queue.in_(skills), ChatSession.agent == agent),
        )
        .values(state="with_agent", agent=agent)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not taken:
        raise ChatError(f"chat {chat_id} is no longer waiting for you")
    db.expire_all()


def held_by(db: Session, chat_id: int, agent: str) -> ChatSession:
    chat = chat_by_id(db, chat_id)
    if chat.state != "with_agent" or chat.agent != agent:
        raise ChatError(f"chat {chat_id} is not with you")
    return chat


def transfer(db: Session, chat: ChatSession, to_agent: str = "", to_queue: str = "") -> None:
    """Hand a held chat to a named agent (offered to them alone) or back to waiting on a skill."""
    if to_agent:
        if db.scalars(select(Agent.id).where(Agent.name == to_agent)).first() is None:
            raise ChatError(f"agent {to_agent!r}: no such agent")
        chat.state, chat.agent, chat.queue, chat.waiting_since = "waiting", to_agent, "", utc_now()
    elif to_queue:
        if db.scalars(select(Skill.id).where(Skill.name == to_queue)).first() is None:
            raise ChatError(f"queue {to_queue!r}: no agent has this skill")
        wait_for_agent(db, chat, to_queue)
    else:
        raise ChatError(f"chat {chat.id}: name an agent or a queue to transfer to")


def transcript(db: Session, chat: ChatSession) -> str:
    lines = []
    for line in lines_after(db, chat.id):
        who = f"agent {line.agent}" if line.who == "agent" else line.who
        source = f" [{line.article}]" if line.article else ""
        lines.append(f"{line.at} {who}: {line.text}{source}")
    return "\n".join(lines)


def close(db: Session, chat: ChatSession, subject: str = "Web chat", needs_reply: bool = False) -> int:
    """End the chat and file its transcript in the inbox (under its patient when signed in); the item id."""
    files = db.execute(
        select(ChatMessage.text, ChatMessage.attachment_path).where(
            ChatMessage.session_id == chat.id, ChatMessage.attachment_path != ""
        )
    ).all()
    message = IncomingMessage(
        channel="chat",
        sender=f"chat {chat.id}",
        subject=subject,
        body=transcript(db, chat),
        attachments=[Attachment(name, _content_type(path), path) for name, path in files],
        external_id=f"chat-{chat.id}",
    )
    item_id = receive(db, message)
    item = db.get(InboxItem, item_id)
    item.patient_id, item.needs_reply = chat.patient_id, needs_reply
    chat.state, chat.ended_at, chat.inbox_item_id = "closed", utc_now(), item_id
    return item_id


def _content_type(path: str) -> str:
    extension = "." + path.rsplit(".", 1)[-1]
    return next((kind for kind, (_sig, ext) in SIGNATURES.items() if ext == extension), "application/octet-stream")


def patient_summary(db: Session, patient_id: int | None) -> dict | None:
    """What the agent sees of a signed-in patient (the caller gives the audit row)."""
    if patient_id is None:
        return None
    patient = db.get(Patient, patient_id)
    if patient is None:
        return None
    return {
        "id": patient.id,
        "name": f"{patient.given_name} {patient.family_name}".strip(),
        "code": patient.patient_code,
        "member": patient.member_number or "",
        "language": patient.language or "",
    }


def find_chats(db: Session, text: str = "", patient_id: int | None = None, limit: int = 50) -> list[ChatSession]:
    """Chats, newest first: of one patient, and/or with a message containing the text."""
    query = select(ChatSession)
    if patient_id is not None:
        query = query.where(ChatSession.patient_id == patient_id)
    if text:
        matching = select(ChatMessage.session_id).where(ChatMessage.text.ilike(f"%{text}%"))
        query = query.where(ChatSession.id.in_(matching))
    return list(db.scalars(query.order_by(ChatSession.id.desc()).limit(limit)))
