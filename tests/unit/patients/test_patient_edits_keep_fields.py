"""An edit changes only what it names: custom fields merge, sensitive ones survive a form that never shows them."""

import pytest
from patient_fixtures import SPECIALTIES, add_patients, session_on
from sqlalchemy import select
from web_site import console, csrf, log_in, seed

from ccctl.patients.repository import (
    PatientData,
    PatientError,
    describe_changes,
    find_by_code,
    patient_record,
    update_patient,
)
from ccctl.records.models.audit import AuditEntry
from ccctl.records.models.patients import Patient


def general_patient(**fields) -> PatientData:
    custom = {"national_id": "AB123456", "insurance_number": "INS-77", "preferred_contact_time": "morning"}
    custom.update(fields)
    return PatientData("Ola", "Nowak", ["+48600200300"], specialty="general", custom_fields=custom)


def stored_fields(url: str, code: str = "P000001") -> dict:
    with session_on(url) as session:
        return patient_record(find_by_code(session, code)).custom_fields


def test_named_fields_change_and_the_others_are_kept(db_url):
    add_patients(db_url, general_patient())
    with session_on(db_url) as session:
        changed = update_patient(
            session,
            "P000001",
            {"family_name": "Nowak-Lis", "custom_fields": {"preferred_contact_time": "evening"}},
            SPECIALTIES,
        )
    assert changed == ["family_name", "field:preferred_contact_time"]
    assert describe_changes(changed) == "changed family_name, field:preferred_contact_time"
    assert stored_fields(db_url) == {
        "insurance_number": "INS-77",
        "national_id": "AB123456",
        "preferred_contact_time": "evening",
    }


def test_an_empty_value_removes_only_that_field(db_url):
    add_patients(db_url, general_patient())
    with session_on(db_url) as session:
        changed = update_patient(session, "P000001", {"custom_fields": {"insurance_number": None}}, SPECIALTIES)
    assert changed == ["field:insurance_number"]
    assert stored_fields(db_url) == {"national_id": "AB123456", "preferred_contact_time": "morning"}


def test_saving_the_same_values_changes_nothing(db_url):
    add_patients(db_url, general_patient())
    with session_on(db_url) as session:
        before = session.scalars(select(Patient.updated_at)).one()
        changed = update_patient(
            session,
            "P000001",
            {"given_name": "Ola", "custom_fields": {"preferred_contact_time": "morning", "national_id": "AB123456"}},
            SPECIALTIES,
        )
        assert changed == [] and describe_changes(changed) == "no change"
        assert session.scalars(select(Patient.updated_at)).one() == before


def test_a_bad_value_is_refused_naming_the_field_and_nothing_is_kept(db_url):
    add_patients(db_url, general_patient())
    with session_on(db_url) as session, pytest.raises(PatientError) as err:
        update_patient(session, "P000001", {"custom_fields": {"national_id": "bad id!"}}, SPECIALTIES)
    assert str(err.value) == "field 'national_id' (text): does not match its pattern [0-9A-Z]{6,18}"
    assert stored_fields(db_url)["national_id"] == "AB123456"


@pytest.fixture
def console_with_general_patient(db_url):
    ids = seed(db_url)
    with session_on(db_url) as session:
        anna = session.get(Patient, ids["anna"])
        anna.specialty = "general"
        anna.custom_fields = {"national_id": "AB123456", "insurance_number": "INS-77"}
    app, _controller = console(db_url)
    client = app.test_client()
    log_in(client, "admin")
    return client, ids["anna"], db_url


def edit_rows(url: str) -> list[tuple]:
    with session_on(url) as session:
        query = select(AuditEntry).where(AuditEntry.action == "edit").order_by(AuditEntry.id)
        return [(e.actor, e.patient_id, e.detail) for e in session.scalars(query)]


def test_the_admin_form_keeps_sensitive_fields_it_never_shows(console_with_general_patient):
    client, anna, url = console_with_general_patient
    page = client.get(f"/patients/{anna}").get_data(as_text=True)
    assert "AB123456" not in page and "INS-77" not in page
    assert 'name="clear_national_id"' in page and "stored: kept unless you type a new value" in page
    form = {
        "given_name": "Anna",
        "family_name": "Kowalska-Lis",
        "specialty": "general",
        "field_national_id": "",
        "field_insurance_number": "",
        "field_preferred_contact_time": "evening",
        "field_interpreter_needed": "",
        "csrf_token": csrf(client),
    }
    client.post(f"/patients/{anna}/edit", data=form)
    with session_on(url) as session:
        stored = session.get(Patient, anna)
        assert (stored.family_name, stored.custom_fields) == (
            "Kowalska-Lis",
            {"insurance_number": "INS-77", "national_id": "AB123456", "preferred_contact_time": "evening"},
        )
    assert edit_rows(url) == [("admin", anna, "changed family_name, field:preferred_contact_time")]


def test_the_admin_form_replaces_or_clears_a_sensitive_field_and_the_audit_names_it(console_with_general_patient):
    client, anna, url = console_with_general_patient
    token = csrf(client)
    client.post(f"/patients/{anna}/edit", data={"field_national_id": "ZX998877", "csrf_token": token})
    client.post(f"/patients/{anna}/edit", data={"clear_insurance_number": "on", "csrf_token": token})
    with session_on(url) as session:
        assert session.get(Patient, anna).custom_fields == {"national_id": "ZX998877"}
    rows = edit_rows(url)
    assert rows == [("admin", anna, "changed field:national_id"), ("admin", anna, "changed field:insurance_number")]
    audit_page = client.get("/admin/audit").get_data(as_text=True)
    assert "changed field:national_id" in audit_page
    for value in ("ZX998877", "AB123456", "INS-77"):
        assert value not in audit_page
