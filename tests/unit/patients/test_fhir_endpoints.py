"""The FHIR API through Flask's test client: what each resource looks like (valid R4 by fhir.resources), what is
refused and how (OperationOutcome naming the element), and that no console cookie opens it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from sqlalchemy.orm import Session
from web_site import console, log_in, seed

from ccctl.patients.fhir import clients
from ccctl.records.audit import audit_trail
from ccctl.records.database import make_engine
from ccctl.records.models.appointments import Appointment, Department, Doctor, Slot
from ccctl.records.models.base import utc_now
from ccctl.records.models.calls import Call
from ccctl.records.models.channels import SmsMessage


@pytest.fixture
def site(db_url):
    """The console, its seeded users and patients (anna, wei), cardiology's slots, a booking of anna's, a call
    and an SMS of hers, and a read-write token."""
    ids = seed(db_url)
    engine = make_engine(db_url)
    start = (utc_now() + timedelta(days=1)).replace(hour=9, minute=0, second=0, microsecond=0)
    with Session(engine) as db, db.begin():
        cardiology = Department(code="cardio", name="Cardiology")
        doctor = Doctor(code="D100", name="Dr Nowak", department=cardiology)
        slots = [
            Slot(doctor=doctor, department=cardiology, starts_at=start + timedelta(minutes=15 * n)) for n in range(3)
        ]
        slots[2].blocked = True
        db.add_all([cardiology, doctor, *slots])
        db.flush()
        db.add(Appointment(patient_id=ids["anna"], slot_id=slots[0].id, held_slot_id=slots[0].id, source="agent"))
        db.add(Call(uuid="c-1", hotline="main", started_at=utc_now(), answered_at=utc_now(), patient_id=ids["anna"]))
        db.add(SmsMessage(patient_id=ids["anna"], recipient="+48600100200", body="see you", status="delivered"))
        ids |= {"doctor": doctor.id, "department": cardiology.id, "slots": [slot.id for slot in slots]}
    engine.dispose()
    app, _ = console(db_url)
    token = clients.add(db_url, "his", "read,write")
    return app, ids, {"Authorization": f"Bearer {token}"}


def test_metadata_is_an_r4_capability_statement_open_without_a_token(site):
    app, _, _ = site
    answer = app.test_client().get("/fhir/r4/metadata")
    assert answer.status_code == 200 and answer.mimetype == "application/fhir+json"
    statement = CapabilityStatement.model_validate(answer.get_json())
    assert {r.type for r in statement.rest[0].resource} >= {"Patient", "Slot", "Appointment", "Communication"}


def test_every_search_answers_a_valid_bundle(site):
    app, ids, auth = site
    client = app.test_client()
    searches = [
        "/fhir/r4/Patient?phone=%2B48600100200",
        "/fhir/r4/Practitioner?identifier=D100",
        f"/fhir/r4/Schedule?actor=Practitioner/{ids['doctor']}",
        "/fhir/r4/Slot?service-type=cardio",
        f"/fhir/r4/Appointment?patient=Patient/{ids['anna']}",
        f"/fhir/r4/Communication?patient=Patient/{ids['anna']}",
    ]
    for search in searches:
        answer = client.get(search, headers=auth)
        assert answer.status_code == 200, search
        bundle = Bundle.model_validate(answer.get_json())
        assert bundle.entry, search
    slots = client.get("/fhir/r4/Slot?service-type=cardio", headers=auth).get_json()
    assert [e["resource"]["status"] for e in slots["entry"]] == ["busy", "free", "busy-unavailable"]
    schedule = f"Schedule/{ids['doctor']}-{ids['department']}"
    assert slots["entry"][0]["resource"]["schedule"]["reference"] == schedule
    free = client.get(f"/fhir/r4/Slot?status=free&schedule={schedule}", headers=auth).get_json()
    assert [e["resource"]["id"] for e in free["entry"]] == [str(ids["slots"][1])]
    talks = client.get(f"/fhir/r4/Communication?patient={ids['anna']}", headers=auth).get_json()
    assert sorted(e["resource"]["id"] for e in talks["entry"]) == ["call-1", "sms-1"]
    assert "see you" not in str(talks)


def test_a_console_cookie_opens_nothing_and_a_revoked_token_is_refused(site, db_url):
    app, ids, auth = site
    client = app.test_client()
    log_in(client, "admin")
    answer = client.get(f"/fhir/r4/Patient/{ids['anna']}")
    assert answer.status_code == 401 and answer.get_json()["issue"][0]["code"] == "login"
    assert answer.headers["WWW-Authenticate"].startswith("Bearer")
    assert client.get(f"/fhir/r4/Patient/{ids['anna']}", headers=auth).status_code == 200
    clients.revoke(db_url, "his")
    assert client.get(f"/fhir/r4/Patient/{ids['anna']}", headers=auth).status_code == 401


def test_refusals_name_the_parameter_or_element_and_never_the_value(site):
    app, ids, auth = site
    client = app.test_client()
    cases = [
        ("get", "/fhir/r4/Patient", None, 400, "Patient search: give identifier or phone"),
        ("get", "/fhir/r4/Patient?name=Kowalska", None, 400, "parameter 'name' unknown"),
        ("get", "/fhir/r4/Slot?start=tomorrow", None, 400, "start: a date or time"),
        ("get", "/fhir/r4/Patient/999", None, 404, "Patient/999: no such resource"),
        ("get", "/fhir/r4/Patient/99999999999", None, 404, "no such resource"),
        ("get", "/fhir/r4/Slot/%C2%B2", None, 404, "no such resource"),
        ("get", "/fhir/r4/Slot?start=ge9999-12-31", None, 400, "start: not a valid date"),
        ("delete", f"/fhir/r4/Patient/{ids['anna']}", None, 405, "DELETE Patient: not supported"),
        ("post", "/fhir/r4/Patient", {"resourceType": "Patient", "telecom": [{"value": "x"}]}, 400, "Patient.name"),
        ("post", "/fhir/r4/Patient", {"resourceType": "Patient", "colour": "blue"}, 400, "Patient.colour: not an"),
        (
            "put",
            f"/fhir/r4/Appointment/{ids['slots'][0]}",
            {"resourceType": "Appointment", "status": "noshow", "participant": [{"status": "accepted"}]},
            422,
            "Appointment.status: only cancelled",
        ),
    ]
    for method, path, body, status, words in cases:
        answer = getattr(client, method)(path, json=body, headers=auth)
        outcome = answer.get_json()
        assert (answer.status_code, outcome["resourceType"]) == (status, "OperationOutcome"), path
        assert words in outcome["issue"][0]["diagnostics"], path
        assert "Kowalska" not in answer.get_data(as_text=True) and "blue" not in answer.get_data(as_text=True)


def test_a_patient_update_changes_what_it_carries_and_keeps_the_membership(site, db_url):
    app, ids, auth = site
    client = app.test_client()
    resource = client.get(f"/fhir/r4/Patient/{ids['anna']}", headers=auth).get_json()
    member = [i for i in resource["identifier"] if i["system"] == "urn:ccctl:member-number"]
    hospital = {"type": {"coding": [{"code": "MR"}]}, "value": "MRN-1"}
    update = {
        "resourceType": "Patient",
        "id": str(ids["anna"]),
        "identifier": [hospital],
        "name": [{"family": "Kowalska-Nowak", "given": ["Anna"]}],
    }
    answer = client.put(f"/fhir/r4/Patient/{ids['anna']}", json=update, headers=auth)
    assert answer.status_code == 200
    changed = answer.get_json()
    assert changed["name"] == [{"family": "Kowalska-Nowak", "given": ["Anna"]}]
    assert member and member[0] in changed["identifier"] and changed["telecom"] == resource["telecom"]
    # the hospital's identifier is one patient's only
    taken = dict(update, id=str(ids["wei"]))
    refused = client.put(f"/fhir/r4/Patient/{ids['wei']}", json=taken, headers=auth)
    assert refused.status_code == 409 and refused.get_json()["issue"][0]["expression"] == ["Patient.identifier"]
    engine = make_engine(db_url)
    with Session(engine) as db:
        actions = [(row.actor, row.action, row.detail) for row in audit_trail(db, ids["anna"])]
    engine.dispose()
    assert ("api:his", "fhir_update", "changed family_name, hospital_id") in actions


def test_a_search_by_post_keeps_the_phone_out_of_the_url_and_needs_only_read(site, db_url):
    app, ids, _ = site
    reader = {"Authorization": f"Bearer {clients.add(db_url, 'portal', 'read')}"}
    client = app.test_client()
    answer = client.post("/fhir/r4/Patient/_search", data={"phone": "+48 600 100 200"}, headers=reader)
    assert answer.status_code == 200
    assert [e["resource"]["id"] for e in answer.get_json()["entry"]] == [str(ids["anna"])]
    assert client.post("/fhir/r4/Patient", json={"resourceType": "Patient"}, headers=reader).status_code == 403
