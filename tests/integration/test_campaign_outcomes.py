"""Campaign outcomes written back: a reminder campaign whose three patients confirmed their visit (reached),
were texted after a busy call (notified), or could not be reached at all. Their contacts show on the record
(`ccctl patients show`, the console's patient page), `ccctl campaigns export --csv` writes one row per
patient, and the campaign's webhook, a small HTTP server here, gets one JSON POST per finished patient,
retried after a 500, naming the patient by code and hospital id only."""

from __future__ import annotations

import csv
import json
import re
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from gevent.pywsgi import WSGIServer
from sqlalchemy import select
from sqlalchemy.orm import Session

from ccctl.appointments import store as appointments
from ccctl.campaigns import channel_plan, store
from ccctl.campaigns.spec import load_spec
from ccctl.campaigns.webhooks import post_finished
from ccctl.cli import main
from ccctl.records.database import make_engine
from ccctl.records.models.appointments import Department, Doctor, Slot
from ccctl.records.models.audit import AuditEntry
from ccctl.records.models.campaigns import CampaignTarget
from ccctl.records.models.patients import Patient

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit" / "web"))
from web_site import console, log_in, seed  # noqa: E402

VISIT = datetime.now(UTC).replace(hour=8, minute=0, second=0, microsecond=0) + timedelta(days=2)
NOW = datetime.now(UTC)
CAMPAIGN = f"""\
name: reminders
kind: reminder
flow: reminder
targets: {{appointments: {{from: {VISIT.date()}, to: {VISIT.date()}}}}}
channels: {{voice_attempts: 1, sms: "City Hospital: please confirm your visit, call 7000."}}
calling: {{time_zone: UTC, windows: [{{days: [mon, tue, wed, thu, fri, sat, sun], from: "00:00", to: "23:59"}}]}}
webhook: WEBHOOK
"""


class Hospital:
    """The hospital's webhook receiver: answers 500 to the first post, 204 afterwards; keeps what it got."""

    def __init__(self) -> None:
        self.bodies: list[dict] = []
        self.statuses: list[int] = []

    def __call__(self, environ, start_response):
        body = json.loads(environ["wsgi.input"].read())
        status = 500 if not self.statuses else 204
        self.statuses.append(status)
        if status == 204:
            self.bodies.append(body)
        start_response(f"{status} {'Oops' if status == 500 else 'No Content'}", [])
        return [b""]


@pytest.fixture
def campaign(sqlite_url, tmp_path):
    """Anna confirmed her visit on the call, Wei was busy and got the SMS, Jan has no phone: all three done."""
    receiver = Hospital()
    server = WSGIServer(("127.0.0.1", 0), receiver, log=None)
    server.start()
    seed(sqlite_url)
    engine = make_engine(sqlite_url)
    path = tmp_path / "reminders.yaml"
    path.write_text(CAMPAIGN.replace("WEBHOOK", f"http://127.0.0.1:{server.server_port}/ccc/outcomes"))
    spec = load_spec(path)
    with Session(engine, expire_on_commit=False) as db, db.begin():
        anna, wei = db.scalars(select(Patient).order_by(Patient.id)).all()
        anna.hospital_id = "MRN-1"
        jan = Patient(patient_code="P-JAN", given_name="Jan", family_name="Nowak")
        cardiology = Department(code="CARD", name="Cardiology")
        doctor = Doctor(code="D1", name="Dr Nowak", department=cardiology)
        slots = [
            Slot(doctor=doctor, department=cardiology, starts_at=VISIT + timedelta(minutes=m)) for m in (0, 20, 40)
        ]
        db.add_all([jan, *slots])
        db.flush()
        visits = [
            appointments.book(db, p.id, s.id, source="agent", booked_by="test")
            for p, s in zip((anna, wei, jan), slots, strict=True)
        ]
        anna_visit = visits[0].id
    with Session(engine) as db, db.begin():
        row = store.add_campaign(db, spec, str(path), path.read_text(), "test", ZoneInfo("UTC"), NOW)
        due = {d.patient_id: d for d in store.due_targets(db, row.id, NOW, 10, ZoneInfo("UTC"))}
        store.skip_unreachable(db, row.id, list(due.values()))  # Jan: no phone, on to the SMS step
        attempts = {}
        for patient_id, call_uuid in ((anna.id, "call-anna"), (wei.id, "call-wei")):
            attempts[patient_id] = store.claim(db, due[patient_id], row.id, NOW, 1)
            store.call_placed(db, attempts[patient_id], call_uuid)
        target = {t.patient_id: t for t in db.scalars(select(CampaignTarget))}
        store.call_answered(db, target[anna.id].id, "call-anna")
        appointments.confirm(db, anna_visit, by="campaign:reminders")
        store.call_outcome(db, target[anna.id].id, "call-anna", "confirmed", NOW)
        store.call_failed(db, spec, target[wei.id].id, attempts[wei.id], "busy", "USER_BUSY", NOW)
        for patient_id in (wei.id, jan.id):
            channel_plan.queue_sms(db, row, spec, target[patient_id])
        ids = {"anna": (anna.patient_code, anna_visit), "wei": (wei.patient_code, wei.id), "jan": ("P-JAN", jan.id)}
    settings_file = tmp_path / "ccctl.yaml"
    settings_file.write_text(f"database:\n  url: {sqlite_url}\n")
    yield settings_file, engine, ids, receiver
    server.stop(timeout=1)
    engine.dispose()


