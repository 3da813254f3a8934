"""DbCallServices as a flow sees it: patient lookups, voice messages, HTTP lookups with a timeout, hand-off."""

import datetime as dt
import json
import socket
import sys

import gevent
import pytest
from gevent.pywsgi import WSGIServer
from patient_fixtures import REPO, add_patients, member, session_on
from sqlalchemy import select

from ccctl.callflow import CallInfo
from ccctl.ivr.registry import FlowRegistry
from ccctl.ivr.services import LookupFailed, PatientView
from ccctl.patients import commands as patient_commands
from ccctl.patients.call_services import DbCallServices, RecordsUnavailable
from ccctl.patients.repository import PatientData
from ccctl.records.models.audit import AuditEntry
from ccctl.records.models.calls import VoiceMessage
from ccctl.records.models.patients import PinAttempt

IVR_TESTS = REPO / "tests" / "unit" / "ivr"  # its call_driver answers commands with real ESL events
TUESDAY_10AM = dt.datetime(2026, 3, 10, 10, 0)  # the example hotline is open


@pytest.fixture
def services(db_url):
    services = DbCallServices(db_url, handoff={"cardiology": "user/1001", "*": "user/1000"})
    yield services
    services.close()


ANN = PatientView(
    id=1,
    patient_code="P000001",
    display_name="Ann Lee",
    member=True,
    specialty="cardiology",
    language="pl",
    member_number="123456",
)


def test_lookups_find_the_patient_and_are_audited(db_url, services):
    add_patients(db_url, member(language="pl"), PatientData(given_name="Non", phones=["+4822"], patient_code="N1"))
    assert services.find_patient_by_phone("+33 6 12 34 56 78") == ANN
    assert services.find_patient_by_member_number("123456") == ANN
    assert services.find_patient_by_code("P000001") == ANN
    other = services.find_patient_by_phone("+4822")
    assert (other.patient_code, other.member, other.member_number, other.display_name) == ("N1", False, None, "Non")
    assert services.find_patient_by_phone("+1999") is None
    assert services.find_patient_by_member_number("999999") is None
    with session_on(db_url) as session:
        rows = [(a.actor, a.action, a.patient_id, a.source, a.detail) for a in session.scalars(select(AuditEntry))]
    assert rows == [
        ("ivr", "lookup", 1, "ivr", "by caller number"),
        ("ivr", "lookup", 1, "ivr", "by member number"),
        ("ivr", "lookup", 1, "ivr", "by patient code"),
        ("ivr", "lookup", 2, "ivr", "by caller number"),
    ]


def test_lookups_from_many_greenlets_at_once(db_url, services):
    add_patients(db_url, *(member(number=f"{n:06d}", phone=f"+4860000{n:04d}") for n in range(1, 21)))
    jobs = [gevent.spawn(services.find_patient_by_phone, f"+4860000{n:04d}") for n in range(1, 21)]
    gevent.joinall(jobs, raise_error=True)
    assert [job.value.member_number for job in jobs] == [f"{n:06d}" for n in range(1, 21)]


def test_voice_message_is_filed_as_new(db_url, services):
    add_patients(db_url, member())
    first = services.save_voice_message("call-1", 1, "recordings/voice/2026-11-23/call-1-complaint.wav", "complaint")
    second = services.save_voice_message("call-2", None, "recordings/voice/2026-11-23/call-2-after.wav", "after_hours")
    assert second == first + 1
    with session_on(db_url) as session:
        rows = [(m.call_uuid, m.patient_id, m.path, m.reason, m.status) for m in session.scalars(select(VoiceMessage))]
    assert rows == [
        ("call-1", 1, "recordings/voice/2026-11-23/call-1-complaint.wav", "complaint", "new"),
        ("call-2", None, "recordings/voice/2026-11-23/call-2-after.wav", "after_hours", "new"),
    ]


def test_handoff_target_by_skill_with_a_default(services):
    assert services.handoff_target("cardiology", 5, "call-1") == "user/1001"
    assert services.handoff_target("complaints", 1, "call-1") == "user/1000"


def test_no_handoff_mapping_means_no_target(sqlite_url):
    services = DbCallServices(sqlite_url)
    try:
        assert services.handoff_target("registration", 1, "call-1") is None
    finally:
        services.close()


