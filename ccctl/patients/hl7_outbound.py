"""SIU messages to the hospital for visits booked, moved, confirmed or cancelled here (by phone, an agent,
a campaign), queued in hl7_messages in the change's own transaction and sent over MLLP until ACKed.

`queue_change` is the hook the appointments side calls after a change; `send_due` is one run of the
sender job: oldest first, stopping at the first message not acknowledged, so the HIS sees a visit's
changes in the order they happened. A refused or unanswered message waits retry_seconds, doubling.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

import gevent
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from ccctl.appointments.model import AppointmentView
from ccctl.config import Hl7Settings, Settings
from ccctl.patients.hl7_listener import MllpError, send_message
from ccctl.patients.hl7_message import (
    SEGMENT_SEPARATOR,
    escape,
    format_timestamp,
    new_control_id,
    parse,
    value,
)
from ccctl.records.database import make_engine
from ccctl.records.models.appointments import Appointment, Hl7Message
from ccctl.records.models.base import utc_now
from ccctl.records.models.patients import Patient

log = logging.getLogger("ccctl.hl7")

TRIGGERS = {"booked": "S12", "moved": "S13", "confirmed": "S14", "cancelled": "S15"}
FILLER_STATUS = {"booked": "Booked", "moved": "Booked", "confirmed": "Booked", "cancelled": "Cancelled"}
# a booking or move that came from the hospital's own systems is never sent back to them
INBOUND_SOURCES = ("hl7", "fhir")
PLACER_PREFIX = "CC"
ACCEPTED = ("AA", "CA")
SEND_CHECK_SECONDS = 5.0


def queue_change(session: Session, appointment: AppointmentView, change: str, hl7: Hl7Settings) -> int | None:
    """Queue the SIU telling the HIS of `change` (booked, moved, confirmed, cancelled); the row's id, or None
    when no HIS is configured or the change came from it."""
    if not hl7.outbound_host or change not in TRIGGERS:
        return None
    if appointment.source in INBOUND_SOURCES and change in ("booked", "moved"):
        return None
    if session.get(Patient, appointment.patient_id) is None:
        return None
    row = Hl7Message(
        direction="out",
        control_id="",
        message_type=f"SIU^{TRIGGERS[change]}",
        status="pending",
        raw="",
        peer=f"{hl7.outbound_host}:{hl7.outbound_port}",
        attempts=0,
        next_attempt_at=utc_now(),
    )
    control_id = new_control_id(PLACER_PREFIX)
    row.control_id = control_id
    row.raw = build_siu(session, appointment, change, hl7, control_id)
    session.add(row)
    session.flush()
    return row.id


def placer_id(session: Session, appointment_id: int) -> str:
    """Our identifier of a visit, the same across moves: the first appointment of its chain."""
    current = appointment_id
    for _ in range(100):  # a chain of moves is short; never loop on a bad row
        previous = session.scalar(select(Appointment.moved_from_id).where(Appointment.id == current))
        if previous is None:
            break
        current = previous
    return f"{PLACER_PREFIX}{current}"


def build_siu(session: Session, appointment: AppointmentView, change: str, hl7: Hl7Settings, control_id: str) -> str:
    """The SIU text: MSH, SCH (placer id, filler id, timing, status), PID, AIL (department), AIP (doctor)."""
    trigger = TRIGGERS[change]
    slot = appointment.slot
    patient = session.get(Patient, appointment.patient_id)
    msh = [
        "MSH",
        "^~\\&",
        escape(hl7.sending_application),
        escape(hl7.sending_facility),
        escape(hl7.receiving_application),
        escape(hl7.receiving_facility),
        format_timestamp(utc_now()),
        "",
        f"SIU^{trigger}^SIU_S12",
        control_id,
        "P",
        "2.5",
    ]
    sch = [""] * 26
    sch[0] = "SCH"
    sch[1] = placer_id(session, appointment.id)
    sch[2] = escape(appointment.external_id or "")
    sch[9], sch[10] = str(slot.minutes), "MIN"
    sch[11] = f"^^{slot.minutes}^{format_timestamp(slot.starts_at)}"
    sch[25] = FILLER_STATUS[change]
    identifiers = [f"{escape(patient.patient_code)}^^^{escape(hl7.sending_facility)}^PI"]
    if patient.hospital_id:
        identifiers.insert(0, f"{escape(patient.hospital_id)}^^^^MR")
    phone = patient.phones[0].number if patient.phones else ""
    name = f"{escape(patient.family_name)}^{escape(patient.given_name)}"
    pid = ["PID", "1", "", "~".join(identifiers), "", name, "", "", "", "", "", "", "", escape(phone)]
    ail = ["AIL", "1", "", f"{escape(slot.department_code)}^^^^^^^^{escape(slot.department_name)}"]
    aip = ["AIP", "1", "", f"{escape(slot.doctor_code)}^{escape(slot.doctor_name)}"]
    return SEGMENT_SEPARATOR.join("|".join(segment) for segment in (msh, sch, pid, ail, aip))


@dataclass(frozen=True)
class SendResult:
    message_id: int
    acked: bool
    detail: str  # the ACK code, or why there was none


def due_messages(session: Session, now: datetime, limit: int = 20) -> list[tuple[int, str, int]]:
    """(id, text, attempts) of the pending outbound messages whose time has come, oldest first."""
    query = (
        select(Hl7Message.id, Hl7Message.raw, Hl7Message.attempts, Hl7Message.next_attempt_at)
        .where(Hl7Message.direction == "out", Hl7Message.status == "pending")
        .order_by(Hl7Message.id)
        .limit(limit)
    )
    rows = session.execute(query).all()
    return [
        (row.id, row.raw, row.attempts) for row in rows if row.next_attempt_at is None or row.next_attempt_at <= now
    ]


def send_one(text: str, hl7: Hl7Settings, host: str | None = None, port: int | None = None) -> tuple[bool, str]:
    """Send one message and read its ACK: (accepted, the ACK code and MSA-3 text, or why there was none)."""
    try:
        reply = send_message(
            host or hl7.outbound_host, port or hl7.outbound_port, text, hl7.send_timeout_seconds, hl7.max_message_bytes
        )
    except MllpError as exc:
        return False, str(exc)
    try:
        ack = parse(reply)
    except Exception:  # any unreadable answer is a NAK: the message is tried again
        return False, "the answer is not an HL7 message"
    code = value(ack, "MSA", 1).upper()
    text_part = value(ack, "MSA", 3)
    return code in ACCEPTED, f"{code or 'no MSA-1'} {text_part}".strip()


def record_result(session: Session, message_id: int, acked: bool, detail: str, hl7: Hl7Settings) -> None:
    """An ACK marks the message acked; anything else counts an attempt and sets the next one, backing off."""
    row = session.get(Hl7Message, message_id)
    if row is None:
        return
    row.attempts += 1
    row.error = "" if acked else detail[:512]
    if acked:
        row.status, row.done_at, row.next_attempt_at = "acked", utc_now(), None
        return
    wait = min(hl7.retry_seconds * 2 ** max(row.attempts - 1, 0), hl7.retry_max_seconds)
    row.status = "pending"
    row.next_attempt_at = utc_now() + timedelta(seconds=wait)


def send_due(engine: Engine, hl7: Hl7Settings, now: datetime | None = None, in_db=None) -> list[SendResult]:
    """Send what is due, oldest first, stopping at the first not acknowledged (its turn comes again later).

    `in_db(work, *args)` runs the database halves (serve passes gevent's threadpool); the sending stays here.
    """
    in_db = in_db or (lambda work, *args: work(*args))
    due = in_db(_due, engine, now or utc_now())
    results = []
    for message_id, text, _attempts in due:
        acked, detail = send_one(text, hl7)
        in_db(_record, engine, message_id, acked, detail, hl7)
        results.append(SendResult(message_id, acked, detail))
        if not acked:
            log.warning(
                "HL7 message %d not acknowledged; it is tried again later (ccctl hl7 show %d)", message_id, message_id
            )
            break
    return results


def _due(engine: Engine, now: datetime) -> list[tuple[int, str, int]]:
    with Session(engine) as session:
        return due_messages(session, now)


def _record(engine: Engine, message_id: int, acked: bool, detail: str, hl7: Hl7Settings) -> None:
    with Session(engine) as session, session.begin():
        record_result(session, message_id, acked, detail, hl7)


def send_forever(settings: Settings) -> None:
    """The sender job of `ccctl serve`: what is due every SEND_CHECK_SECONDS (other processes queue too)."""
    engine = make_engine(settings.database.url)
    pool = gevent.get_hub().threadpool

    def in_db(work, *args):
        return pool.apply(work, args)

    while True:
        try:
            send_due(engine, settings.hl7, in_db=in_db)
        except SQLAlchemyError as exc:  # a busy or restarting database: the messages wait in their table
            log.warning("HL7 outbound queue not read: %s", type(exc).__name__)
        gevent.sleep(SEND_CHECK_SECONDS)
