"""The patient search: % and _ are plain characters, oversized input is refused before SQL, parameters never
reach an error or a log line, and the audit row says what was searched for and which patients were shown."""

import json
import logging

import pytest
from click.testing import CliRunner
from patient_fixtures import add_patients, member, session_on
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from web_site import console, csrf, log_in, seed

from ccctl.cli import main
from ccctl.patients.repository import PatientData, PatientError, PatientFilter, list_patients
from ccctl.records.database import make_engine
from ccctl.records.migrate import upgrade
from ccctl.records.models.audit import AuditEntry

LONG_SEARCH = "Kowalska" * 6250  # 50,000 characters


def codes(url: str, search: str) -> list[str]:
    with session_on(url) as session:
        return [patient.patient_code for patient in list_patients(session, PatientFilter(search=search))]


def audit_details(url: str, action: str) -> list[tuple[str, str]]:
    with session_on(url) as session:
        query = select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
        return [(entry.actor, entry.detail) for entry in session.scalars(query)]


def test_percent_and_underscore_match_only_themselves(db_url):
    add_patients(
        db_url,
        PatientData(given_name="Ann", patient_code="A_1"),
        PatientData(given_name="Bob", patient_code="AB1"),
        PatientData(given_name="Cy 100%", patient_code="C1"),
    )
    assert codes(db_url, "%") == ["C1"]
    assert codes(db_url, "_") == ["A_1"]
    assert codes(db_url, "a_1") == ["A_1"]
    assert codes(db_url, "0%") == ["C1"]
    assert codes(db_url, "\\") == []


def test_an_oversized_search_is_refused_naming_the_field_and_the_limit(db_url):
    with session_on(db_url) as session, pytest.raises(PatientError) as err:
        list_patients(session, PatientFilter(search=LONG_SEARCH))
    assert str(err.value) == "search: longer than 128 characters"
    assert codes(db_url, "k" * 128) == []


@pytest.fixture
def ccctl(db_url, tmp_path, monkeypatch):
    for name in ("CCCTL_CONFIG", "CCCTL_DATABASE__URL"):
        monkeypatch.delenv(name, raising=False)
    settings = tmp_path / "ccctl.yaml"
    settings.write_text(f"database:\n  url: {db_url}\n")
    return lambda *args: CliRunner().invoke(main, ["-c", str(settings), *args])


def test_cli_list_refuses_an_oversized_search_in_one_line(ccctl, db_url):
    result = ccctl("patients", "list", "--search", LONG_SEARCH)
    assert result.exit_code == 1
    assert result.stderr == "ccctl: search: longer than 128 characters\n"
    assert audit_details(db_url, "list") == []


def test_cli_list_audits_the_search_and_the_codes_shown(ccctl, db_url):
    add_patients(
        db_url,
        member(number="1111", given_name="Anna", family_name="Kowalska", phone="+48111"),
        member(number="2222", given_name="Li", family_name="Wei", phone="+86222"),
        member(number="3333", given_name="Ewa", family_name="Kowalczyk", phone="+48333"),
    )
    result = ccctl("patients", "list", "--search", "kowal", "--member", "--json", "--as", "dr.nowak")
    assert [row["patient_code"] for row in json.loads(result.output)] == ["P000001", "P000003"]
    ccctl("patients", "list", "--search", "%", "--as", "dr.nowak")
    assert audit_details(db_url, "list") == [
        ("dr.nowak", "search 'kowal', members, limit 100: 2 patients P000001, P000003"),
        ("dr.nowak", "search '%', limit 100: 0 patients"),
    ]


def test_engines_hide_parameters_from_errors_and_echo_logs(db_url, caplog):
    engine = make_engine(db_url, echo=True)
    try:
        with caplog.at_level(logging.INFO, logger="sqlalchemy.engine"), engine.connect() as connection:
            connection.execute(text("SELECT :name AS name"), {"name": "Kowalska-echo"})
            with pytest.raises(DBAPIError) as err:
                connection.execute(text("SELECT * FROM no_such_table WHERE x = :phone"), {"phone": "+48600999888"})
    finally:
        engine.dispose()
    assert "+48600999888" not in str(err.value) and "SQL parameters hidden" in str(err.value)
    assert "SELECT" in caplog.text and "Kowalska-echo" not in caplog.text


@pytest.fixture
def console_client(db_url):
    ids = seed(db_url)
    app, _controller = console(db_url)
    client = app.test_client()
    log_in(client, "super")
    return app, client, ids


def test_web_search_refuses_an_oversized_search_on_the_page(console_client, db_url):
    _app, client, _ids = console_client
    page = client.post("/admin/patients", data={"search": LONG_SEARCH, "csrf_token": csrf(client)})
    html = page.get_data(as_text=True)
    assert page.status_code == 400 and "search: longer than 128 characters" in html
    assert 'maxlength="128"' in html and "Kowalska" not in html
    assert audit_details(db_url, "search") == []


def test_web_search_audits_what_was_searched_and_which_patients_were_shown(console_client, db_url):
    _app, client, _ids = console_client
    token = csrf(client)
    client.post("/admin/patients", data={"search": "kowal", "csrf_token": token})
    html = client.post("/admin/patients", data={"search": "%", "csrf_token": token}).get_data(as_text=True)
    assert "Kowalska" not in html and "Zhang" not in html
    assert audit_details(db_url, "search") == [
        ("super", "search 'kowal', limit 100: 1 patient P000001"),
        ("super", "search '%', limit 100: 0 patients"),
    ]


def test_a_failing_search_logs_no_patient_data(empty_db_url, caplog):
    upgrade(empty_db_url)  # a database of its own: the test breaks its schema
    seed(empty_db_url)
    with session_on(empty_db_url) as session:
        session.execute(text("DROP TABLE patient_phones"))
    app, _controller = console(empty_db_url)
    app.config["PROPAGATE_EXCEPTIONS"] = False  # as in production: Flask logs the error and answers 500
    client = app.test_client()
    log_in(client, "super")
    with caplog.at_level(logging.ERROR):
        page = client.post("/admin/patients", data={"search": "Kowalska 600100200", "csrf_token": csrf(client)})
    assert page.status_code == 500
    assert "patient_phones" in caplog.text and "SQL parameters hidden" in caplog.text
    assert "kowalska" not in caplog.text.lower() and "600100200" not in caplog.text


def test_web_search_with_a_nul_character_is_a_400_saying_so(console_client, db_url):
    _app, client, _ids = console_client
    page = client.post("/admin/patients", data={"search": "Kowal\x00ska", "csrf_token": csrf(client)})
    html = page.get_data(as_text=True)
    assert page.status_code == 400 and "search: contains a NUL character" in html
    assert "Kowal" not in html
    assert audit_details(db_url, "search") == []


def test_cli_list_refuses_a_nul_character_in_one_line(ccctl, db_url):
    result = ccctl("patients", "list", "--search", "Kowal\x00ska")
    assert (result.exit_code, result.stderr) == (1, "ccctl: search: contains a NUL character (\\x00)\n")
    assert audit_details(db_url, "list") == []
