"""Tables of the web console: users and roles, sessions, login attempts (throttling), agents' patient contacts,
wrap-ups.

Imported at the end of models.py so Base.metadata (and the migration check) sees them.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ccctl.records.models.base import Base, utc_now


class WebUser(Base):
    """A person who logs in to the web console: admin, supervisor or agent."""

    __tablename__ = "web_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    # argon2id hash (the encoded form carries its own salt and cost)
    password_hash: Mapped[str] = mapped_column(String(256))
    # the ACD agent this user works as ("" = none; an agent user defaults to its own name)
    agent: Mapped[str] = mapped_column(String(64), default="", server_default="")
    language: Mapped[str] = mapped_column(String(8), default="en", server_default="en")
    disabled: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


class WebSession(Base):
    """A console session: the browser's cookie holds a random token, this row only its SHA-256.

    Deleting the row ends the session wherever the cookie went (logout, new password, new role, disabled user).
    """

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # None for a visitor who has not logged in (the session then keeps only a CSRF token and a language)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("web_users.id", ondelete="CASCADE"), index=True)
    # what Flask's `session` holds, as tagged JSON (flask.json.tag)
    data: Mapped[str] = mapped_column(Text, default="{}")
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    last_seen_at: Mapped[datetime] = mapped_column(default=utc_now, index=True)


class LoginAttempt(Base):
    """One login try: counted per user name and per address to slow down password guessing."""

    __tablename__ = "web_login_attempts"
    __table_args__ = (
        Index("ix_web_login_attempts_name_at", "name", "at"),
        Index("ix_web_login_attempts_address_at", "address", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    address: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(default=utc_now)
    ok: Mapped[bool] = mapped_column(default=False)


class AgentContact(Base):
    """A patient offered to an agent on a call: what lets that agent open the patient's record for a while."""

    __tablename__ = "web_agent_contacts"
    __table_args__ = (Index("ix_web_agent_contacts_agent_at", "agent", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agent: Mapped[str] = mapped_column(String(64))
    # None: the caller was not recognised (the agent may still wrap the call up)
    patient_id: Mapped[int | None] = mapped_column(index=True)
    call_uuid: Mapped[str] = mapped_column(String(64), index=True)
    # the channel the agent talks to: call_uuid's own, or a callback's originated leg ("" for chats and tasks)
    leg_uuid: Mapped[str] = mapped_column(String(64), default="", server_default="", index=True)
    queue: Mapped[str] = mapped_column(String(64), default="")
    at: Mapped[datetime] = mapped_column(default=utc_now)


class CallWrapUp(Base):
    """The agent's wrap-up of one call: a code from the list and free notes."""

    __tablename__ = "call_wrapups"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_uuid: Mapped[str] = mapped_column(String(64), index=True)
    agent: Mapped[str] = mapped_column(String(64))
    code: Mapped[str] = mapped_column(String(32))
    notes: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(default=utc_now)
