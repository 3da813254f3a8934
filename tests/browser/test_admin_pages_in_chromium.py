"""Admin pages in real headless Chromium: a new user's role must be chosen (no admin by default), a patient's
yes/no field is a checkbox and a date field a date picker, and the audit log names patients by code, has a
header over every column, filters (POSTed: no patient code in a URL) and pages."""

import dataclasses

import pytest
from emulated_site import site_settings
from sqlalchemy.orm import Session
from web_site import PASSWORD, seed

from ccctl.records.audit import record_audit
from ccctl.records.database import make_engine
from ccctl.records.models.patients import Patient
from ccctl.serve.controller import Controller


def in_db(url: str, work):
    engine = make_engine(url)
    try:
        with Session(engine) as db, db.begin():
            return work(db)
    finally:
        engine.dispose()


@pytest.fixture
def console(sqlite_url, tmp_path):
    """Anna is a cardiology patient; the audit log has 60 rows about her (reads by agent1 and super)."""
    ids = seed(sqlite_url)

    def fill(db):
        db.get(Patient, ids["anna"]).specialty = "cardiology"
        for n in range(60):
            record_audit(db, ("agent1", "super")[n % 2], "view", ids["anna"], "web:127.0.0.1", f"read {n}")

    in_db(sqlite_url, fill)
    settings = site_settings(sqlite_url, tmp_path)
    settings = dataclasses.replace(settings, web=dataclasses.replace(settings.web, secret_key="browser-test"))
    controller = Controller(settings, record_sink=lambda record: None, connect_inbound=False)
    controller.start()
    try:
        host, port = controller.web_address
        yield f"http://{host}:{port}", ids["anna"], sqlite_url
    finally:
        controller.stop(grace=1)


def test_admin_pages_ask_for_a_role_use_checkboxes_and_date_pickers_and_page_the_audit_log(console, browser_page):
    base, anna, url = console
    page = browser_page
    page.goto(f"{base}/login")
    page.fill("#name", "admin")
    page.fill("#password", PASSWORD)
    page.click("#login-button")

    page.goto(f"{base}/admin/users")
    assert page.eval_on_selector("#new-user-role", "e => e.value") == ""  # nobody becomes an admin by default
    assert page.eval_on_selector("#new-user-role", "e => e.required") is True

    page.goto(f"{base}/patients/{anna}")
    assert page.get_attribute("#field-pacemaker", "type") == "checkbox"
    assert page.get_attribute("#field-last_echo", "type") == "date"
    assert page.get_attribute("#field-last_echo", "min") == "1990-01-01"
    page.check("#field-pacemaker")
    page.fill("#field-last_echo", "2026-03-04")
    page.click("#save-patient")
    page.wait_for_selector(".flash.ok")
    fields = in_db(url, lambda db: dict(db.get(Patient, anna).custom_fields))
    assert fields["pacemaker"] in (True, "yes") and str(fields["last_echo"]) == "2026-03-04"
    page.uncheck("#field-pacemaker")
    page.click("#save-patient")
    page.wait_for_selector(".flash.ok")
    assert in_db(url, lambda db: db.get(Patient, anna).custom_fields["pacemaker"]) in (False, "no")

    page.goto(f"{base}/admin/audit")
    headers = page.locator("#audit thead th").all_inner_texts()
    assert headers == ["When", "Who", "Action", "Patient", "From", "Detail"]
    position = page.inner_text("#audit-position")
    assert position.startswith("Page 1 / 2")
    total = int(position.split("(")[1].rstrip(")"))  # the 60 reads, the admin's views and edits
    first = page.locator("#audit tbody tr").first.inner_text().split("\t")
    assert first[1:4] == ["admin", "view", "P000001"]  # the patient by code, not by row number
    page.click("#audit-next")
    page.wait_for_selector("#audit-position >> text=Page 2 / 2")
    assert page.locator("#audit tbody tr").count() == total - 50
    page.fill("#audit-filter input[name=actor]", "super")
    page.fill("#audit-filter input[name=patient_code]", "P000001")
    page.click("#audit-apply")
    page.wait_for_selector("#audit-position >> text=Page 1 / 1 (30)")
    assert {row.split("\t")[1] for row in page.locator("#audit tbody tr").all_inner_texts()} == {"super"}
    assert "P000001" not in page.url
