"""A visit booked and then cancelled by an agent reaches the hospital as SIU S12 then S15, over MLLP to a
small HIS in the test that first hangs up, then refuses (AE), then accepts (AA): the S12 is sent again
until acknowledged, and the S15 waits behind it so the HIS sees the changes in order.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import hl7
import pytest
from click.testing import CliRunner
from gevent.server import StreamServer
from sqlalchemy import select
from sqlalchemy.orm import Session

from ccctl.appointments import store
from ccctl.appointments.notify import notify_change
from ccctl.cli import main
from ccctl.config import Settings
from ccctl.patients.hl7_listener import FrameReader, frame
from ccctl.patients.hl7_outbound import send_due
from ccctl.records.database import make_engine
from ccctl.records.models.appointments import Department, Doctor, Hl7Message, Slot
from ccctl.records.models.patients import Patient, PatientPhone

VISIT = (datetime.now(UTC) + timedelta(days=2)).replace(hour=10, minute=0, second=0, microsecond=0)


class FussyHis:
    """Answers the first message by hanging up, the second with AE, every later one with AA."""

    def __init__(self) -> None:
        self.received: list[hl7.Message] = []
        self.server = StreamServer(("127.0.0.1", 0), self._connection)
        self.server.start()

    def _connection(self, sock, _address) -> None:
        reader = FrameReader(1_000_000)
        with sock:
            while not (bodies := reader.feed(sock.recv(65536))):
                pass
            message = hl7.parse(bodies[0].decode())
            self.received.append(message)
            if len(self.received) == 1:
                return  # hung up without an ACK
            code = "AE" if len(self.received) == 2 else "AA"
            control_id = str(message.segment("MSH")(10))
            sock.sendall(
                frame(
                    f"MSH|^~\\&|EPIC|CITY-HOSP|CCCTL|CC|20261205||ACK^S12^ACK|A{len(self.received)}|P|2.5\r"
                    f"MSA|{code}|{control_id}|busy"
                )
            )

    @property
    def port(self) -> int:
        return self.server.socket.getsockname()[1]


@pytest.fixture
def his():
    server = FussyHis()
    yield server
    server.server.stop()


def test_an_agents_booking_and_cancellation_reach_the_his_in_order_retried_until_acked(db_url, his, tmp_path):
    settings = Settings()
    settings.database.url = db_url
    settings.hl7.outbound_host, settings.hl7.outbound_port = "127.0.0.1", his.port
    settings.appointments.confirm_by = []
    engine = make_engine(db_url)
    with Session(engine) as session, session.begin():
        patient = Patient(patient_code="P-7", given_name="Anna", family_name="Nowak", hospital_id="MRN-4711")
        patient.phones.append(PatientPhone(number="+48600100200"))
        department = Department(code="CARD", name="Cardiology", names={})
        doctor = Doctor(code="D-77", name="Jan Kowalski", department=department)
        slot = Slot(doctor=doctor, department=department, starts_at=VISIT, minutes=15)
        session.add_all([patient, slot])
        session.flush()
        booked = store.book(session, patient.id, slot.id, source="agent", booked_by="alice")
        notify_change(session, booked, "booked", settings)
    with Session(engine) as session, session.begin():
        cancelled = store.cancel(session, booked.id, by="alice")
        notify_change(session, cancelled, "cancelled", settings)

    later = datetime.now(UTC)
    for _ in range(4):
        later += timedelta(hours=1)  # past any back-off
        send_due(engine, settings.hl7, now=later)

    kinds = [str(m.segment("MSH")(9)) for m in his.received]
    assert kinds == ["SIU^S12^SIU_S12"] * 3 + ["SIU^S15^SIU_S12"]
    first = his.received[0]
    assert len({str(m.segment("MSH")(10)) for m in his.received[:3]}) == 1  # the same message, sent again
    assert str(first.segment("SCH")(1)) == f"CC{booked.id}"
    assert str(first.segment("SCH")(11)(1)(4)) == VISIT.strftime("%Y%m%d%H%M%S+0000")
    assert str(first.segment("PID")(3)(1)(1)) == "MRN-4711"
    assert str(first.segment("AIL")(3)(1)(1)) == "CARD" and str(first.segment("AIP")(3)(1)(1)) == "D-77"
    assert str(his.received[3].segment("SCH")(25)) == "Cancelled"
    with Session(engine) as session:
        rows = session.scalars(select(Hl7Message).order_by(Hl7Message.id)).all()
        assert [(r.direction, r.message_type, r.status, r.attempts) for r in rows] == [
            ("out", "SIU^S12", "acked", 3),
            ("out", "SIU^S15", "acked", 1),
        ]

    config = tmp_path / "ccctl.yaml"
    config.write_text(f"database:\n  url: {db_url}\n")
    listed = CliRunner().invoke(main, ["--config", str(config), "hl7", "list", "--direction", "out"])
    assert listed.exit_code == 0, listed.output
    assert listed.output.count("acked") == 2 and "Nowak" not in listed.output


def test_a_booking_that_came_from_the_his_is_not_sent_back(db_url, his):
    settings = Settings()
    settings.database.url = db_url
    settings.hl7.outbound_host, settings.hl7.outbound_port = "127.0.0.1", his.port
    settings.appointments.confirm_by = []
    engine = make_engine(db_url)
    with Session(engine) as session, session.begin():
        patient = Patient(patient_code="P-8", given_name="Jan", family_name="Lis", hospital_id="MRN-1")
        department = Department(code="CARD", name="Cardiology", names={})
        slot = Slot(
            doctor=Doctor(code="D-1", name="Dr A", department=department),
            department=department,
            starts_at=VISIT,
            minutes=15,
        )
        session.add_all([patient, slot])
        session.flush()
        booked = store.book(session, patient.id, slot.id, source="hl7", booked_by="hl7:CITY-HOSP", external_id="F-1")
        notify_change(session, booked, "booked", settings)
    assert send_due(engine, settings.hl7) == []
    assert his.received == []
