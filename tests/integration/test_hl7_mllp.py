"""The hospital's HIS talks HL7 v2 over MLLP to the listener `ccctl serve` runs, with the hl7 library's own
MLLP client as the sender: patients and visits land in the database, ACKs say what happened, a broken message
is kept for review with nothing of it applied, a repeated control id is applied once.
"""

from __future__ import annotations

import subprocess
import time
from datetime import UTC, datetime, timedelta

import hl7
import pytest
import yaml
from click.testing import CliRunner
from hl7.client import MLLPClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from test_flow_cli import CCCTL, answers, free_port, write_config

from ccctl.cli import main
from ccctl.config import Settings, load_settings
from ccctl.patients.hl7_inbound import listener_for
from ccctl.records.database import make_engine
from ccctl.records.migrate import upgrade
from ccctl.records.models.appointments import Appointment, Department, Doctor, Hl7Message
from ccctl.records.models.audit import AuditEntry
from ccctl.records.models.patients import Patient

VISIT = (datetime.now(UTC) + timedelta(days=3)).replace(hour=9, minute=30, second=0, microsecond=0)


def msh(kind: str, control_id: str) -> str:
    return f"MSH|^~\\&|EPIC|CITY-HOSP|CCCTL|CC|20261205101500||{kind}|{control_id}|P|2.5"


def adt(event: str, control_id: str, family: str, phones: str, language: str = "") -> str:
    pid = f"PID|1||MRN-4711^^^CITY-HOSP^MR||{family}^Anna||19800101|F|||||{phones}||{language}"
    return "\r".join([msh(f"ADT^{event}^ADT_A01", control_id), "EVN|A04|20261205101500", pid])


def siu(event: str, control_id: str, *, doctor: str = "D-77^Kowalski^Jan", mrn: str = "MRN-4711") -> str:
    start = VISIT.strftime("%Y%m%d%H%M%S+0000")
    return "\r".join(
        [
            msh(f"SIU^{event}^SIU_S12", control_id),
            f"SCH|P-1|F-9001|||||ROUTINE||20|MIN|^^20^{start}",
            f"PID|1||{mrn}^^^CITY-HOSP^MR||Nowak-Lis^Anna",
            "RGS|1",
            "AIL|1||CARD^^^^^^^^Cardiology",
            f"AIP|1||{doctor}",
        ]
    )


def ack_of(client: MLLPClient, text: str) -> hl7.Message:
    reply = client.send_message(text)
    return hl7.parse(reply.strip(b"\x0b\x1c\r").decode())


@pytest.fixture
def his(db_url, tmp_path):
    """The listener on a free port of loopback, and the HIS's MLLP client connected to it."""
    settings = Settings()
    settings.database.url = db_url
    settings.hl7.listen, settings.hl7.listen_host, settings.hl7.listen_port = True, "127.0.0.1", 0
    listener = listener_for(settings)
    listener.start()
    client = MLLPClient(*listener.address)
    config = tmp_path / "ccctl.yaml"
    config.write_text(f"database:\n  url: {db_url}\n")
    try:
        yield client, make_engine(db_url), str(config)
    finally:
        client.close()
        listener.stop()


def test_adt_then_siu_from_the_his_register_update_book_and_cancel_with_acks(his):
    client, engine, config = his
    registered = ack_of(client, adt("A04", "C-1", "Nowak", "+48 600 100 200^PRN^CP", "pol"))
    updated = ack_of(client, adt("A08", "C-2", "Nowak-Lis", "^WPN^PH^^48^22^5556677"))
    booked = ack_of(client, siu("S12", "C-3"))
    cancelled = ack_of(client, siu("S15", "C-4"))

    assert [str(a.segment("MSA")(1)) for a in (registered, updated, booked, cancelled)] == ["AA"] * 4
    assert [str(a.segment("MSA")(2)) for a in (registered, updated, booked, cancelled)] == ["C-1", "C-2", "C-3", "C-4"]
    with Session(engine) as session:
        patients = session.scalars(select(Patient).where(Patient.hospital_id == "MRN-4711")).all()
        assert len(patients) == 1
        patient = patients[0]
        assert (patient.given_name, patient.family_name, patient.language) == ("Anna", "Nowak-Lis", "pl")
        assert sorted((p.number, p.kind) for p in patient.phones) == [
            ("+48225556677", "work"),
            ("+48600100200", "mobile"),
        ]
        visit = session.scalars(select(Appointment).where(Appointment.external_id == "F-9001")).one()
        assert (visit.patient_id, visit.status, visit.source, visit.held_slot_id) == (
            patient.id,
            "cancelled",
            "hl7",
            None,
        )
        assert visit.slot.starts_at == VISIT and visit.slot.minutes == 20
        assert session.scalars(select(Department.name).where(Department.code == "CARD")).one() == "Cardiology"
        assert session.scalars(select(Doctor.name).where(Doctor.code == "D-77")).one() == "Jan Kowalski"
        statuses = session.scalars(select(Hl7Message.status).order_by(Hl7Message.id)).all()
        assert statuses == ["applied"] * 4
        audit = session.scalars(select(AuditEntry.action).where(AuditEntry.patient_id == patient.id)).all()
        assert audit[:2] == ["hl7 add", "hl7 update"]


