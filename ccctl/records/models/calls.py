"""Calls (one record per hotline call, the CDR) and the voice messages flows record."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ccctl.records.models.base import Base, utc_now


class Call(Base):
    """One hotline call as it ended (see ccctl.callflow.CallRecord)."""

    __tablename__ = "calls"

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(String(64), unique=True)
    hotline: Mapped[str] = mapped_column(String(64), index=True)
    caller_number: Mapped[str] = mapped_column(Text, default="")
    destination: Mapped[str] = mapped_column(Text, default="")
    started_at: Mapped[datetime] = mapped_column(index=True)
    answered_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    disposition: Mapped[str] = mapped_column(String(32), default="completed", index=True)
    hangup_cause: Mapped[str] = mapped_column(String(64), default="")
    path: Mapped[list[str]] = mapped_column(default=list)
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patients.id", ondelete="SET NULL"))
    error: Mapped[str] = mapped_column(Text, default="")
    # the FreeSWITCH node the call was on (its switchname, an esl.nodes name); "" for calls before nodes were kept
    node: Mapped[str] = mapped_column(String(64), default="", server_default="")


class VoiceMessage(Base):
    """A voice message recorded by a flow (complaint, request, after hours), waiting to become a ticket."""

    __tablename__ = "voice_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_uuid: Mapped[str] = mapped_column(String(64), index=True)
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patients.id", ondelete="SET NULL"), index=True)
    path: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utc_now, index=True)
    status: Mapped[str] = mapped_column(String(16), default="new", index=True)
