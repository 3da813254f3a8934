"""An admin edits a patient in real headless Chromium: the sensitive fields the page never shows survive the save,
and the audit log names the fields that changed (never their values)."""

import dataclasses

import pytest
from emulated_site import site_settings
from sqlalchemy.orm import Session
from web_site import seed

from ccctl.records.database import make_engine
from ccctl.records.models.patients import Patient
from ccctl.serve.controller import Controller

SENSITIVE = {"national_id": "AB123456", "insurance_number": "INS-77"}


def edit_rows(page) -> list[list[str]]:
    """The audit page's edit rows, newest first: when, who, action, patient, from where, detail."""
    rows = [row.split("\t") for row in page.locator("#audit tr").all_inner_texts()[1:]]
    return [row for row in rows if row[2] == "edit"]


def stored_patient(url: str, patient_id: int) -> tuple[str, dict]:
    engine = make_engine(url)
    try:
        with Session(engine) as db:
            patient = db.get(Patient, patient_id)
            return patient.family_name, dict(patient.custom_fields)
    finally:
        engine.dispose()


@pytest.fixture
def console(sqlite_url, tmp_path):
    """The console of a controller without a switch; Anna Kowalska is a `general` patient with two sensitive fields."""
    ids = seed(sqlite_url)
    engine = make_engine(sqlite_url)
    with Session(engine) as db, db.begin():
        anna = db.get(Patient, ids["anna"])
        anna.specialty = "general"
        anna.custom_fields = {**SENSITIVE, "preferred_contact_time": "morning"}
    engine.dispose()
    settings = site_settings(sqlite_url, tmp_path)
    settings = dataclasses.replace(settings, web=dataclasses.replace(settings.web, secret_key="browser-test"))
    controller = Controller(settings, record_sink=lambda record: None, connect_inbound=False)
    controller.start()
    try:
        host, port = controller.web_address
        yield f"http://{host}:{port}", ids["anna"], sqlite_url
    finally:
        controller.stop(grace=1)


def test_admin_edits_a_patient_and_the_sensitive_fields_stay(console, browser_page):
    base, anna, url = console
    page = browser_page
    page.goto(f"{base}/login")
    page.fill("#name", "admin")
    page.fill("#password", "correct horse 1")
    page.click("#login-button")
    page.goto(f"{base}/patients/{anna}")
    # the page shows that the sensitive fields are stored, never their values
    assert page.input_value("#field-national_id") == ""
    assert page.get_attribute("#field-national_id", "placeholder") == "stored: kept unless you type a new value"
    assert "AB123456" not in page.content() and "INS-77" not in page.content()

    page.fill("#edit-family-name", "Kowalska-Lis")
    page.select_option("#field-preferred_contact_time", "evening")
    page.click("#save-patient")
    page.wait_for_selector(".flash.ok")
    assert page.text_content("#patient-name") == "Anna Kowalska-Lis"
    assert stored_patient(url, anna) == (
        "Kowalska-Lis",
        {**SENSITIVE, "preferred_contact_time": "evening"},
    )

    page.goto(f"{base}/admin/audit")
    (edit,) = edit_rows(page)
    assert edit[1:4] == ["admin", "edit", "P000001"]
    assert edit[5] == "changed family_name, field:preferred_contact_time"
    assert "AB123456" not in page.content()

    # a new value replaces a sensitive field, its box clears another; the rest is kept
    page.goto(f"{base}/patients/{anna}")
    page.fill("#field-national_id", "ZX998877")
    page.check("#clear-insurance_number")
    page.click("#save-patient")
    page.wait_for_selector(".flash.ok")
    assert stored_patient(url, anna)[1] == {"national_id": "ZX998877", "preferred_contact_time": "evening"}
    page.goto(f"{base}/admin/audit")
    assert edit_rows(page)[0][5] == "changed field:insurance_number, field:national_id"
    assert "ZX998877" not in page.content()
