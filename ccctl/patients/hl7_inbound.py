"""What an HL7 message from the hospital does here: ADT registers or updates a patient, SIU books, moves,
changes, cancels or marks a visit missed; every message is kept in hl7_messages and answered with an ACK.

A message is applied in one transaction with its `applied` row, or not at all: on any fault the
transaction is rolled back and the message is kept `rejected` (with the field at fault) in a second
one. A control id already applied is answered AA again and applied no second time.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, tzinfo
from zoneinfo import ZoneInfo

import hl7
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from ccctl.appointments import store as appointments
from ccctl.appointments.errors import AppointmentError, SlotNotBookable, SlotTaken
from ccctl.config import Settings
from ccctl.patients.hl7_listener import Hl7Listener
from ccctl.patients.hl7_message import (
    APPLICATION_INTERNAL_ERROR,
    DATA_TYPE_ERROR,
    REQUIRED_FIELD_MISSING,
    SEGMENT_SEQUENCE_ERROR,
    UNKNOWN_KEY_IDENTIFIER,
    UNSUPPORTED_EVENT_CODE,
    UNSUPPORTED_MESSAGE_TYPE,
    Header,
    Hl7Reject,
    build_ack,
    crude_header,
    has_segment,
    parse,
    parse_timestamp,
    read_header,
    repetitions,
    value,
)
from ccctl.patients.repository import (
    LANGUAGE,
    NAME_LENGTH,
    PatientData,
    PatientError,
    add_patient,
    check_phone,
    describe_changes,
    update_patient,
)
from ccctl.records.audit import record_audit
from ccctl.records.database import make_engine
from ccctl.records.models.appointments import ACTIVE_STATUSES, Appointment, Hl7Message, Slot
from ccctl.records.models.base import utc_now
from ccctl.records.models.patients import Patient

log = logging.getLogger("ccctl.hl7")

ADT_EVENTS = ("A04", "A08", "A28", "A31")
SIU_EVENTS = ("S12", "S13", "S14", "S15", "S26")
DEFAULT_SLOT_MINUTES = 15
IDENTIFIER_LENGTH = 64
# ISO 639-2 codes some systems send in PID-15, as the prompt languages' ISO 639-1 codes
LANGUAGE_CODES = {
    "eng": "en",
    "chi": "zh",
    "zho": "zh",
    "pol": "pl",
    "ger": "de",
    "deu": "de",
    "fre": "fr",
    "fra": "fr",
}
# XTN-2 use codes that say more than the field does (PID-13 is home, PID-14 work; XTN-3 CP is a mobile)
USE_KINDS = {"WPN": "work", "PRN": "home", "ORN": "home", "VHN": "home"}
# XTN-3 equipment types that are not a phone
NOT_PHONES = ("internet", "x.400")


@dataclass(frozen=True)
class Receipt:
    """What became of one message: its row, the ACK code, the ACK text."""

    message_id: int | None
    code: str  # AA, AE, AR
    ack: str
    error: str = ""


def receive(engine: Engine, raw: str, peer: str, settings: Settings) -> Receipt:
    """Apply one message (text as received) and return what became of it, its ACK included."""
    ours = (settings.hl7.sending_application, settings.hl7.sending_facility)
    zone = ZoneInfo(settings.appointments.timezone)
    try:
        message = parse(raw)
        header = read_header(message)
    except Hl7Reject as reject:
        return _reject(engine, raw, peer, crude_header(raw), reject, ours)
    try:
        with Session(engine) as session, session.begin():
            earlier = _applied_id(session, header.control_id)
            if earlier is not None:
                row = _keep(session, raw, peer, header, "duplicate", f"control id already applied as message {earlier}")
                return Receipt(row.id, "AA", build_ack(header, "AA", ours))
            apply_message(session, message, header, zone)
            row = _keep(session, raw, peer, header, "applied")
            return Receipt(row.id, "AA", build_ack(header, "AA", ours))
    except (Hl7Reject, PatientError, AppointmentError) as exc:
        return _reject(engine, raw, peer, header, as_reject(exc), ours)
    except SQLAlchemyError as exc:
        log.error(
            "HL7 %s %s not applied: database error %s", header.message_type, header.control_id, type(exc).__name__
        )
        reject = Hl7Reject("MSH", 0, APPLICATION_INTERNAL_ERROR, "database error, send again later")
        return _reject(engine, raw, peer, header, reject, ours, code="AR")


def listener_for(settings: Settings) -> Hl7Listener:
    """The MLLP listener of `ccctl serve` (hl7.listen_host/listen_port), applying what it receives."""
    engine = make_engine(settings.database.url)

    def handle(text: str, peer: str) -> str:
        return receive(engine, text, peer, settings).ack

    hl7 = settings.hl7
    return Hl7Listener(hl7.listen_host, hl7.listen_port, handle, hl7.max_message_bytes)


def start_listener(settings: Settings) -> Hl7Listener | None:
    """Start the listener when hl7.listen is true; MllpError when its port cannot be had."""
    if not settings.hl7.listen:
        return None
    listener = listener_for(settings)
    listener.start()
    return listener


def as_reject(exc: Exception) -> Hl7Reject:
    """A refusal from the patients or appointments side, located in the message."""
    if isinstance(exc, Hl7Reject):
        return exc
    if isinstance(exc, PatientError):
        return Hl7Reject("PID", 0, DATA_TYPE_ERROR, str(exc))
    if isinstance(exc, SlotNotBookable):
        return Hl7Reject("SCH", 11, APPLICATION_INTERNAL_ERROR, str(exc))
    if isinstance(exc, SlotTaken):
        return Hl7Reject("SCH", 11, APPLICATION_INTERNAL_ERROR, f"{exc} (the slot is held by another appointment)")
    return Hl7Reject("SCH", 2, APPLICATION_INTERNAL_ERROR, str(exc))


def _reject(
    engine: Engine, raw: str, peer: str, header: Header, reject: Hl7Reject, ours: tuple[str, str], code: str = "AE"
) -> Receipt:
    log.warning("HL7 %s %s rejected: %s", header.message_type or "message", header.control_id or "-", reject)
    try:
        with Session(engine) as session, session.begin():
            row_id = _keep(session, raw, peer, header, "rejected", str(reject)).id
    except SQLAlchemyError as exc:
        log.error("HL7 rejected message not kept: database error %s", type(exc).__name__)
        row_id = None
    return Receipt(row_id, code, build_ack(header, code, ours, reject), str(reject))


def _applied_id(session: Session, control_id: str) -> int | None:
    query = select(Hl7Message.id).where(
        Hl7Message.direction == "in",
        Hl7Message.control_id == control_id,
        Hl7Message.status == "applied",
    )
    return session.scalars(query.limit(1)).first()


def _keep(session: Session, raw: str, peer: str, header: Header, status: str, error: str = "") -> Hl7Message:
    row = Hl7Message(
        direction="in",
        control_id=header.control_id[:64],
        message_type=header.message_type[:16],
        status=status,
        error=error[:512],
        raw=raw,
        peer=peer[:128],
        attempts=1,
        done_at=utc_now(),
    )
    session.add(row)
    session.flush()
    return row


# -- applying -------------------------------------------------------------------------------------------


def apply_message(session: Session, message: hl7.Message, header: Header, zone: tzinfo) -> None:
    """Apply an ADT or SIU message in the session's transaction; Hl7Reject names what is wrong."""
    handlers: dict[str, tuple[tuple[str, ...], Callable]] = {
        "ADT": (ADT_EVENTS, apply_adt),
        "SIU": (SIU_EVENTS, apply_siu),
    }
    if header.message_code not in handlers:
        raise Hl7Reject("MSH", 9, UNSUPPORTED_MESSAGE_TYPE, f"message type {header.message_code[:8]} is not taken here")
    events, handler = handlers[header.message_code]
    if header.trigger not in events:
        raise Hl7Reject("MSH", 9, UNSUPPORTED_EVENT_CODE, f"event {header.trigger[:8]} is not taken here")
    handler(session, message, header, zone)


