"""Tables of the web chat: one row per chat and one per message in it (patient, assistant or agent).

A chat belongs to a patient once they sign in inside it; until then it is anonymous and only its
random token (kept as a SHA-256 digest, never in clear) lets the browser that opened it read it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ccctl.records.models.base import Base, utc_now


class ChatSession(Base):
    """One chat: who (a patient once signed in), its language, its state and the agent holding it."""

    __tablename__ = "chat_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    language: Mapped[str] = mapped_column(String(8), default="en")
    # assistant, waiting (for an agent), with_agent, closed
    state: Mapped[str] = mapped_column(String(16), default="assistant", index=True)
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patients.id", ondelete="SET NULL"), index=True)
    # how the patient proved who they are: "", "pin" or "sms"
    verified_by: Mapped[str] = mapped_column(String(8), default="")
    # the skill a waiting chat needs (chat.skill, or the queue it was transferred to)
    queue: Mapped[str] = mapped_column(String(64), default="")
    agent: Mapped[str | None] = mapped_column(String(64), index=True)
    started_at: Mapped[datetime] = mapped_column(default=utc_now, index=True)
    waiting_since: Mapped[datetime | None] = mapped_column()
    ended_at: Mapped[datetime | None] = mapped_column()
    # the inbox item its transcript (or the message left out of hours) was filed as
    inbox_item_id: Mapped[int | None] = mapped_column(ForeignKey("inbox_items.id", ondelete="SET NULL"))
    # the one-time SMS code being tried: its argon2 hash, when it lapses, wrong tries so far
    code_hash: Mapped[str] = mapped_column(Text, default="")
    code_patient_id: Mapped[int | None] = mapped_column(ForeignKey("patients.id", ondelete="SET NULL"))
    code_until: Mapped[datetime | None] = mapped_column()
    code_failures: Mapped[int] = mapped_column(default=0)
    wrapup_code: Mapped[str] = mapped_column(String(64), default="")
    wrapup_notes: Mapped[str] = mapped_column(Text, default="")


class ChatMessage(Base):
    """One line of a chat: who wrote it (patient, assistant, agent, system), the text, the article it quotes."""

    __tablename__ = "chat_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("chat_sessions.id", ondelete="CASCADE"), index=True)
    who: Mapped[str] = mapped_column(String(16))
    agent: Mapped[str] = mapped_column(String(64), default="")
    text: Mapped[str] = mapped_column(Text, default="")
    article_slug: Mapped[str] = mapped_column(String(128), default="")
    # a file the patient sent (checked like the contact form's): where it is stored, never served
    attachment_path: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(default=utc_now)
