"""`ccctl fhir pull` against a hospital FHIR server: here a second ccctl console on its own database, served on
port 0, holding the hospital's patients and visits. The pull books them here (patient by the hospital's
identifier, slot by doctor and start), and a second pull after the hospital cancels one cancels it here."""

from __future__ import annotations

import dataclasses
import shutil
from datetime import timedelta

import pytest
import requests
from click.testing import CliRunner
from gevent.pywsgi import WSGIServer
from sqlalchemy import select
from sqlalchemy.orm import Session

from ccctl.cli import main
from ccctl.config import load_settings
from ccctl.patients.fhir import clients
from ccctl.records.audit import audit_trail
from ccctl.records.database import make_engine
from ccctl.records.models.appointments import Appointment, Department, Doctor, Slot
from ccctl.records.models.base import utc_now
from ccctl.records.models.patients import Patient
from ccctl.serve.controller import Controller
from ccctl.web.app import make_web_app

MEDICAL_RECORD = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR"}]}
NINE = (utc_now() + timedelta(days=1)).replace(hour=9, minute=0, second=0, microsecond=0)


@pytest.fixture
def hospital(sqlite_url, tmp_path):
    """The hospital's FHIR server (its own migrated database) with cardiology's slots; base URL and token."""
    his_file = tmp_path / "his.db"
    shutil.copyfile(sqlite_url.removeprefix("sqlite:///"), his_file)
    his_url = f"sqlite:///{his_file}"
    engine = make_engine(his_url)
    with Session(engine) as db, db.begin():
        cardiology = Department(code="cardio", name="Cardiology")
        doctor = Doctor(code="D100", name="Dr Nowak", department=cardiology)
        db.add_all([Slot(doctor=doctor, department=cardiology, starts_at=NINE + timedelta(minutes=m)) for m in (0, 15)])
    engine.dispose()
    settings = load_settings("ccctl.yaml", environ={})
    settings = dataclasses.replace(
        settings,
        database=dataclasses.replace(settings.database, url=his_url),
        web=dataclasses.replace(settings.web, port=0, secret_key="his-secret"),
    )
    server = WSGIServer(("127.0.0.1", 0), make_web_app(Controller(settings, connect_inbound=False), settings), log=None)
    server.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/fhir/r4", clients.add(his_url, "contact-center", "read,write")
    finally:
        server.stop(timeout=1)


def book_at_the_hospital(base: str, token: str, hospital_id: str, family: str, slot_id: int, his_id: str) -> str:
    auth = {"Authorization": f"Bearer {token}"}
    patient = {
        "resourceType": "Patient",
        "identifier": [{"type": MEDICAL_RECORD, "value": hospital_id}],
        "name": [{"family": family, "given": ["Anna"]}],
        "telecom": [{"system": "phone", "value": "+48600100200"}],
    }
    patient_id = requests.post(f"{base}/Patient", json=patient, headers=auth).json()["id"]
    visit = {
        "resourceType": "Appointment",
        "status": "booked",
        "identifier": [{"value": his_id}],
        "slot": [{"reference": f"Slot/{slot_id}"}],
        "participant": [{"actor": {"reference": f"Patient/{patient_id}"}, "status": "accepted"}],
    }
    answer = requests.post(f"{base}/Appointment", json=visit, headers=auth)
    assert answer.status_code == 201
    return answer.json()["id"]


def test_the_days_visits_are_pulled_in_and_a_cancellation_follows(hospital, sqlite_url, tmp_path, monkeypatch):
    base, token = hospital
    book_at_the_hospital(base, token, "MRN-1", "Kowalska", 1, "HIS-A-1")
    second = book_at_the_hospital(base, token, "MRN-2", "Zhang", 2, "HIS-A-2")
    monkeypatch.delenv("CCCTL_DATABASE__URL", raising=False)
    settings_file, token_file = tmp_path / "ccctl.yaml", tmp_path / "his-token"
    settings_file.write_text(f"database:\n  url: {sqlite_url}\n")
    token_file.write_text(token + "\n")
    pull = ["-c", str(settings_file), "fhir", "pull", "--server", base, "--token-file", str(token_file)]
    pull += ["--date", NINE.date().isoformat()]

    first = CliRunner().invoke(main, pull)
    assert first.exit_code == 0, first.output
    assert first.output.endswith("2 booked, 0 moved, 0 cancelled, 0 unchanged, 0 refused\n")
    engine = make_engine(sqlite_url)
    with Session(engine) as db:
        anna = db.scalars(select(Patient).where(Patient.hospital_id == "MRN-1")).one()
        visit = db.scalars(select(Appointment).where(Appointment.external_id == "HIS-A-1")).one()
        assert (anna.family_name, [p.number for p in anna.phones]) == ("Kowalska", ["+48600100200"])
        assert (visit.patient_id, visit.status, visit.source) == (anna.id, "booked", "fhir")
        assert (visit.slot.doctor.code, visit.slot.department.code, visit.slot.starts_at) == ("D100", "cardio", NINE)
        assert ("fhir:127.0.0.1", "fhir pull add") in [(row.actor, row.action) for row in audit_trail(db, anna.id)]

    cancel = {
        "resourceType": "Appointment",
        "id": second,
        "status": "cancelled",
        "participant": [{"status": "accepted"}],
    }
    requests.put(f"{base}/Appointment/{second}", json=cancel, headers={"Authorization": f"Bearer {token}"})
    again = CliRunner().invoke(main, pull)
    assert again.output.endswith("0 booked, 0 moved, 1 cancelled, 1 unchanged, 0 refused\n"), again.output
    with Session(engine) as db:
        statuses = {row[0]: row[1] for row in db.execute(select(Appointment.external_id, Appointment.status))}
        assert statuses == {"HIS-A-1": "booked", "HIS-A-2": "cancelled"}
        assert (
            db.scalar(select(Patient.id).where(Patient.hospital_id == "MRN-1")) == anna.id
        )  # matched, not added twice
    engine.dispose()


def test_a_refused_token_stops_the_pull_with_one_line(hospital, sqlite_url, tmp_path, monkeypatch):
    base, _ = hospital
    monkeypatch.delenv("CCCTL_DATABASE__URL", raising=False)
    settings_file, token_file = tmp_path / "ccctl.yaml", tmp_path / "his-token"
    settings_file.write_text(f"database:\n  url: {sqlite_url}\n")
    token_file.write_text("wrong\n")
    result = CliRunner().invoke(
        main, ["-c", str(settings_file), "fhir", "pull", "--server", base, "--token-file", str(token_file)]
    )
    assert result.exit_code == 1
    assert result.output == f"ccctl: FHIR server {base}: the Appointment search failed (AuthorizationError)\n"
