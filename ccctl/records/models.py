"""SQLAlchemy models: patients and their phones, calls, agents, skills, queues, audit log, PIN attempts, voice messages.

The schema itself is created by the Alembic migrations in sql/versions; a test checks
that these models and the migrations agree on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Index, MetaData, String, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

# JSONB on PostgreSQL (indexable, compact), JSON text on SQLite
JsonDocument = JSON().with_variant(JSONB(), "postgresql")


class UtcDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes in and out, on both databases.

    SQLite keeps no offset, so values are stored as UTC wall time and read back
    with tzinfo=UTC; PostgreSQL's timestamptz comes back in the session's zone and
    is converted to UTC. Naive datetimes are refused: their zone would be a guess.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column; attach a timezone first")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utc_now() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    # named constraints: Alembic can drop/alter them later, SQLite batch mode included
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(table_name)s_%(column_0_N_name)s",
            "uq": "uq_%(table_name)s_%(column_0_N_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )
    type_annotation_map = {datetime: UtcDateTime(), dict[str, Any]: JsonDocument, list[str]: JsonDocument}


class Patient(Base):
    __tablename__ = "patients"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_code: Mapped[str] = mapped_column(String(32), unique=True)
    given_name: Mapped[str] = mapped_column(String(128), default="")
    family_name: Mapped[str] = mapped_column(String(128), default="")
    is_member: Mapped[bool] = mapped_column(default=False)
    member_number: Mapped[str | None] = mapped_column(String(32), unique=True)
    pin_hash: Mapped[str | None] = mapped_column(String(256))
    pin_failures: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None]
    specialty: Mapped[str] = mapped_column(String(64), default="")
    custom_fields: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # prompt language the IVR uses for this patient ("" = the hotline's)
    language: Mapped[str] = mapped_column(String(16), default="", server_default="")
    # wrong PINs are counted from here (set by a right PIN, an unlock, a lock-out)
    pin_failures_since: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(default=utc_now, onupdate=utc_now)

    phones: Mapped[list[PatientPhone]] = relationship(
        back_populates="patient", cascade="all, delete-orphan", order_by="PatientPhone.id"
    )


class PatientPhone(Base):
    __tablename__ = "patient_phones"
    __table_args__ = (UniqueConstraint("patient_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"))
    # normalised (digits, leading + kept) so a caller number finds its patient by equality
    number: Mapped[str] = mapped_column(String(32), index=True)
    kind: Mapped[str] = mapped_column(String(16), default="mobile")

    patient: Mapped[Patient] = relationship(back_populates="phones")


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


class Agent(Base):
    __tablename__ = "agents"

    id: Mapped[int] = mapped_column(primary_key=True)
    extension: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(128), default="")
    # status: what the agent chose (logged_out, available, on_break); state: what the ACD sees
    status: Mapped[str] = mapped_column(String(32), default="logged_out")
    state: Mapped[str] = mapped_column(String(32), default="idle")
    state_since: Mapped[datetime | None]
    # ACD (ccctl.acd): the dial string of the agent's phone ("" = user/<extension>)
    contact: Mapped[str] = mapped_column(String(255), default="", server_default="")
    # a reservation lapses by itself: an agent can never stay "reserved" after a crash
    reserved_until: Mapped[datetime | None]
    reserved_entry_id: Mapped[int | None]
    last_offered_at: Mapped[datetime | None]
    last_call_ended_at: Mapped[datetime | None]
    calls_answered: Mapped[int] = mapped_column(default=0, server_default="0")
    talk_seconds: Mapped[int] = mapped_column(default=0, server_default="0")
    no_answer_count: Mapped[int] = mapped_column(default=0, server_default="0")


class Skill(Base):
    __tablename__ = "skills"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)


class AgentSkill(Base):
    __tablename__ = "agent_skills"

    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True)
    skill_id: Mapped[int] = mapped_column(ForeignKey("skills.id", ondelete="CASCADE"), primary_key=True)
    level: Mapped[int] = mapped_column(default=1)


class Queue(Base):
    __tablename__ = "queues"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    strategy: Mapped[str] = mapped_column(String(32), default="longest-idle-agent")
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)


class QueueSkill(Base):
    __tablename__ = "queue_skills"

    queue_id: Mapped[int] = mapped_column(ForeignKey("queues.id", ondelete="CASCADE"), primary_key=True)
    skill_id: Mapped[int] = mapped_column(ForeignKey("skills.id", ondelete="CASCADE"), primary_key=True)
    min_level: Mapped[int] = mapped_column(default=1)


class AuditEntry(Base):
    """One read or change of patient data: who, what, from where (kept even after the patient goes)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utc_now, index=True)
    actor: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(64))
    # no foreign key: the trail of a deleted patient must stay
    patient_id: Mapped[int | None] = mapped_column(index=True)
    detail: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(64), default="")


class PinAttempt(Base):
    """One PIN check by keypad: who, which call, when, the outcome. Never the digits."""

    __tablename__ = "pin_attempts"
    __table_args__ = (Index("ix_pin_attempts_patient_id_at", "patient_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # null for an unknown member number (the number keyed in is not kept)
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patients.id", ondelete="SET NULL"))
    call_uuid: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(default=utc_now)
    outcome: Mapped[str] = mapped_column(String(16))  # ok, wrong, locked, unknown


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


# tables of later features live in their own modules; importing them registers them on Base.metadata
from ccctl.records import models_acd, models_channels, models_inbox, models_media, models_web  # noqa: E402, F401, I001
