"""Tables for SMS and fax transmissions: SMS batches and messages with delivery status, opt-outs,
fax send jobs with one row per attempt (pages sent, spandsp result code).

Imported at the end of models.py so Base.metadata (and the migration check) sees them.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ccctl.records.models.base import Base, utc_now


class SmsBatch(Base):
    """One bulk send: a template to many patients; its key makes a re-run send nothing twice."""

    __tablename__ = "sms_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(128), unique=True)
    template: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utc_now)

    messages: Mapped[list[SmsMessage]] = relationship(back_populates="batch", order_by="SmsMessage.id")


class SmsMessage(Base):
    """One outgoing SMS and what became of it (queued, sent, delivered, failed, opted_out, no_number)."""

    __tablename__ = "sms_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("sms_batches.id", ondelete="CASCADE"), index=True)
    # <batch key>:<patient code> for bulk sends: the unique row that stops a second send
    idempotency_key: Mapped[str | None] = mapped_column(String(255), unique=True)
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patients.id", ondelete="SET NULL"), index=True)
    recipient: Mapped[str] = mapped_column(String(32), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="queued", index=True)
    # our id, carried in Kannel's dlr-url so delivery reports find the row
    message_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    dlr_status: Mapped[int | None]
    error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    sent_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]

    batch: Mapped[SmsBatch | None] = relationship(back_populates="messages")


class SmsOptOut(Base):
    """A number that sent STOP (or another opt-out keyword): bulk sends skip it until it sends START."""

    __tablename__ = "sms_opt_outs"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    keyword: Mapped[str] = mapped_column(String(32), default="")
    at: Mapped[datetime] = mapped_column(default=utc_now)


class FaxJob(Base):
    """One fax to send: the converted TIFF-F and its state (queued, sending, sent, failed)."""

    __tablename__ = "fax_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32), default="")
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patients.id", ondelete="SET NULL"), index=True)
    source_name: Mapped[str] = mapped_column(Text, default="")
    tiff_path: Mapped[str] = mapped_column(Text, default="")
    pages: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(String(16), default="queued", index=True)
    created_at: Mapped[datetime] = mapped_column(default=utc_now, index=True)

    attempts: Mapped[list[FaxAttempt]] = relationship(
        back_populates="job", cascade="all, delete-orphan", order_by="FaxAttempt.id"
    )


class FaxAttempt(Base):
    """One txfax call: when, the spandsp result (code, text), pages sent of the total."""

    __tablename__ = "fax_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("fax_jobs.id", ondelete="CASCADE"), index=True)
    call_uuid: Mapped[str] = mapped_column(String(64), default="")
    started_at: Mapped[datetime] = mapped_column(default=utc_now)
    ended_at: Mapped[datetime | None]
    success: Mapped[bool] = mapped_column(default=False)
    result_code: Mapped[int | None]
    result_text: Mapped[str] = mapped_column(Text, default="")
    pages_sent: Mapped[int] = mapped_column(default=0)
    total_pages: Mapped[int] = mapped_column(default=0)
    hangup_cause: Mapped[str] = mapped_column(String(64), default="")

    job: Mapped[FaxJob] = relationship(back_populates="attempts")
