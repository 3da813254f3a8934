"""Patients, their phones, and every PIN attempt (members log in by keypad)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ccctl.records.models.base import Base, utc_now


class Patient(Base):
    __tablename__ = "patients"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_code: Mapped[str] = mapped_column(String(32), unique=True)
    given_name: Mapped[str] = mapped_column(String(128), default="")
    family_name: Mapped[str] = mapped_column(String(128), default="")
    is_member: Mapped[bool] = mapped_column(default=False)
    member_number: Mapped[str | None] = mapped_column(String(32), unique=True)
    # the hospital's own patient identifier (MRN): HL7 PID-3 and FHIR Patient.identifier match on it
    hospital_id: Mapped[str | None] = mapped_column(String(64), unique=True)
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