def test_database_failure_is_one_line_without_the_query(tmp_path):
    url = f"sqlite:///{tmp_path / 'never-migrated.db'}"
    services = DbCallServices(url)
    try:
        with pytest.raises(RecordsUnavailable) as err:
            services.find_patient_by_member_number("123456")
    finally:
        services.close()
    assert str(err.value) == f"database {url}: no such table: patients"


@pytest.fixture
def hospital_system():
    """A hospital HTTP service on an ephemeral port: /patients?phone= answers JSON, /slow never in time."""
    release = gevent.event.Event()

    def app(environ, start_response):
        path, query = environ["PATH_INFO"], environ.get("QUERY_STRING", "")
        if path == "/slow":
            release.wait(5)
        status, body = {
            "/patients": ("200 OK", json.dumps({"query": query, "ward": "B2"})),
            "/empty": ("200 OK", ""),
            "/list": ("200 OK", "[1, 2]"),
            "/broken": ("500 Internal Server Error", "oops"),
            "/slow": ("200 OK", "{}"),
        }.get(path, ("404 Not Found", "{}"))
        start_response(status, [("Content-Type", "application/json")])
        return [body.encode()]

    server = WSGIServer(("127.0.0.1", 0), app, log=None, error_log=None)
    server.start()
    yield f"http://127.0.0.1:{server.server_port}"
    release.set()
    server.stop(timeout=1)


def test_http_lookup_answers_and_failures(sqlite_url, hospital_system):
    services = DbCallServices(sqlite_url)
    try:
        answer = services.http_lookup(f"{hospital_system}/patients", {"phone": "+48 600"}, 2)
        assert answer == {"query": "phone=%2B48+600", "ward": "B2"}
        assert services.http_lookup(f"{hospital_system}/nobody", {}, 2) is None
        assert services.http_lookup(f"{hospital_system}/empty", {}, 2) is None
        with pytest.raises(LookupFailed, match=f"^{hospital_system}/broken: HTTP 500$"):
            services.http_lookup(f"{hospital_system}/broken", {"phone": "+48600"}, 2)
        with pytest.raises(LookupFailed, match=f"^{hospital_system}/list: answer is not a JSON object$"):
            services.http_lookup(f"{hospital_system}/list", {}, 2)
        with pytest.raises(LookupFailed, match=f"^{hospital_system}/slow: no answer within 0.2s$") as err:
            services.http_lookup(f"{hospital_system}/slow", {"phone": "+48600"}, 0.2)
        assert "+48600" not in str(err.value)
    finally:
        services.close()


def test_http_lookup_to_a_closed_port_fails(sqlite_url):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nothing listens once the socket is closed
    services = DbCallServices(sqlite_url)
    try:
        with pytest.raises(LookupFailed, match=f"^http://127.0.0.1:{port}/x: .*refused"):
            services.http_lookup(f"http://127.0.0.1:{port}/x", {}, 2)
    finally:
        services.close()


def test_shipped_hotline_authenticates_a_member_against_the_database(db_url, tmp_path):
    """The example hotline (ivr_flows/main.yaml) run by the interpreter on these services: wrong PIN, then right."""
    sys.path.insert(0, str(IVR_TESTS))
    from call_driver import CALL_UUID, ScriptedCaller, drive

    add_patients(db_url, member(number="70031337", phone="+48 600 100 200", given_name="Anna", family_name="Nowak"))
    patient_commands.set_pin(db_url, "P000001", "918273", "admin")
    services = DbCallServices(db_url, handoff={"*": "user/1001@cc.local"})
    registry = FlowRegistry(REPO / "ivr_flows", services=services, clock=lambda: TUESDAY_10AM, recordings_dir=tmp_path)
    try:
        app = registry.app_factory(CallInfo(CALL_UUID, "+48600100200", "7000", "main"))
        # English, member, the caller's own member number offered by caller ID is declined, wrong PIN, right PIN
        keys = ["1", "1", "2", "70031337", "111111", "918273", "2", "1"]
        call = drive(app, ScriptedCaller(keys=keys), caller_number="+48600100200")
    finally:
        services.close()
    auth = [step for step in call.path if step.startswith("authenticate:")]
    assert auth[-3:] == ["authenticate:wrong", "authenticate:pin", "authenticate:ok"]
    assert app.patient_id == 1
    assert call.finish.disposition == "completed"
    with session_on(db_url) as session:
        rows = [(a.patient_id, a.call_uuid, a.outcome) for a in session.scalars(select(PinAttempt))]
    assert rows == [(1, CALL_UUID, "wrong"), (1, CALL_UUID, "ok")]
