"""`ccctl patients erase`: nothing personal of the patient remains in any table or file, the calls and
queue events still count in the reports, another patient is untouched, and the audit row says who and why."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import String, Text, select
from sqlalchemy.orm import Session

from ccctl.cli import main
from ccctl.patients.pins import PinHasher
from ccctl.records.database import make_engine
from ccctl.records.models.acd import QueueEntry, QueueEvent
from ccctl.records.models.appointments import Appointment, Department, Doctor, Hl7Message, Slot
from ccctl.records.models.audit import AuditEntry
from ccctl.records.models.base import Base
from ccctl.records.models.calls import Call, VoiceMessage
from ccctl.records.models.channels import FaxJob, SmsMessage
from ccctl.records.models.inbox import InboxAttachment, InboxItem, PatientEmail, Ticket
from ccctl.records.models.media import Recording
from ccctl.records.models.patients import Patient, PatientPhone
from ccctl.records.models.web import CallWrapUp
from ccctl.reports.kpi import compute_kpis

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
ANNA_PHONE, ANNA_MAIL, ANNA_MRN = "+48600100200", "anna.kowalska@example.org", "MRN-4417"
# every value of Anna's that must be gone; Wei's must stay
ANNA = [
    "Kowalska",
    ANNA_PHONE,
    ANNA_MAIL,
    ANNA_MRN,
    "880001",
    "AB123456",
    "my knee hurts",
    "left knee pain since May",
    "booked for Monday",
    "called about the knee",
    "knee scan",
]
WEI = ["Zhang", "+8613800000001", "wei asks about parking"]


def write(path: Path, data: bytes = b"RIFF....WAVE") -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return str(path)


def seed(url: str, files: Path) -> dict:
    """Anna with something in every table that can name a patient; Wei with a call and a message."""
    engine = make_engine(url)
    with Session(engine) as db, db.begin():
        anna = Patient(
            patient_code="P000001",
            given_name="Anna",
            family_name="Kowalska",
            is_member=True,
            member_number="880001",
            hospital_id=ANNA_MRN,
            pin_hash=PinHasher().hash("4711"),
            specialty="general",
            custom_fields={"national_id": "AB123456"},
            phones=[PatientPhone(number=ANNA_PHONE)],
        )
        wei = Patient(patient_code="P000002", given_name="Wei", family_name="Zhang")
        wei.phones = [PatientPhone(number="+8613800000001")]
        db.add_all([anna, wei])
        db.flush()
        db.add(PatientEmail(patient_id=anna.id, address=ANNA_MAIL))
        for n, (patient, number) in enumerate([(anna, ANNA_PHONE), (None, ANNA_PHONE), (wei, "+8613800000001")]):
            uuid = f"call-{n}"
            db.add(
                Call(
                    uuid=uuid,
                    hotline="main",
                    caller_number=number,
                    started_at=T0 + timedelta(minutes=n),
                    answered_at=T0 + timedelta(minutes=n, seconds=5),
                    ended_at=T0 + timedelta(minutes=n + 2),
                    disposition="completed",
                    patient_id=patient.id if patient else None,
                )
            )
            entry = QueueEntry(queue="cardio", call_uuid=uuid, patient_id=patient.id if patient else None,
                               status="done", entered_at=T0 + timedelta(minutes=n))  # fmt: skip
            db.add(entry)
            for kind, seconds in (("entered", 0), ("answered", 5), ("ended", 120)):
                db.add(QueueEvent(at=T0 + timedelta(minutes=n, seconds=seconds), queue="cardio", call_uuid=uuid,
                                  kind=kind, patient_id=entry.patient_id))  # fmt: skip
        db.add(QueueEntry(queue="cardio", call_uuid="call-9", patient_id=anna.id, callback_number=ANNA_PHONE))
        db.add(QueueEvent(at=T0, queue="cardio", call_uuid="call-9", kind="callback_done", patient_id=anna.id,
                          detail="booked for Monday"))  # fmt: skip
        db.add(CallWrapUp(call_uuid="call-0", agent="ann", code="info", notes="called about the knee"))
        db.add(Recording(call_uuid="call-0", path=write(files / "rec" / "call-0.wav"), started_at=T0,
                         patient_id=anna.id))  # fmt: skip
        voice = VoiceMessage(call_uuid="call-1", path=write(files / "voice" / "call-1.wav"), reason="complaint")
        db.add(voice)
        item = InboxItem(channel="email", sender=ANNA_MAIL, subject="knee", body="my knee hurts", patient_id=anna.id)
        item.attachments = [InboxAttachment(filename="scan.pdf", path=write(files / "att" / "scan.pdf", b"%PDF"))]
        guess = InboxItem(channel="web", sender=ANNA_PHONE, body="left knee pain since May",
                          suggested_patient_id=anna.id)  # fmt: skip
        db.add_all([item, guess, InboxItem(channel="sms", sender="+8613800000001", body="wei asks about parking",
                                           patient_id=wei.id)])  # fmt: skip
        db.add(SmsMessage(patient_id=anna.id, recipient=ANNA_PHONE, body="Your visit on Monday"))
        db.add(FaxJob(number=ANNA_PHONE, patient_id=anna.id, source_name="knee scan.pdf",
                      tiff_path=write(files / "fax" / "1.tiff")))  # fmt: skip
        db.flush()
        db.add(Ticket(source="email", patient_id=anna.id, category="complaint", description="my knee hurts",
                      due_at=T0, inbox_item_id=item.id))  # fmt: skip
        db.add(Ticket(source="voice", category="complaint", description="left knee pain since May", due_at=T0,
                      voice_message_id=voice.id))  # fmt: skip
        department = Department(code="ORT", name="Orthopaedics")
        doctor = Doctor(code="D1", name="Dr Nowak", department=department)
        slot = Slot(doctor=doctor, department=department, starts_at=T0 + timedelta(days=3))
        db.add_all([department, doctor, slot])
        db.flush()
        db.add(Appointment(patient_id=anna.id, slot_id=slot.id, held_slot_id=slot.id, reason="knee scan"))
        db.add(Hl7Message(direction="in", status="applied", raw=f"MSH|...\rPID|||{ANNA_MRN}||Kowalska^Anna"))
        ids = {"anna": anna.id, "wei": wei.id}
    engine.dispose()
    return ids


def every_text(url: str) -> list[tuple[str, str]]:
    """(table, value) of every text column of every table but the audit log."""
    engine = make_engine(url)
    found = []
    with Session(engine) as db:
        for table in Base.metadata.sorted_tables:
            if table.name == "audit_log":
                continue
            columns = [c for c in table.columns if isinstance(c.type, String | Text) or c.name == "custom_fields"]
            for row in db.execute(select(*columns)) if columns else []:
                found += [(table.name, str(value)) for value in row if value]
    engine.dispose()
    return found


def linked_to(url: str, patient_id: int) -> set[str]:
    """Tables with a row naming this patient in a patient column."""
    engine = make_engine(url)
    with Session(engine) as db:
        tables = {
            table.name
            for table in Base.metadata.sorted_tables
            for column in table.columns
            if column.name in ("patient_id", "suggested_patient_id")
            and db.execute(select(column).where(column == patient_id).limit(1)).first()
        }
    engine.dispose()
    return tables


def kpi_counts(url: str) -> tuple:
    engine = make_engine(url)
    with Session(engine) as db:
        report = compute_kpis(db, T0 - timedelta(hours=1), T0 + timedelta(hours=1), now=T0 + timedelta(hours=1))
        calls = db.scalars(select(Call.disposition)).all()
    engine.dispose()
    return report.offered, report.answered, sorted(calls)


@pytest.fixture
def ccctl(db_url, tmp_path):
    settings = tmp_path / "ccctl.yaml"
    settings.write_text(f"database:\n  url: {db_url}\n")
    return lambda *args: CliRunner().invoke(main, ["-c", str(settings), *args])


def test_erase_leaves_nothing_personal_and_the_reports_still_count_the_calls(ccctl, db_url, tmp_path):
    ids = seed(db_url, tmp_path / "files")
    before = kpi_counts(db_url)
    assert before[:2] == (3, 3)
    refused = ccctl("patients", "erase", "P000001", "--confirm", "P000002", "--reason", "request")
    assert (refused.exit_code, refused.output) == (
        1,
        "ccctl: patients erase P000001: --confirm must repeat the patient code exactly\n",
    )
    assert ccctl("patients", "erase", "P000001", "--confirm", "P000001").exit_code == 2  # --reason is required
    assert any("Kowalska" in value for _, value in every_text(db_url))  # nothing erased yet

    result = ccctl("patients", "erase", "P000001", "--confirm", "P000001", "--reason", "letter of 2026-11-20",
                   "--as", "maria")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.output.startswith("erased P000001: 1 phone number(s), 1 e-mail address(es), 2 call(s) anonymised")
    assert not any(d in result.output for d in ("Kowalska", "600100200", "knee"))

    left = [(table, value) for table, value in every_text(db_url) for personal in ANNA if personal in value]
    assert left == []
    assert all(any(w in value for _, value in every_text(db_url)) for w in WEI)
    assert sorted(p.name for p in (tmp_path / "files").rglob("*") if p.is_file()) == []
    # the tombstone keeps the visit (now without its reason); nothing else points at Anna
    assert linked_to(db_url, ids["anna"]) == {"appointments", "audit_log"}
    assert linked_to(db_url, ids["wei"]) >= {"calls", "queue_entries", "queue_events", "inbox_items"}
    assert kpi_counts(db_url) == before

    engine = make_engine(db_url)
    with Session(engine) as db:
        audit = db.scalars(select(AuditEntry).where(AuditEntry.action == "erase")).one()
        patient = db.get(Patient, ids["anna"])
        assert (patient.patient_code, patient.family_name, patient.pin_hash) == ("P000001", "(erased)", None)
    engine.dispose()
    assert (audit.actor, audit.patient_id, audit.source) == ("maria", ids["anna"], "cli")
    assert audit.detail.startswith("reason: letter of 2026-11-20; removed: 1 phone number(s)")
