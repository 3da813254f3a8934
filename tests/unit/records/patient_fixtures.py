"""Helpers for the patient tests: a movable clock, sessions on a test database, the shipped field definitions."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy.orm import Session

from ccctl.patients.fields import load_specialties
from ccctl.patients.repository import PatientData, add_patient
from ccctl.records.database import make_engine

REPO = Path(__file__).resolve().parents[3]
FIELDS_DIR = REPO / "patient_fields"
CSV_DIR = REPO / "tests" / "fixtures" / "patients"
SPECIALTIES = load_specialties(FIELDS_DIR)


class Clock:
    """The time a test says it is; advance() moves it (no sleeping).

    It starts a minute ahead of the real time, after anything the test set up with the
    real clock (`ccctl patients set-pin` / `unlock` restart the count of wrong PINs).
    """

    def __init__(self) -> None:
        self.now = datetime.now(UTC) + timedelta(minutes=1)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@contextmanager
def session_on(url: str) -> Iterator[Session]:
    """A session in one committed transaction on the test database."""
    engine = make_engine(url)
    try:
        with Session(engine, expire_on_commit=False) as session, session.begin():
            yield session
    finally:
        engine.dispose()


def add_patients(url: str, *patients: PatientData) -> list[str]:
    """Store patients through the repository; their codes."""
    with session_on(url) as session:
        return [add_patient(session, data, SPECIALTIES).patient_code for data in patients]


def member(number: str = "123456", phone: str = "+33 6 12 34 56 78", **changes) -> PatientData:
    """Ann Lee, cardiology member `number` with phone `phone`."""
    fields = dict(
        given_name="Ann",
        family_name="Lee",
        phones=[phone],
        member_number=number,
        specialty="cardiology",
        custom_fields={"ejection_fraction": "55"},
    )
    fields.update(changes)
    return PatientData(**fields)