def test_a_broken_message_is_answered_ae_kept_rejected_and_nothing_of_it_applied(his):
    client, engine, config = his
    # a new patient and a visit without its doctor: the patient must not be created either
    broken = ack_of(client, siu("S12", "C-10", doctor="", mrn="MRN-0999"))
    garbage = client.send_message("this is not HL7")

    assert str(broken.segment("MSA")(1)) == "AE"
    assert str(broken.segment("MSA")(3)) == "AIP-3: required field missing (doctor identifier)"
    assert str(broken.segment("ERR")(2)) == "AIP^1^3"
    assert b"MSA|AE||MSH: the message does not start with an MSH segment" in garbage
    with Session(engine) as session:
        assert session.scalars(select(Patient).where(Patient.hospital_id == "MRN-0999")).first() is None
        assert session.scalars(select(Department)).first() is None
        rows = session.scalars(select(Hl7Message).order_by(Hl7Message.id)).all()
        assert [(r.control_id, r.status) for r in rows] == [("C-10", "rejected"), ("", "rejected")]
        assert rows[0].raw.startswith("MSH|") and "MRN-0999" not in rows[0].error

    listed = CliRunner().invoke(main, ["--config", config, "hl7", "list", "--status", "rejected"])
    assert listed.exit_code == 0, listed.output
    assert "SIU^S12  C-10" in listed.output and "AIP-3: required field missing" in listed.output
    assert "MRN-0999" not in listed.output and "Nowak" not in listed.output


def test_a_repeated_control_id_is_acked_again_and_applied_once(his):
    client, engine, config = his
    first = ack_of(client, adt("A04", "C-20", "Nowak", "+48600100200"))
    again = ack_of(client, adt("A08", "C-20", "Changed", "+48600999999"))

    assert [str(a.segment("MSA")(1)) for a in (first, again)] == ["AA", "AA"]
    with Session(engine) as session:
        patient = session.scalars(select(Patient).where(Patient.hospital_id == "MRN-4711")).one()
        assert patient.family_name == "Nowak" and [p.number for p in patient.phones] == ["+48600100200"]
        statuses = session.scalars(select(Hl7Message.status).order_by(Hl7Message.id)).all()
        assert statuses == ["applied", "duplicate"]


def test_ccctl_serve_listens_when_hl7_listen_is_set_and_hl7_send_gets_the_ack(tmp_path):
    config = write_config(tmp_path)
    settings = yaml.safe_load(config.read_text())
    port = free_port()
    settings["hl7"].update(listen=True, listen_host="127.0.0.1", listen_port=port)
    config.write_text(yaml.safe_dump(settings))
    upgrade(f"sqlite:///{tmp_path / 'ccctl.db'}")
    message = tmp_path / "a04.hl7"
    message.write_text(adt("A04", "C-30", "Nowak", "+48600100200").replace("\r", "\n"))
    log = (tmp_path / "serve.log").open("w")
    process = subprocess.Popen([CCCTL, "--config", str(config), "serve"], cwd=tmp_path, stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 30
        while not answers(load_settings(config)):
            assert process.poll() is None, (tmp_path / "serve.log").read_text()
            assert time.monotonic() < deadline, "ccctl serve did not answer its status API within 30 s"
            time.sleep(0.05)
        sent = CliRunner().invoke(
            main, ["--config", str(config), "hl7", "send", str(message), "--to", f"127.0.0.1:{port}"]
        )
        listed = CliRunner().invoke(main, ["--config", str(config), "hl7", "list"])
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()
    assert (sent.exit_code, sent.output) == (0, "acknowledged: AA\n")
    assert "ADT^A04  C-30        applied" in listed.output
    assert "HL7 (MLLP) listening on 127.0.0.1" in (tmp_path / "serve.log").read_text()
