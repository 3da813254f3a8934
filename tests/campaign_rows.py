"""What a campaign test reads back from the database: rows of one query, visits' statuses, queued SMS."""

from __future__ import annotations

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from ccctl.records.database import make_engine
from ccctl.records.models.appointments import Appointment
from ccctl.records.models.channels import SmsMessage


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
