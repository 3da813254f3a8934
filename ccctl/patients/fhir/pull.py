"""The client mode: the day's appointments, and their patients, pulled from the hospital's FHIR server.

Matched as HL7 matches them: the patient by the hospital's identifier (created or updated), the visit by
the HIS's appointment id, the slot by doctor and start (department, doctor and slot made when unknown).
Each appointment is applied in its own transaction: one the server cannot explain is refused and reported
by its id, and the others still go in. Bookings, moves and cancellations go through the appointments store.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, timedelta
from typing import Any
from urllib.parse import urlsplit

import requests
from fhir.resources.R4B.appointment import Appointment as FhirAppointment
from fhir.resources.R4B.patient import Patient as FhirPatient
from fhirpy import SyncFHIRClient
from fhirpy.base.exceptions import BaseFHIRError
from pydantic import ValidationError
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from ccctl.appointments import store as appointments
from ccctl.appointments.errors import AppointmentError, SlotNotBookable
from ccctl.errors import UserError
from ccctl.patients.fhir.outcomes import FhirError
from ccctl.patients.fhir.patient_writes import create_patient, update_patient_resource
from ccctl.patients.fhir.resources import MEDICAL_RECORD, MEMBER_NUMBER_SYSTEM, PATIENT_CODE_SYSTEM, patient_data
from ccctl.records.audit import record_audit
from ccctl.records.database import command_engine
from ccctl.records.models.appointments import ACTIVE_STATUSES, Appointment, Slot
from ccctl.records.models.patients import Patient

# the HIS's statuses that mean "the visit stands" and "the visit is off"
STANDING = ("proposed", "pending", "booked", "arrived", "checked-in")
OFF = ("cancelled", "entered-in-error")
CODE_CHARS = 32  # departments.code, doctors.code
EXTERNAL_ID_CHARS = 64
DEFAULT_MINUTES = 15
SOURCE = "fhir-pull"


class PullError(UserError):
    """The pull as a whole cannot run: the server cannot be reached or refuses the token."""


class Refused(Exception):
    """One appointment cannot be applied: why, naming the element and never patient data."""


@dataclass
class PullReport:
    day: date
    counts: Counter = field(default_factory=Counter)  # booked, moved, cancelled, unchanged, refused
    refusals: list[str] = field(default_factory=list)  # "Appointment/<HIS id>: why"


def _first_identifier(resource: dict[str, Any]) -> str | None:
    return next((i["value"] for i in resource.get("identifier") or [] if i.get("value")), None)


def _read(client: SyncFHIRClient, reference: str) -> dict[str, Any]:
    resource_type, _, resource_id = reference.partition("/")
    try:
        return client.reference(resource_type, resource_id).to_resource().serialize()
    except (BaseFHIRError, requests.RequestException):
        raise Refused(f"{resource_type} reference: the server did not give it") from None


def upsert_patient(session: Session, resource: dict[str, Any], actor: str) -> Patient:
    """The patient the hospital's identifier names, created or updated from the HIS's Patient."""
    foreign = (PATIENT_CODE_SYSTEM, MEMBER_NUMBER_SYSTEM)  # another system's codes mean nothing here
    identifiers = [i for i in resource.get("identifier") or [] if i.get("system") not in foreign]
    try:
        model = FhirPatient.model_validate({**resource, "identifier": identifiers})
        hospital_id = patient_data(model)[1].get("hospital_id")
        if hospital_id is None:  # the HIS's own id for the patient is its identifier here
            hospital_id = resource.get("id") or ""
            identifiers.append({"type": MEDICAL_RECORD, "value": hospital_id})
            model = FhirPatient.model_validate({**resource, "identifier": identifiers})
    except ValidationError:
        raise Refused("Patient: not a valid FHIR Patient") from None
    patient = session.scalars(select(Patient).where(Patient.hospital_id == hospital_id)).first()
    try:
        if patient is None:
            patient = create_patient(session, model)
            action, detail = "fhir pull add", "added"
        else:
            changed = update_patient_resource(session, patient, model)
            action, detail = "fhir pull update", f"changed {', '.join(changed)}" if changed else "no change"
    except FhirError as error:
        raise Refused(error.diagnostics) from None
    record_audit(session, actor, action, patient.id, SOURCE, detail=detail)
    return patient


def _department(appointment: FhirAppointment) -> tuple[str | None, str]:
    """The department code and name of Appointment.serviceType; no code means the doctor's own department."""
    codings = [c for concept in appointment.serviceType or [] for c in concept.coding or [] if c.code]
    if not codings:
        return None, ""
    code = codings[0].code
    if len(code) > CODE_CHARS:
        raise Refused(f"Appointment.serviceType: code longer than {CODE_CHARS}")
    return code, codings[0].display or (appointment.serviceType[0].text or "")


