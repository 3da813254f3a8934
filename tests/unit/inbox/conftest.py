"""Inbox and ticket tests: a session on the migrated test database, patients to file messages under."""

from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session

from ccctl.channels.inbox import add_patient_email
from ccctl.patients.repository import PatientData, add_patient
from ccctl.records.database import make_engine


@pytest.fixture
def session(db_url) -> Iterator[Session]:
    """One session on the migrated database (SQLite and PostgreSQL); committed at the end of the test."""
    engine = make_engine(db_url)
    try:
        with Session(engine, expire_on_commit=False) as session, session.begin():
            yield session
    finally:
        engine.dispose()


@pytest.fixture
def ann(session):
    """Patient P000001 with a mobile phone and an e-mail address."""
    patient = add_patient(session, PatientData("Ann", "Lee", ["+48 600 100 200"]), {})
    add_patient_email(session, patient, "Ann Lee <Ann.Lee@example.org>")
    return patient


@pytest.fixture
def bob(session):
    """Patient P000002 with a landline and no e-mail."""
    return add_patient(session, PatientData("Bob", "Ray", ["+33 1 23 45 67 89"]), {})