def apply_adt(session: Session, message: hl7.Message, header: Header, zone: tzinfo) -> None:
    """Register or update the patient PID-3 names (the same for every ADT event taken)."""
    upsert_patient(session, message, header)


@dataclass(frozen=True)
class PatientFields:
    hospital_id: str
    family_name: str
    given_name: str
    phones: list[tuple[str, str]]  # (normalised number, kind)
    language: str


def read_patient(message: hl7.Message) -> PatientFields:
    """PID-3 (the MR identifier, else the first), PID-5, PID-13/14 and PID-15, checked."""
    if not has_segment(message, "PID"):
        raise Hl7Reject("PID", 0, SEGMENT_SEQUENCE_ERROR, "segment missing")
    identifiers = repetitions(message, "PID", 3)
    chosen = next((rep for rep in identifiers if len(rep) > 4 and rep[4].upper() == "MR"), None)
    hospital_id = (chosen or (identifiers[0] if identifiers else [""]))[0]
    if not hospital_id:
        raise Hl7Reject("PID", 3, REQUIRED_FIELD_MISSING, "required field missing (patient identifier)")
    if len(hospital_id) > IDENTIFIER_LENGTH:
        raise Hl7Reject("PID", 3, DATA_TYPE_ERROR, f"identifier longer than {IDENTIFIER_LENGTH} characters")
    family, given = value(message, "PID", 5, 1), value(message, "PID", 5, 2)
    if len(family) > NAME_LENGTH or len(given) > NAME_LENGTH:
        raise Hl7Reject("PID", 5, DATA_TYPE_ERROR, f"name longer than {NAME_LENGTH} characters")
    phones = _phones(message, 13, "home") + _phones(message, 14, "work")
    language = value(message, "PID", 15).lower()
    language = LANGUAGE_CODES.get(language, language)
    if language and not LANGUAGE.fullmatch(language):
        raise Hl7Reject("PID", 15, DATA_TYPE_ERROR, "not a language code")
    return PatientFields(hospital_id, family, given, phones, language)


