"""The FHIR R4 API as a hospital system uses it: fhirpy's SyncFHIRClient against the console served on port 0.

A Patient is created, a free Slot read, an Appointment booked, read back and cancelled; a second booking of a
taken slot is refused with 409; a wrong token, a read-only token writing and an invalid resource are refused with
OperationOutcomes; and every read of the patient's data is in the audit trail under the client's name.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
import requests
from fhirpy import SyncFHIRClient
from fhirpy.base.exceptions import AuthorizationError, ForbiddenError, OperationOutcome
from gevent.pywsgi import WSGIServer
from sqlalchemy.orm import Session

from ccctl.config import load_settings
from ccctl.patients.fhir import clients
from ccctl.records.audit import audit_trail
from ccctl.records.database import make_engine
from ccctl.records.models.appointments import Department, Doctor, Slot
from ccctl.records.models.base import utc_now
from ccctl.serve.controller import Controller
from ccctl.web.app import make_web_app

MEDICAL_RECORD = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR"}]}


def seed_slots(url: str) -> list[int]:
    """Cardiology with one doctor and two slots tomorrow at 09:00 and 09:15 UTC; their ids."""
    tomorrow = (utc_now() + timedelta(days=1)).replace(hour=9, minute=0, second=0, microsecond=0)
    engine = make_engine(url)
    try:
        with Session(engine) as db, db.begin():
            cardiology = Department(code="cardio", name="Cardiology", names={"zh": "心内科"})
            doctor = Doctor(code="D100", name="Dr Nowak", department=cardiology, languages="pl,en")
            slots = [
                Slot(doctor=doctor, department=cardiology, starts_at=tomorrow + timedelta(minutes=m)) for m in (0, 15)
            ]
            db.add_all([cardiology, doctor, *slots])
            db.flush()
            return [slot.id for slot in slots]
    finally:
        engine.dispose()


@pytest.fixture
def fhir_base(sqlite_url):
    settings = load_settings("ccctl.yaml", environ={})
    settings = dataclasses.replace(
        settings,
        database=dataclasses.replace(settings.database, url=sqlite_url),
        web=dataclasses.replace(settings.web, port=0, secret_key="test-secret"),
    )
    app = make_web_app(Controller(settings, connect_inbound=False), settings)
    server = WSGIServer(("127.0.0.1", 0), app, log=None)
    server.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/fhir/r4"
    finally:
        server.stop(timeout=1)


def test_a_hospital_system_books_reads_back_and_cancels_through_fhir(fhir_base, sqlite_url):
    first_slot, _ = seed_slots(sqlite_url)
    his = SyncFHIRClient(fhir_base, authorization=f"Bearer {clients.add(sqlite_url, 'his', 'read,write')}")

    patient = his.resource(
        "Patient",
        identifier=[{"type": MEDICAL_RECORD, "value": "MRN-7781"}],
        name=[{"family": "Kowalska", "given": ["Anna"]}],
        telecom=[{"system": "phone", "value": "+48 600 100 200"}],
    )
    patient.save()
    found = his.resources("Patient").search(identifier="MRN-7781").fetch()
    assert [p.id for p in found] == [patient.id]
    assert found[0]["telecom"] == [{"system": "phone", "value": "+48600100200"}]

    slot = his.resources("Slot").search(status="free", **{"service-type": "cardio"}).first()
    assert slot.id == str(first_slot) and slot["status"] == "free"
    appointment = his.resource(
        "Appointment",
        status="booked",
        identifier=[{"value": "HIS-A-1"}],
        slot=[slot.to_reference()],
        participant=[{"actor": patient.to_reference(), "status": "accepted"}],
    )
    appointment.save()
    again = his.reference("Appointment", appointment.id).to_resource()
    assert again["status"] == "booked" and [ref.reference for ref in again["slot"]] == [f"Slot/{first_slot}"]
    assert again["start"] == slot["start"]
    assert his.reference("Slot", slot.id).to_resource()["status"] == "busy"

    # another booking of the same slot loses: 409 with an OperationOutcome naming the slot
    other = his.resource("Patient", name=[{"family": "Zhang", "given": ["Wei"]}])
    other.save()
    rival = {
        "resourceType": "Appointment",
        "status": "booked",
        "slot": [{"reference": f"Slot/{first_slot}"}],
        "participant": [{"actor": {"reference": f"Patient/{other.id}"}, "status": "accepted"}],
    }
    with pytest.raises(OperationOutcome) as refused:
        his.resource("Appointment", **{k: v for k, v in rival.items() if k != "resourceType"}).save()
    assert refused.value.resource["issue"][0]["code"] == "conflict"
    answer = requests.post(f"{fhir_base}/Appointment", json=rival, headers={"Authorization": his.authorization})
    assert answer.status_code == 409 and answer.headers["Content-Type"] == "application/fhir+json"
    assert answer.json()["issue"][0]["expression"] == ["Appointment.slot"]

    appointment["status"] = "cancelled"
    appointment.save()
    assert his.reference("Appointment", appointment.id).to_resource()["status"] == "cancelled"
    assert [s.id for s in his.resources("Slot").search(status="free").fetch()][0] == str(first_slot)
    assert requests.post(f"{fhir_base}/Appointment", json=rival, headers={"Authorization": his.authorization}).ok

    engine = make_engine(sqlite_url)
    with Session(engine) as db:
        trail = [(row.actor, row.action, row.source.split(":")[0]) for row in audit_trail(db, int(patient.id))]
    engine.dispose()
    for action in ("fhir_create", "fhir_search", "fhir_book", "fhir_read", "fhir_cancel"):
        assert ("api:his", action, "fhir") in trail


def test_tokens_scopes_and_invalid_resources_are_refused_with_an_operation_outcome(fhir_base, sqlite_url):
    with pytest.raises(AuthorizationError):
        SyncFHIRClient(fhir_base, authorization="Bearer not-a-token").resources("Slot").fetch()
    reader = SyncFHIRClient(fhir_base, authorization=f"Bearer {clients.add(sqlite_url, 'portal', 'read')}")
    assert reader.resources("Slot").fetch() == []
    with pytest.raises(ForbiddenError) as forbidden:
        reader.resource("Patient", name=[{"family": "Kowalska"}]).save()
    assert "has no write scope" in str(forbidden.value)

    writer = f"Bearer {clients.add(sqlite_url, 'his', 'read,write')}"
    invalid = {"resourceType": "Patient", "name": [{"family": "Kowalska"}], "birthDate": "12/05/1961"}
    answer = requests.post(f"{fhir_base}/Patient", json=invalid, headers={"Authorization": writer})
    assert answer.status_code == 400
    issue = answer.json()["issue"][0]
    assert issue["expression"] == ["Patient.birthDate"] and "Patient.birthDate" in issue["diagnostics"]
    assert "12/05/1961" not in answer.text and "Kowalska" not in answer.text