def ensure_slot(session: Session, appointment: FhirAppointment, practitioner: dict[str, Any]) -> Slot:
    """Our slot of the HIS's doctor at the visit's start; department, doctor and slot made when unknown."""
    code = _first_identifier(practitioner) or practitioner.get("id") or ""
    if not code or len(code) > CODE_CHARS:
        raise Refused(f"Practitioner.identifier: missing or longer than {CODE_CHARS}")
    if appointment.start is None:
        raise Refused("Appointment.start: missing")
    department_code, department_name = _department(appointment)
    names = practitioner.get("name") or [{}]
    name = names[0].get("text") or " ".join([*names[0].get("given", []), names[0].get("family", "")]).strip()
    minutes = appointment.minutesDuration
    if not minutes and appointment.end is not None:
        minutes = int((appointment.end - appointment.start) / timedelta(minutes=1))
    try:
        return appointments.ensure_slot(
            session,
            doctor_code=code,
            doctor_name=name,
            starts_at=appointment.start.astimezone(UTC),
            minutes=minutes or DEFAULT_MINUTES,
            department_code=department_code,
            department_name=department_name,
        )
    except SlotNotBookable:
        raise Refused("Appointment.serviceType: no department code") from None


def _participant(appointment: FhirAppointment, resource_type: str) -> str:
    references = [
        p.actor.reference
        for p in appointment.participant
        if p.actor and (p.actor.reference or "").startswith(f"{resource_type}/")
    ]
    if len(references) != 1:
        raise Refused(f"Appointment.participant: not exactly one {resource_type}")
    return references[0]


def apply_appointment(session: Session, client: SyncFHIRClient, appointment: FhirAppointment, actor: str) -> str:
    """Book, move, cancel or leave one visit; what was done."""
    external_id = next((i.value for i in appointment.identifier or [] if i.value), None) or appointment.id
    if not external_id or len(external_id) > EXTERNAL_ID_CHARS:
        raise Refused(f"Appointment.identifier: missing or longer than {EXTERNAL_ID_CHARS}")
    existing = session.scalars(select(Appointment).where(Appointment.external_id == external_id)).first()
    if appointment.status in OFF:
        if existing is None or existing.status not in ACTIVE_STATUSES:
            return "unchanged"
        appointments.cancel(session, existing.id, by=actor, reason="cancelled by the hospital")
        return "cancelled"
    if appointment.status not in STANDING:
        return "unchanged"
    patient = upsert_patient(session, _read(client, _participant(appointment, "Patient")), actor)
    slot = ensure_slot(session, appointment, _read(client, _participant(appointment, "Practitioner")))
    if existing is None:
        appointments.book(session, patient.id, slot.id, source="fhir", booked_by=actor, external_id=external_id)
        return "booked"
    if existing.patient_id != patient.id:
        raise Refused("Appointment.participant: the visit belongs to another patient identifier here")
    if existing.status not in ACTIVE_STATUSES:
        raise Refused(f"Appointment.status: the visit is {existing.status} here")
    if existing.slot_id != slot.id:
        appointments.move(session, existing.id, slot.id, source="fhir", by=actor)
        return "moved"
    return "unchanged"


def pull_day(engine: Engine, client: SyncFHIRClient, day: date, actor: str) -> PullReport:
    """Every appointment the server has on `day`, applied one transaction each."""
    try:
        found = client.resources("Appointment").search(date=day.isoformat()).fetch_all()
    except (BaseFHIRError, requests.RequestException) as error:
        raise PullError(f"FHIR server {client.url}: the Appointment search failed ({type(error).__name__})") from None
    report = PullReport(day)
    for resource in found:
        name = f"Appointment/{resource.get('id', '?')}"
        try:
            appointment = FhirAppointment.model_validate(resource.serialize())
            with Session(engine, expire_on_commit=False) as session, session.begin():
                report.counts[apply_appointment(session, client, appointment, actor)] += 1
        except ValidationError:
            report.counts["refused"] += 1
            report.refusals.append(f"{name}: not a valid FHIR Appointment")
        except (Refused, AppointmentError) as error:
            report.counts["refused"] += 1
            report.refusals.append(f"{name}: {error}")
    return report


def pull(url: str, server: str, token: str, day: date) -> PullReport:
    """The work behind `ccctl fhir pull`: the database at `url`, the server at `server` with its token."""
    client = SyncFHIRClient(server.rstrip("/"), authorization=f"Bearer {token}", requests_config={"timeout": 30})
    with command_engine(url, PullError) as engine:
        return pull_day(engine, client, day, f"fhir:{urlsplit(server).hostname or server}")


def format_report(report: PullReport, server: str) -> str:
    counts = ", ".join(
        f"{report.counts[word]} {word}" for word in ("booked", "moved", "cancelled", "unchanged", "refused")
    )
    lines = [f"{report.day.isoformat()} from {server}: {counts}"]
    return "\n".join(lines + [f"refused {line}" for line in report.refusals])
