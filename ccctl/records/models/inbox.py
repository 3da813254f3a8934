"""Tables for the one inbox and complaint tickets: inbox items of every channel, their attachments,
patients' e-mail addresses, tickets and the history of every ticket change.

Imported at the end of models.py so Base.metadata (and the migration check) sees them.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ccctl.records.models.base import Base, utc_now


class PatientEmail(Base):
    """An e-mail address of a patient: incoming mail from it is filed under the patient."""

    __tablename__ = "patient_emails"
    __table_args__ = (UniqueConstraint("patient_id", "address"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"))
    # lower-cased so a sender address finds its patient by equality
    address: Mapped[str] = mapped_column(String(255), index=True)


class InboxItem(Base):
    """One written message of any channel, in or out, filed under a patient when one matches."""

    __tablename__ = "inbox_items"
    # external_id is NULL when the channel gives none; NULLs never collide
    __table_args__ = (UniqueConstraint("channel", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16), index=True)  # sms, email, fax, web, voice, letter
    direction: Mapped[str] = mapped_column(String(8), default="in")  # in, out
    sender: Mapped[str] = mapped_column(Text, default="")
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patients.id", ondelete="SET NULL"), index=True)
    subject: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[str] = mapped_column(Text, default="")
    received_at: Mapped[datetime] = mapped_column(default=utc_now, index=True)
    thread_key: Mapped[str] = mapped_column(String(255), default="", index=True)
    needs_reply: Mapped[bool] = mapped_column(default=False)
    done: Mapped[bool] = mapped_column(default=False)
    assigned_to: Mapped[str | None] = mapped_column(String(128), index=True)
    # why a malformed input was kept for an agent ("" when fine)
    problem: Mapped[str] = mapped_column(Text, default="")
    external_id: Mapped[str | None] = mapped_column(String(255))
    # the patient a web-form message names (a typed phone number, e-mail or code): nothing typed
    # proves who sent it, so the item stays unverified, off the record, until staff file it
    suggested_patient_id: Mapped[int | None] = mapped_column(ForeignKey("patients.id", ondelete="SET NULL"), index=True)

    attachments: Mapped[list[InboxAttachment]] = relationship(
        back_populates="item", cascade="all, delete-orphan", order_by="InboxAttachment.id"
    )


class InboxAttachment(Base):
    """A file that came with an inbox item, stored under the attachments directory (never the web root)."""

    __tablename__ = "inbox_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("inbox_items.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(Text, default="")
    content_type: Mapped[str] = mapped_column(String(255), default="application/octet-stream")
    path: Mapped[str] = mapped_column(Text)
    size: Mapped[int] = mapped_column(default=0)
    sha256: Mapped[str] = mapped_column(String(64), default="")

    item: Mapped[InboxItem] = relationship(back_populates="attachments")


class Ticket(Base):
    """A complaint or request, from any channel, handled to the end."""

    __tablename__ = "tickets"

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(16))  # voice, fax, agent, web, email, sms, letter
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patients.id", ondelete="SET NULL"), index=True)
    category: Mapped[str] = mapped_column(String(64), index=True)
    department: Mapped[str] = mapped_column(String(64), default="", index=True)
    description: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(24), default="new", index=True)
    owner: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(default=utc_now, index=True)
    due_at: Mapped[datetime]
    escalated_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    outcome: Mapped[str] = mapped_column(Text, default="")
    inbox_item_id: Mapped[int | None] = mapped_column(ForeignKey("inbox_items.id", ondelete="SET NULL"))
    voice_message_id: Mapped[int | None] = mapped_column(
        ForeignKey("voice_messages.id", ondelete="SET NULL"), unique=True
    )


class TicketEvent(Base):
    """One change of a ticket: who, when, what (state, owner, department, escalation, notice sent)."""

    __tablename__ = "ticket_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(default=utc_now)
    actor: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(32))
    from_state: Mapped[str] = mapped_column(String(24), default="")
    to_state: Mapped[str] = mapped_column(String(24), default="")
    # no patient data: names of fields, owners, departments, result of a notice
    detail: Mapped[str] = mapped_column(Text, default="")
