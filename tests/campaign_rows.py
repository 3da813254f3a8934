"""What a campaign test reads back from the database: rows of one query, visits' statuses, queued SMS,
voice attempts' outcomes."""

from __future__ import annotations

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from ccctl.records.database import make_engine
from ccctl.records.models.appointments import Appointment
from ccctl.records.models.campaigns import ContactAttempt
from ccctl.records.models.channels import SmsMessage
from ccctl.records.models.patients import Patient


def query_rows(url: str, statement: Select) -> list[tuple]:
    """Every row of `statement` on the database at `url`, as tuples (its own engine, disposed after)."""
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            return [tuple(row) for row in session.execute(statement).all()]
    finally:
        engine.dispose()


def appointment_statuses(url: str) -> dict[int, str]:
    return dict(query_rows(url, select(Appointment.id, Appointment.status)))


def sms_rows(url: str) -> list[tuple[str, str, str]]:
    """(recipient, status, body) of every SMS queued or sent."""
    return query_rows(url, select(SmsMessage.recipient, SmsMessage.status, SmsMessage.body))


def voice_outcomes(url: str) -> dict[str, list[str]]:
    """Voice attempts' outcomes per patient code, oldest first ("" while a call is still going)."""
    statement = (
        select(Patient.patient_code, ContactAttempt.outcome)
        .join(Patient, Patient.id == ContactAttempt.patient_id)
        .where(ContactAttempt.channel == "voice")
        .order_by(ContactAttempt.id)
    )
    found: dict[str, list[str]] = {}
    for code, outcome in query_rows(url, statement):
        found.setdefault(code, []).append(outcome or "")
    return found
