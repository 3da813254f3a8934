"""Departments, doctors (experts among them), bookable slots and the appointments that hold them.

A slot is given at most once: an active appointment points at its slot twice, in `slot_id` (kept
for history) and in `held_slot_id`, which is unique and set back to NULL when the appointment is
cancelled or moved. Two callers pressing "book" in the same second both try to write the same
`held_slot_id`; the database refuses the second, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ccctl.records.models.base import Base, utc_now

# an appointment in one of these holds its slot
ACTIVE_STATUSES = ("booked", "confirmed")
STATUSES = (*ACTIVE_STATUSES, "cancelled", "moved", "no_show", "attended")


class Department(Base):
    """A clinic or department callers choose from (cardiology, paediatrics...)."""

    __tablename__ = "departments"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(128))
    # the name in other languages, spoken and shown in the caller's language: {"zh": "心内科"}
    names: Mapped[dict[str, Any]] = mapped_column(default=dict)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


class Doctor(Base):
    """A doctor with bookable slots; an expert can also be added to a call for a consultation."""

    __tablename__ = "doctors"

    id: Mapped[int] = mapped_column(primary_key=True)
    # the hospital's practitioner identifier (HL7 / FHIR match on it)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(128))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id", ondelete="SET NULL"), index=True)
    is_expert: Mapped[bool] = mapped_column(default=False)
    # when an expert takes consultations, as written by the roster ("Mon-Fri 14:00-16:00")
    expert_hours: Mapped[str] = mapped_column(String(256), default="")
    # how the switch reaches the expert for a three-way consultation ("user/1201", a gateway number)
    dial_string: Mapped[str] = mapped_column(String(128), default="")
    languages: Mapped[str] = mapped_column(String(64), default="")
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)

    department: Mapped[Department | None] = relationship()


class Slot(Base):
    """One bookable time of one doctor. Times are UTC; they are spoken and shown in the site's zone."""

    __tablename__ = "slots"
    __table_args__ = (
        UniqueConstraint("doctor_id", "starts_at"),
        Index("ix_slots_department_id_starts_at", "department_id", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    doctor_id: Mapped[int] = mapped_column(ForeignKey("doctors.id", ondelete="CASCADE"))
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id", ondelete="CASCADE"))
    starts_at: Mapped[datetime]
    minutes: Mapped[int] = mapped_column(default=15)
    # withdrawn by the hospital (doctor away, holiday): never offered, bookings on it stay as they are
    blocked: Mapped[bool] = mapped_column(default=False)
    # the HIS's identifier of this slot, when it came from there
    external_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)

    doctor: Mapped[Doctor] = relationship()
    department: Mapped[Department] = relationship()


class Appointment(Base):
    """A patient's visit on a slot, from booking to attended, cancelled, moved or missed."""

    __tablename__ = "appointments"
    __table_args__ = (Index("ix_appointments_patient_id_status", "patient_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"))
    slot_id: Mapped[int] = mapped_column(ForeignKey("slots.id", ondelete="RESTRICT"), index=True)
    # = slot_id while booked or confirmed, NULL after: unique, so a slot is never given twice
    held_slot_id: Mapped[int | None] = mapped_column(ForeignKey("slots.id", ondelete="RESTRICT"), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="booked")
    # a move cancels this appointment and books a new one that names it here
    moved_from_id: Mapped[int | None] = mapped_column(ForeignKey("appointments.id", ondelete="SET NULL"))
    # the HIS's identifier (SIU filler appointment ID / FHIR Appointment.identifier)
    external_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    # where the booking came from: ivr, agent, hl7, fhir, campaign, import
    source: Mapped[str] = mapped_column(String(16), default="agent")
    # the staff user name, "ivr", or the external system's name
    booked_by: Mapped[str] = mapped_column(String(64), default="")
    reason: Mapped[str] = mapped_column(String(256), default="")
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(default=utc_now, onupdate=utc_now)
    cancelled_at: Mapped[datetime | None]

    slot: Mapped[Slot] = relationship(foreign_keys=[slot_id])


class Hl7Message(Base):
    """One HL7 v2 message received or to be sent. Its text is patient data: kept here, never logged."""

    __tablename__ = "hl7_messages"
    __table_args__ = (Index("ix_hl7_messages_direction_status", "direction", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    direction: Mapped[str] = mapped_column(String(3))  # in, out
    control_id: Mapped[str] = mapped_column(String(64), default="", index=True)  # MSH-10
    message_type: Mapped[str] = mapped_column(String(16), default="")  # ADT^A04, SIU^S12
    # in: applied, rejected (answered AE, kept for review), reviewed; out: pending, acked, failed
    status: Mapped[str] = mapped_column(String(16))
    error: Mapped[str] = mapped_column(String(512), default="")
    raw: Mapped[str] = mapped_column(Text, default="")
    peer: Mapped[str] = mapped_column(String(128), default="")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    done_at: Mapped[datetime | None]


class ApiClient(Base):
    """A hospital system allowed to use the FHIR API, by bearer token (only its hash is stored)."""

    __tablename__ = "api_clients"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    token_hash: Mapped[str] = mapped_column(String(128), unique=True)
    # space-separated: read, write
    scopes: Mapped[str] = mapped_column(String(128), default="read")
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
