"""Helpers for the appointments tests: a department with a doctor and slots, patients, sessions."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from ccctl.records.database import make_engine
from ccctl.records.models.appointments import Department, Doctor, Slot
from ccctl.records.models.patients import Patient, PatientPhone


@contextmanager
def session_on(url: str) -> Iterator[Session]:
    """A session in one committed transaction on the test database."""
    engine = make_engine(url)
    try:
        with Session(engine, expire_on_commit=False) as session, session.begin():
            yield session
    finally:
        engine.dispose()


def tomorrow_at(hour: int, minute: int = 0) -> datetime:
    day = datetime.now(UTC).date() + timedelta(days=1)
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


def add_cardiology(session: Session, *, slots: int = 4, doctor_code: str = "D1") -> list[int]:
    """Cardiology (CARD, 心内科) with Dr Novak and `slots` quarter-hours tomorrow from 09:00 UTC; their ids."""
    department = session.query(Department).filter_by(code="CARD").one_or_none()
    if department is None:
        department = Department(code="CARD", name="Cardiology", names={"zh": "心内科", "pl": "Kardiologia"})
        session.add(department)
    doctor = Doctor(code=doctor_code, name=f"Dr Novak {doctor_code}", department=department)
    session.add(doctor)
    made = [
        Slot(doctor=doctor, department=department, starts_at=tomorrow_at(9) + timedelta(minutes=15 * n), minutes=15)
        for n in range(slots)
    ]
    session.add_all(made)
    session.flush()
    return [slot.id for slot in made]


def add_patient(session: Session, code: str = "P-1", *, phone: str = "+48600100200", language: str = "") -> int:
    patient = Patient(patient_code=code, given_name="Ann", family_name="Lee", language=language)
    patient.phones.append(PatientPhone(number=phone))
    session.add(patient)
    session.flush()
    return patient.id