def _phones(message: hl7.Message, field: int, kind: str) -> list[tuple[str, str]]:
    """The phones of PID-13 or PID-14: XTN-1, else +country area local (XTN-5/6/7); e-mail entries skipped."""
    found = []
    for rep in repetitions(message, "PID", field):
        parts = rep + [""] * (7 - len(rep))
        if parts[2].lower() in NOT_PHONES:
            continue
        number = parts[0] or "".join(parts[4:7])
        if parts[0] == "" and parts[4]:
            number = "+" + number
        if not number:
            continue
        try:
            normalised = check_phone(number)
        except PatientError:
            raise Hl7Reject("PID", field, DATA_TYPE_ERROR, "not a phone number") from None
        found.append((normalised, "mobile" if parts[2].upper() == "CP" else USE_KINDS.get(parts[1].upper(), kind)))
    return found


def upsert_patient(session: Session, message: hl7.Message, header: Header) -> Patient:
    """The patient with PID-3's hospital id, created or updated; what the message leaves empty is kept."""
    fields = read_patient(message)
    patient = session.scalars(select(Patient).where(Patient.hospital_id == fields.hospital_id)).first()
    numbers = [number for number, _ in fields.phones]
    if patient is None:
        if not (fields.family_name or fields.given_name or numbers):
            raise Hl7Reject("PID", 5, REQUIRED_FIELD_MISSING, "a new patient needs a name or a phone")
        data = PatientData(fields.given_name, fields.family_name, numbers, language=fields.language)
        patient = add_patient(session, data, {})
        patient.hospital_id = fields.hospital_id
        action, detail = "hl7 add", "added"
    else:
        changes: dict = {}
        if fields.given_name:
            changes["given_name"] = fields.given_name
        if fields.family_name:
            changes["family_name"] = fields.family_name
        if fields.language:
            changes["language"] = fields.language
        known = [phone.number for phone in patient.phones]
        if any(number not in known for number in numbers):
            changes["phones"] = known + [number for number in numbers if number not in known]
        action, detail = "hl7 update", describe_changes(update_patient(session, patient.patient_code, changes, {}))
    kinds = dict(fields.phones)
    for phone in patient.phones:
        phone.kind = kinds.get(phone.number, phone.kind)
    session.flush()
    where = f"{header.message_type} {header.control_id}"
    record_audit(session, f"hl7:{header.sender}", action, patient.id, "hl7", detail=f"{where}: {detail}"[:500])
    return patient


