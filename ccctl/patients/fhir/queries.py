"""The reads behind the FHIR searches: search parameters parsed and checked, then SQL over our tables.

Writes never happen here: a booking or a cancellation goes through ccctl.appointments.store.
A search parameter that is wrong is a FhirError naming the parameter, never its value.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.orm import Session, selectinload
from werkzeug.datastructures import MultiDict

from ccctl.patients.fhir.outcomes import FhirError
from ccctl.patients.fhir.resources import (
    APPOINTMENT_ID_SYSTEM,
    APPOINTMENT_STATUS,
    MEMBER_NUMBER_SYSTEM,
    PATIENT_CODE_SYSTEM,
)
from ccctl.patients.repository import normalise_phone
from ccctl.records.models.appointments import ACTIVE_STATUSES, Appointment, Department, Doctor, Slot
from ccctl.records.models.calls import Call
from ccctl.records.models.channels import SmsMessage
from ccctl.records.models.inbox import InboxItem
from ccctl.records.models.patients import Patient, PatientPhone

DEFAULT_COUNT = 50
MAX_COUNT = 200
# parameters every search takes; fhirpy's first() sends _count
COMMON_PARAMETERS = ("_count", "_format")
DATE_PREFIX = re.compile(r"(eq|ne|ge|gt|le|lt|sa|eb)?(\d{4}-\d{2}-\d{2}(T[0-9:.]+(Z|[+-]\d{2}:\d{2})?)?)")
# a database id: nine digits at most stay inside PostgreSQL's integer
NUMERIC_ID = re.compile(r"[0-9]{1,9}")


def check_parameters(resource_type: str, args: MultiDict, allowed: tuple[str, ...]) -> None:
    """FhirError naming the first parameter this search does not take (a search is never silently widened)."""
    for name in args:
        if name not in allowed and name not in COMMON_PARAMETERS:
            known = ", ".join(allowed)
            raise FhirError(400, "not-supported", f"{resource_type} search: parameter '{name}' unknown (use {known})")


def count_of(args: MultiDict) -> int:
    text = args.get("_count", "")
    if not text:
        return DEFAULT_COUNT
    if not text.isdigit():
        raise FhirError(400, "invalid", "_count: must be a whole number", "_count")
    return min(int(text), MAX_COUNT)


def database_id(text: str) -> int | None:
    """The id in a URL or reference, or None when it cannot be one of ours."""
    return int(text) if NUMERIC_ID.fullmatch(text) else None


def reference_id(parameter: str, value: str, resource_type: str) -> int:
    """'Patient/12' or '12' -> 12; FhirError naming the parameter otherwise."""
    text = value.removeprefix(f"{resource_type}/")
    if not NUMERIC_ID.fullmatch(text):
        raise FhirError(400, "invalid", f"{parameter}: must be a {resource_type} reference such as {resource_type}/1")
    return int(text)


def token(value: str) -> tuple[str | None, str]:
    """'system|value' -> (system, value); a bare 'value' -> (None, value)."""
    if "|" in value:
        system, _, code = value.partition("|")
        return system, code
    return None, value


def date_condition(parameter: str, column, value: str):
    """A FHIR date search (ge2026-12-07, lt2026-12-08T12:00:00Z, 2026-12-07 = that whole UTC day) as SQL."""
    match = DATE_PREFIX.fullmatch(value)
    if match is None:
        raise FhirError(
            400, "invalid", f"{parameter}: a date or time with an optional prefix ge, gt, le, lt or eq", parameter
        )
    prefix, text = match.group(1) or "eq", match.group(2)
    try:
        if match.group(3):
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
            low = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
            high = low + timedelta(microseconds=1)
        else:
            low = datetime.combine(date.fromisoformat(text), datetime.min.time(), UTC)
            high = low + timedelta(days=1)
    except (ValueError, OverflowError):
        raise FhirError(400, "invalid", f"{parameter}: not a valid date or time", parameter) from None
    conditions = {
        "eq": and_(column >= low, column < high),
        "ne": or_(column < low, column >= high),
        "ge": column >= low,
        "sa": column >= high,
        "gt": column >= high,
        "le": column < high,
        "lt": column < low,
        "eb": column < low,
    }
    return conditions[prefix]


def find_patients(session: Session, args: MultiDict, limit: int) -> list[Patient]:
    """By identifier (system|value: the hospital's, ours, or any) or by phone; a search needs one of them."""
    if not args.get("identifier") and not args.get("phone"):
        raise FhirError(400, "required", "Patient search: give identifier or phone (the API never lists every patient)")
    query = select(Patient).options(selectinload(Patient.phones)).order_by(Patient.id).limit(limit)
    if args.get("identifier"):
        system, value = token(args["identifier"])
        columns = {PATIENT_CODE_SYSTEM: Patient.patient_code, MEMBER_NUMBER_SYSTEM: Patient.member_number}
        if system in columns:
            query = query.where(columns[system] == value)
        elif system:
            query = query.where(Patient.hospital_id == value)
        else:
            query = query.where(or_(Patient.hospital_id == value, Patient.patient_code == value))
    if args.get("phone"):
        by_phone = select(PatientPhone.patient_id).where(PatientPhone.number == normalise_phone(args["phone"]))
        query = query.where(Patient.id.in_(by_phone))
    return list(session.scalars(query))


def find_doctors(session: Session, args: MultiDict, limit: int) -> list[Doctor]:
    query = select(Doctor).order_by(Doctor.id).limit(limit)
    if args.get("identifier"):
        query = query.where(Doctor.code == token(args["identifier"])[1])
    return list(session.scalars(query))


def schedule_pairs(session: Session, args: MultiDict, limit: int) -> list[tuple[Doctor, Department]]:
    """Every (doctor, department) that has slots or is the doctor's own department."""
    with_slots = select(Slot.doctor_id, Slot.department_id).distinct()
    own = select(Doctor.id, Doctor.department_id).where(Doctor.department_id.is_not(None))
    pairs = {(row[0], row[1]) for query in (with_slots, own) for row in session.execute(query)}
    if args.get("actor"):
        doctor_id = reference_id("actor", args["actor"], "Practitioner")
        pairs = {pair for pair in pairs if pair[0] == doctor_id}
    doctors = {d.id: d for d in session.scalars(select(Doctor).where(Doctor.id.in_({p[0] for p in pairs})))}
    departments = {d.id: d for d in session.scalars(select(Department).where(Department.id.in_({p[1] for p in pairs})))}
    found = [(doctors[d], departments[p]) for d, p in sorted(pairs) if d in doctors and p in departments]
    if args.get("service-type"):
        code = token(args["service-type"])[1]
        found = [(doctor, department) for doctor, department in found if department.code == code]
    return found[:limit]


def schedule_pair(session: Session, resource_id: str) -> tuple[Doctor, Department] | None:
    doctor_text, _, department_text = resource_id.partition("-")
    if not (NUMERIC_ID.fullmatch(doctor_text) and NUMERIC_ID.fullmatch(department_text)):
        return None
    doctor, department = session.get(Doctor, int(doctor_text)), session.get(Department, int(department_text))
    return (doctor, department) if doctor is not None and department is not None else None


def held_slot_ids(session: Session, slot_ids: list[int]) -> set[int]:
    query = select(Appointment.held_slot_id).where(Appointment.held_slot_id.in_(slot_ids))
    return set(session.scalars(query))


def find_slots(session: Session, args: MultiDict, limit: int) -> list[Slot]:
    """By schedule, start (repeatable: start=ge...&start=lt...), status (free, busy, busy-unavailable), service-type."""
    query = select(Slot).options(selectinload(Slot.department)).order_by(Slot.starts_at, Slot.id).limit(limit)
    if args.get("schedule"):
        text = args["schedule"].removeprefix("Schedule/")
        doctor_text, _, department_text = text.partition("-")
        if not (NUMERIC_ID.fullmatch(doctor_text) and NUMERIC_ID.fullmatch(department_text)):
            raise FhirError(400, "invalid", "schedule: must be a Schedule reference such as Schedule/3-1", "schedule")
        query = query.where(Slot.doctor_id == int(doctor_text), Slot.department_id == int(department_text))
    for value in args.getlist("start"):
        query = query.where(date_condition("start", Slot.starts_at, value))
    if args.get("service-type"):
        code = token(args["service-type"])[1]
        query = query.where(Slot.department_id.in_(select(Department.id).where(Department.code == code)))
    held = select(Appointment.id).where(Appointment.held_slot_id == Slot.id).exists()
    status = args.get("status")
    if status == "free":
        query = query.where(Slot.blocked.is_(False), ~held)
    elif status == "busy":
        query = query.where(Slot.blocked.is_(False), held)
    elif status == "busy-unavailable":
        query = query.where(Slot.blocked.is_(True))
    elif status:
        raise FhirError(400, "invalid", "status: use free, busy or busy-unavailable", "status")
    return list(session.scalars(query))


def find_appointments(session: Session, args: MultiDict, limit: int) -> list[Appointment]:
    """By patient, date (the slot's start), status (FHIR's words), identifier (the HIS's appointment id)."""
    query = (
        select(Appointment)
        .join(Slot, Appointment.slot_id == Slot.id)
        .options(selectinload(Appointment.slot).selectinload(Slot.department))
        .order_by(Slot.starts_at, Appointment.id)
        .limit(limit)
    )
    if not any(args.get(name) for name in ("patient", "identifier", "date")):
        raise FhirError(400, "required", "Appointment search: give patient, identifier or date")
    if args.get("patient"):
        query = query.where(Appointment.patient_id == reference_id("patient", args["patient"], "Patient"))
    if args.get("identifier"):
        system, value = token(args["identifier"])
        if system not in (None, APPOINTMENT_ID_SYSTEM):
            return []
        query = query.where(Appointment.external_id == value)
    for value in args.getlist("date"):
        query = query.where(date_condition("date", Slot.starts_at, value))
    if args.get("status"):
        ours = [mine for mine, theirs in APPOINTMENT_STATUS.items() if theirs in args["status"].split(",")]
        if not ours:
            words = ", ".join(sorted(set(APPOINTMENT_STATUS.values())))
            raise FhirError(400, "invalid", f"status: use one of {words}", "status")
        query = query.where(Appointment.status.in_(ours))
    return list(session.scalars(query))


def is_active(appointment: Appointment) -> bool:
    return appointment.status in ACTIVE_STATUSES


COMMUNICATION_KINDS = {"call": Call, "sms": SmsMessage, "inbox": InboxItem}


def communication_row(session: Session, resource_id: str):
    kind, _, number = resource_id.partition("-")
    model = COMMUNICATION_KINDS.get(kind)
    if model is None or not NUMERIC_ID.fullmatch(number):
        return None
    row = session.get(model, int(number))
    return row if row is not None and row.patient_id is not None else None


def find_communications(session: Session, args: MultiDict, limit: int) -> list:
    """One patient's calls, SMS and inbox items, newest first (category=call, sms or inbox narrows it)."""
    subject = args.get("patient") or args.get("subject")
    if not subject:
        raise FhirError(400, "required", "Communication search: give patient")
    patient_id = reference_id("patient", subject, "Patient")
    kinds = args.get("category", "call,sms,inbox").split(",")
    unknown = [kind for kind in kinds if kind not in COMMUNICATION_KINDS]
    if unknown:
        raise FhirError(400, "invalid", "category: use call, sms or inbox", "category")
    times = {"call": Call.started_at, "sms": SmsMessage.created_at, "inbox": InboxItem.received_at}
    rows = []
    for kind in kinds:
        model = COMMUNICATION_KINDS[kind]
        query: Select = select(model).where(model.patient_id == patient_id).order_by(times[kind].desc()).limit(limit)
        rows += [(getattr(row, times[kind].key), kind, row) for row in session.scalars(query)]
    rows.sort(key=lambda found: found[0], reverse=True)
    return [(kind, row) for _, kind, row in rows[:limit]]
