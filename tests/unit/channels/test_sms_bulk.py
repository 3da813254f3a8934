"""Bulk SMS without Kannel: recipients, template errors by file and line, failures recorded per recipient."""

from __future__ import annotations

import socket

import pytest
from sqlalchemy.orm import Session

from ccctl.channels.sms_bulk import BulkError, Selection, batch_status, format_status, run_bulk
from ccctl.config import Settings
from ccctl.patients.fields import SpecialtyFields
from ccctl.patients.repository import PatientData, add_patient
from ccctl.records.database import make_engine


@pytest.fixture
def db(db_url: str):
    engine = make_engine(db_url)
    with Session(engine, expire_on_commit=False) as session:
        for code, phone in (("P1", "+33600000001"), ("P2", "+33600000002")):
            data = PatientData(given_name="Ann", phones=[phone], patient_code=code, specialty="renal")
            add_patient(session, data, {"renal": SpecialtyFields("renal")})
        session.commit()
        yield session
    engine.dispose()


@pytest.fixture
def no_kannel() -> Settings:
    """Settings whose sendsms port refuses connections (bound, never listening)."""
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    settings = Settings()
    settings.sms.sendsms_url = f"http://127.0.0.1:{holder.getsockname()[1]}/cgi-bin/sendsms"
    settings.sms.messages_per_second = 0
    yield settings
    holder.close()


def test_a_template_syntax_error_names_the_file_and_line(db, no_kannel):
    with pytest.raises(BulkError) as error:
        run_bulk(db, no_kannel, "Hello\n{{ given_name ", "reminder.j2", Selection(codes=["P1"]))
    assert str(error.value).startswith("reminder.j2:2: ")


def test_unknown_patient_codes_are_named(db, no_kannel):
    with pytest.raises(BulkError) as error:
        run_bulk(db, no_kannel, "Hi", "t.j2", Selection(codes=["P1", "P9"]))
    assert str(error.value) == "no patient with code 'P9'"


def test_every_failure_is_recorded_per_recipient(db, no_kannel):
    batch = run_bulk(db, no_kannel, "Hi {{ given_name }}", "t.j2", Selection(specialty="renal"), key="k1")
    rows = batch_status(db, batch.key)
    assert [(r.patient_code, r.status) for r in rows] == [("P1", "failed"), ("P2", "failed")]
    assert rows[0].error.startswith(f"Kannel at {no_kannel.sms.sendsms_url} cannot be reached: ")
    assert format_status(rows).splitlines()[-1] == "2 failed"


def test_an_undefined_template_name_fails_that_recipient_only(db, no_kannel):
    batch = run_bulk(db, no_kannel, "Hi {{ nickname }}", "t.j2", Selection(codes=["P1"]), key="k2")
    (row,) = batch_status(db, batch.key)
    assert (row.status, row.error) == ("failed", "t.j2: 'nickname' is undefined")