def apply_siu(session: Session, message: hl7.Message, header: Header, zone: tzinfo) -> None:
    """Book (S12), move or change (S13, S14), cancel (S15) or mark missed (S26) the visit SCH-2 names."""
    if not has_segment(message, "SCH"):
        raise Hl7Reject("SCH", 0, SEGMENT_SEQUENCE_ERROR, "segment missing")
    external_id = value(message, "SCH", 2) or value(message, "SCH", 1)
    if not external_id:
        raise Hl7Reject("SCH", 2, REQUIRED_FIELD_MISSING, "required field missing (filler appointment id)")
    if len(external_id) > IDENTIFIER_LENGTH:
        raise Hl7Reject("SCH", 2, DATA_TYPE_ERROR, f"identifier longer than {IDENTIFIER_LENGTH} characters")
    existing = session.scalars(select(Appointment).where(Appointment.external_id == external_id)).first()
    if header.trigger in ("S15", "S26"):
        if existing is None:
            raise Hl7Reject("SCH", 2, UNKNOWN_KEY_IDENTIFIER, "no appointment with this filler id")
        if existing.status in ACTIVE_STATUSES:
            if header.trigger == "S15":
                appointments.cancel(session, existing.id, by=f"hl7:{header.sender}", reason="cancelled by the hospital")
            else:
                appointments.mark_no_show(session, existing.id, by=f"hl7:{header.sender}")
        return
    patient = upsert_patient(session, message, header)
    slot = ensure_slot(session, message, zone)
    if existing is None:
        appointments.book(
            session, patient.id, slot.id, source="hl7", booked_by=f"hl7:{header.sender}", external_id=external_id
        )
        return
    if existing.patient_id != patient.id:
        raise Hl7Reject("PID", 3, UNKNOWN_KEY_IDENTIFIER, "the appointment belongs to another patient identifier")
    if existing.status not in ACTIVE_STATUSES:
        raise Hl7Reject("SCH", 2, APPLICATION_INTERNAL_ERROR, f"the appointment is {existing.status} here")
    if existing.slot_id != slot.id:
        appointments.move(session, existing.id, slot.id, source="hl7", by=f"hl7:{header.sender}")


def ensure_slot(session: Session, message: hl7.Message, zone: tzinfo) -> Slot:
    """The slot of AIP-3's doctor at the visit's start, with AIL-3's department and doctor made when unknown."""
    department_code = value(message, "AIL", 3, 1) or value(message, "AIL", 3, 4)
    if not department_code:
        raise Hl7Reject("AIL", 3, REQUIRED_FIELD_MISSING, "required field missing (department)")
    doctor_code = value(message, "AIP", 3, 1)
    if not doctor_code:
        raise Hl7Reject("AIP", 3, REQUIRED_FIELD_MISSING, "required field missing (doctor identifier)")
    if len(department_code) > 32 or len(doctor_code) > 32:
        raise Hl7Reject("AIL" if len(department_code) > 32 else "AIP", 3, DATA_TYPE_ERROR, "code longer than 32")
    starts_at, minutes = _timing(message, zone)
    return appointments.ensure_slot(
        session,
        doctor_code=doctor_code,
        doctor_name=" ".join(part for part in (value(message, "AIP", 3, 3), value(message, "AIP", 3, 2)) if part),
        starts_at=starts_at,
        minutes=minutes,
        department_code=department_code,
        department_name=value(message, "AIL", 3, 9) or value(message, "AIL", 4, 2),
    )


def _timing(message: hl7.Message, zone: tzinfo) -> tuple[datetime, int]:
    """The visit's start (SCH-11.4, else TQ1-7, AIS-4, AIL-6, AIP-6) and minutes (SCH-9/10, else AIS/AIL/AIP)."""
    for segment, field, component in (("SCH", 11, 4), ("TQ1", 7, 1), ("AIS", 4, 1), ("AIL", 6, 1), ("AIP", 6, 1)):
        text = value(message, segment, field, component)
        if text:
            starts_at = parse_timestamp(text, segment, field, zone)
            break
    else:
        raise Hl7Reject("SCH", 11, REQUIRED_FIELD_MISSING, "required field missing (start time)")
    for segment, field, units_field in (("SCH", 9, 10), ("AIS", 7, 8), ("AIL", 9, 10), ("AIP", 9, 10)):
        text = value(message, segment, field)
        if text:
            units = value(message, segment, units_field).upper()
            try:
                amount = float(text)
            except ValueError:
                raise Hl7Reject(segment, field, DATA_TYPE_ERROR, "not a number") from None
            minutes = round(amount * (60 if units in ("H", "HR", "HOUR", "HOURS") else 1))
            if not 1 <= minutes <= 24 * 60:
                raise Hl7Reject(segment, field, DATA_TYPE_ERROR, "duration out of range (1 minute to 24 hours)")
            return starts_at, minutes
    return starts_at, DEFAULT_SLOT_MINUTES
