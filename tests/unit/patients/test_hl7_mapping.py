"""HL7 v2 without sockets: fields read from PID/SCH/AIL/AIP, ACKs written, and what receive() does to the
database for moves, conflicts, no-shows, unsupported events and updates that leave fields empty."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import hl7
import pytest
from click.testing import CliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session

from ccctl.appointments import store
from ccctl.appointments.model import AppointmentView, SlotView
from ccctl.cli import main
from ccctl.config import Settings
from ccctl.patients.hl7_inbound import read_patient, receive
from ccctl.patients.hl7_listener import FrameReader
from ccctl.patients.hl7_message import Hl7Reject, build_ack, crude_header, parse, parse_timestamp, read_header
from ccctl.patients.hl7_outbound import queue_change
from ccctl.records.database import make_engine
from ccctl.records.models.appointments import Appointment, Hl7Message, Slot
from ccctl.records.models.audit import AuditEntry
from ccctl.records.models.patients import Patient, PatientPhone

DAY = (datetime.now(UTC) + timedelta(days=5)).replace(hour=8, minute=0, second=0, microsecond=0)


def msh(kind: str, control_id: str) -> str:
    return f"MSH|^~\\&|EPIC|CITY-HOSP|CCCTL|CC|20261205||{kind}|{control_id}|P|2.5"


def siu(event: str, control_id: str, at: datetime, *, filler: str = "F-1", mrn: str = "MRN-1") -> str:
    return "\r".join(
        [
            msh(f"SIU^{event}", control_id),
            f"SCH||{filler}|||||||30|MIN|^^30^{at:%Y%m%d%H%M%S}+0000",
            f"PID|1||{mrn}^^^H^MR||Lis^Jan",
            "AIL|1||CARD",
            "AIP|1||D-1^Novak^Eva",
        ]
    )


@pytest.fixture
def site(sqlite_url):
    settings = Settings()
    settings.database.url = sqlite_url
    return settings, make_engine(sqlite_url)


def test_pid_takes_the_mr_identifier_phones_from_their_components_and_a_three_letter_language():
    message = parse(
        msh("ADT^A04", "1")
        + "\nPID|1||X9^^^NHS^SS~MRN-5^^^H^MR||Lis^Jan||||||||^PRN^PH^^48^22^1234567~^NET^Internet^jan@example.org"
        + "|+48 600-100-200^WPN^CP|chi"
    )
    fields = read_patient(message)
    assert fields.hospital_id == "MRN-5"
    assert fields.phones == [("+48221234567", "home"), ("+48600100200", "mobile")]
    assert (fields.family_name, fields.given_name, fields.language) == ("Lis", "Jan", "zh")


@pytest.mark.parametrize(
    ("pid", "where"),
    [
        ("PID|1||||Lis^Jan", "PID-3: required field missing (patient identifier)"),
        ("PID|1||M1||Lis^Jan||||||||call me maybe", "PID-13: not a phone number"),
        ("PID|1||M1||Lis^Jan||||||||||Klingon!", "PID-15: not a language code"),
    ],
)
def test_a_bad_pid_field_is_named_without_its_value(pid, where):
    with pytest.raises(Hl7Reject) as refused:
        read_patient(parse(msh("ADT^A08", "1") + "\r" + pid))
    assert str(refused.value) == where


def test_an_ae_ack_names_segment_field_and_code_with_delimiters_escaped():
    header = replace(read_header(parse(msh("SIU^S12", "C7"))), control_id="C|7")
    ack = hl7.parse(build_ack(header, "AE", ("CCCTL", "CC"), Hl7Reject("AIP", 3, "101", "required field missing")))
    assert str(ack.segment("MSH")(9)) == "ACK^S12^ACK"
    assert [str(ack.segment("MSH")(i)) for i in (3, 4, 5, 6)] == ["CCCTL", "CC", "EPIC", "CITY-HOSP"]
    assert str(ack.segment("MSA")(1)) == "AE" and ack.unescape(str(ack.segment("MSA")(2))) == "C|7"
    assert str(ack.segment("MSA")(3)) == "AIP-3: required field missing"
    assert str(ack.segment("ERR")(2)) == "AIP^1^3" and str(ack.segment("ERR")(3)(1)(1)) == "101"


def test_a_message_the_library_cannot_parse_is_still_answered_to_its_sender():
    header = crude_header("MSH|^~\\&|LAB|H2|CCCTL|CC|2026||ADT^A04|77|P|2.3\rbroken")
    assert (header.sending_application, header.sending_facility, header.control_id) == ("LAB", "H2", "77")


def test_a_time_without_offset_is_the_sites_and_one_with_an_offset_is_kept():
    warsaw = ZoneInfo("Europe/Warsaw")
    assert parse_timestamp("202612071000", "SCH", 11, warsaw) == datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
    assert parse_timestamp("20261207100000-0500", "SCH", 11, warsaw) == datetime(2026, 12, 7, 15, 0, tzinfo=UTC)
    with pytest.raises(Hl7Reject, match="SCH-11: not a timestamp"):
        parse_timestamp("tomorrow", "SCH", 11, warsaw)


def test_s13_moves_the_visit_and_the_filler_id_follows_it(site):
    settings, engine = site
    assert receive(engine, siu("S12", "1", DAY), "t", settings).code == "AA"
    assert receive(engine, siu("S13", "2", DAY + timedelta(hours=2)), "t", settings).code == "AA"
    with Session(engine) as session:
        visits = session.scalars(select(Appointment).order_by(Appointment.id)).all()
        assert [(v.status, v.external_id) for v in visits] == [("moved", None), ("booked", "F-1")]
        assert visits[1].slot.starts_at == DAY + timedelta(hours=2) and visits[1].slot.minutes == 30


def test_a_slot_held_by_a_phone_booking_refuses_the_his_booking_and_nothing_is_applied(site):
    settings, engine = site
    receive(engine, siu("S12", "1", DAY), "t", settings)
    with Session(engine) as session, session.begin():
        slot_id = session.scalars(select(Slot.id)).one()
        store.cancel(session, session.scalars(select(Appointment.id)).one(), by="ivr")
        other = Patient(patient_code="P-2", given_name="Ola", family_name="Zet")
        session.add(other)
        session.flush()
        store.book(session, other.id, slot_id, source="ivr", booked_by="ivr:x")

    receipt = receive(engine, siu("S12", "2", DAY, filler="F-2", mrn="MRN-NEW"), "t", settings)

    assert receipt.code == "AE" and receipt.error.startswith("SCH-11: slot")
    with Session(engine) as session:
        assert session.scalars(select(Patient).where(Patient.hospital_id == "MRN-NEW")).first() is None
        assert session.scalars(select(Appointment).where(Appointment.external_id == "F-2")).first() is None
        assert session.scalars(select(Hl7Message.status).where(Hl7Message.control_id == "2")).one() == "rejected"


def test_s26_marks_the_visit_missed_and_frees_its_slot(site):
    settings, engine = site
    receive(engine, siu("S12", "1", DAY), "t", settings)
    assert receive(engine, siu("S26", "2", DAY), "t", settings).code == "AA"
    with Session(engine) as session:
        visit = session.scalars(select(Appointment)).one()
        assert (visit.status, visit.held_slot_id) == ("no_show", None)


def test_unsupported_events_and_unknown_visits_are_refused_by_field(site):
    settings, engine = site
    transfer = receive(engine, msh("ADT^A02", "1") + "\rPID|1||M1||Lis^Jan", "t", settings)
    cancel = receive(engine, siu("S15", "2", DAY, filler="NOPE"), "t", settings)
    assert (transfer.code, transfer.error) == ("AE", "MSH-9: event A02 is not taken here")
    assert (cancel.code, cancel.error) == ("AE", "SCH-2: no appointment with this filler id")


def test_an_update_that_leaves_a_field_empty_keeps_what_is_stored(site):
    settings, engine = site
    receive(engine, msh("ADT^A04", "1") + "\rPID|1||M1||Lis^Jan||||||||+48600100200||pl", "t", settings)
    receive(engine, msh("ADT^A31", "2") + "\rPID|1||M1||^Janek", "t", settings)
    with Session(engine) as session:
        patient = session.scalars(select(Patient).where(Patient.hospital_id == "M1")).one()
        assert (patient.family_name, patient.given_name, patient.language) == ("Lis", "Janek", "pl")
        assert [phone.number for phone in patient.phones] == ["+48600100200"]


def test_nothing_is_queued_for_the_his_without_an_address_or_for_its_own_bookings(site):
    settings, engine = site
    slot = SlotView(1, "CARD", "Cardiology", {}, "D-1", "Dr A", DAY, 15)
    with Session(engine) as session, session.begin():
        patient = Patient(patient_code="P-1", given_name="A", family_name="B")
        patient.phones.append(PatientPhone(number="+48600100200"))
        session.add(patient)
        session.flush()
        by_phone = AppointmentView(1, patient.id, "booked", slot, None, "ivr")
        from_his = AppointmentView(2, patient.id, "booked", slot, "F-1", "hl7")
        assert queue_change(session, by_phone, "booked", settings.hl7) is None
        settings.hl7.outbound_host = "his.invalid"
        assert queue_change(session, from_his, "booked", settings.hl7) is None
        assert queue_change(session, from_his, "cancelled", settings.hl7) is not None
        assert queue_change(session, by_phone, "booked", settings.hl7) is not None


def test_a_cancellation_that_came_before_its_booking_is_applied_by_retry_and_shown_with_an_audit_row(site, tmp_path):
    settings, engine = site
    config = tmp_path / "ccctl.yaml"
    config.write_text(f"database:\n  url: {settings.database.url}\n")
    early = receive(engine, siu("S15", "1", DAY), "t", settings)
    receive(engine, siu("S12", "2", DAY), "t", settings)

    retried = CliRunner().invoke(main, ["--config", str(config), "hl7", "retry", str(early.message_id)])
    shown = CliRunner().invoke(main, ["--config", str(config), "hl7", "show", str(early.message_id), "--as", "alice"])

    assert retried.exit_code == 0 and retried.output.startswith(f"message {early.message_id} applied"), retried.output
    assert shown.exit_code == 0 and "status reviewed" in shown.output and "PID|1||MRN-1^^^H^MR||Lis^Jan" in shown.output
    with Session(engine) as session:
        assert session.scalars(select(Appointment.status)).one() == "cancelled"
        patient_id = session.scalars(select(Patient.id).where(Patient.hospital_id == "MRN-1")).one()
        shows = session.scalars(select(AuditEntry).where(AuditEntry.action == "hl7 show")).all()
        assert [(a.actor, a.patient_id) for a in shows] == [("alice", patient_id)]


def test_mllp_frames_are_cut_from_a_stream_in_pieces_and_an_oversized_one_is_refused():
    reader = FrameReader(max_message_bytes=20)
    assert reader.feed(b"noise\x0bMSH|one") == []
    assert reader.feed(b"\x1c\r\x0bMSH|two\x1c\r\x0bMSH|thr") == [b"MSH|one", b"MSH|two"]
    assert reader.feed(b"ee\x1c\r") == [b"MSH|three"]
    with pytest.raises(ValueError):
        reader.feed(b"\x0b" + b"x" * 30)


def test_a_database_that_cannot_take_the_message_answers_ar_so_the_sender_sends_again(empty_sqlite_url):
    receipt = receive(make_engine(empty_sqlite_url), msh("ADT^A04", "1") + "\rPID|1||M1||Lis^Jan", "t", Settings())
    assert (receipt.code, receipt.message_id, receipt.error) == ("AR", None, "MSH: database error, send again later")
    assert str(hl7.parse(receipt.ack).segment("MSA")(1)) == "AR"