def test_the_export_writes_one_row_per_patient_with_outcome_channel_and_visit_change(campaign, tmp_path):
    settings_file, engine, ids, _ = campaign
    out = tmp_path / "reminders.csv"
    run = CliRunner().invoke(main, ["-c", str(settings_file), "campaigns", "export", "reminders", "--csv", str(out)])
    assert run.exit_code == 0, run.output
    assert run.output == f"campaign reminders: 3 patients written to {out}\n"
    rows = [
        (r["patient_code"], r["hospital_id"], r["state"], r["attempts"], r["last_outcome"], r["result"], r["channel"])
        + (r["appointment_change"],)
        for r in csv.DictReader(out.open())
    ]
    assert rows == [
        (ids["anna"][0], "MRN-1", "done", "1", "confirmed", "reached", "voice", "confirmed"),
        (ids["wei"][0], "", "done", "2", "sms_queued", "notified", "sms", ""),
        ("P-JAN", "", "done", "1", "unreachable", "unreachable", "sms", ""),
    ]
    assert "Kowalska" not in out.read_text() and "+48600100200" not in out.read_text()
    with Session(engine) as db:
        audit = db.scalars(select(AuditEntry).where(AuditEntry.action == "campaign_export")).one()
        assert audit.detail == f"reminders: 3 targets to {out}"


def test_patients_show_lists_the_campaign_contacts_with_their_outcome(campaign):
    settings_file, _, ids, _ = campaign
    show = ["-c", str(settings_file), "patients", "show", ids["wei"][0]]
    text = CliRunner().invoke(main, show)
    assert text.exit_code == 0, text.output
    contacts = [line for line in text.output.splitlines() if line.startswith("campaign reminders (")]
    # each contact names its minute: the one the dialer made it in (this module's NOW is taken at collection)
    stamp = re.compile(r" (\d{4}-\d\d-\d\d \d\d:\d\d) ")
    minutes = {datetime.strptime(stamp.search(line)[1], "%Y-%m-%d %H:%M").replace(tzinfo=UTC) for line in contacts}
    assert all(NOW - timedelta(minutes=1) <= minute <= datetime.now(UTC) for minute in minutes), minutes
    assert sorted(stamp.sub(" ", line) for line in contacts) == [
        "campaign reminders (reminder) sms: queued (not reached after 1 calls)",
        "campaign reminders (reminder) voice: busy (call 1 of 1)",
    ]
    assert "campaign reminders: notified after 2 contacts\n" in text.output
    jan = CliRunner().invoke(main, ["-c", str(settings_file), "patients", "show", "P-JAN"]).output
    assert "campaign reminders: unreachable after 1 contacts\n" in jan
    data = json.loads(CliRunner().invoke(main, [*show, "--json"]).output)
    assert [(r["campaign"], r["result"]) for r in data["campaign_results"]] == [("reminders", "notified")]
    assert sorted((c["channel"], c["outcome"]) for c in data["campaign_contacts"]) == [
        ("sms", "queued"),
        ("voice", "busy"),
    ]


def test_the_console_patient_page_lists_the_campaign_contacts(campaign, sqlite_url):
    _, _, ids, _ = campaign
    app, _ = console(sqlite_url)
    client = app.test_client()
    log_in(client, "super")
    engine = make_engine(sqlite_url)
    with Session(engine) as db:
        anna_id = db.scalar(select(Patient.id).where(Patient.patient_code == ids["anna"][0]))
    engine.dispose()
    page = client.get(f"/patients/{anna_id}").get_data(as_text=True)
    section = page.split('id="patient-campaign-contacts"')[1].split("</section>")[0]
    assert "<h2>Campaign contacts</h2>" in section
    assert '<ul class="campaign-results">\n<li>reminders · reached · confirmed</li></ul>' in section
    assert "<li>reminders · " in section and " · voice · confirmed · call 1 of 1</li>" in section


def test_the_webhook_gets_one_post_per_finished_patient_retried_after_a_500(campaign):
    _, engine, ids, hospital = campaign
    assert post_finished(engine, NOW) == 2  # the first post got a 500
    assert post_finished(engine, NOW + timedelta(seconds=10)) == 0  # not yet due again
    assert post_finished(engine, NOW + timedelta(seconds=31)) == 1
    assert post_finished(engine, NOW + timedelta(hours=2)) == 0  # delivered: never again
    assert hospital.statuses == [500, 204, 204, 204]
    by_code = {body["patient_code"]: body for body in hospital.bodies}
    assert set(by_code) == {ids["anna"][0], ids["wei"][0], "P-JAN"}
    anna = by_code[ids["anna"][0]]
    assert {k: anna[k] for k in ("campaign", "hospital_id", "result", "channel", "appointment_change")} == {
        "campaign": "reminders",
        "hospital_id": "MRN-1",
        "result": "reached",
        "channel": "voice",
        "appointment_change": "confirmed",
    }
    assert (by_code["P-JAN"]["result"], by_code[ids["wei"][0]]["result"]) == ("unreachable", "notified")
    sent = json.dumps(hospital.bodies)
    assert "Kowalska" not in sent and "Anna" not in sent and "+48600100200" not in sent and "Nowak" not in sent
