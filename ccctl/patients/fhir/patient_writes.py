"""A FHIR Patient written into the patients table through the repository's checks (the same as the console's).

An update changes only what the resource carries: the member number, PIN and specialty fields the hospital
does not know are kept. The hospital's identifier (Patient.hospital_id) belongs to one patient only.
"""

from __future__ import annotations

from fhir.resources.R4B.patient import Patient as FhirPatient
from sqlalchemy import select
from sqlalchemy.orm import Session

from ccctl.patients.commands import specialties_from
from ccctl.patients.fhir.outcomes import FhirError
from ccctl.patients.fhir.resources import patient_data
from ccctl.patients.repository import PatientError, add_patient, update_patient
from ccctl.records.models.base import utc_now
from ccctl.records.models.patients import Patient

# the repository's messages start with the field they name: which FHIR element that is
ELEMENT_OF_MESSAGE = (
    ("phone", "Patient.telecom"),
    ("given name", "Patient.name.given"),
    ("family name", "Patient.name.family"),
    ("member number", "Patient.identifier"),
    ("patient code", "Patient.identifier"),
    ("language", "Patient.communication.language"),
    ("a member needs", "Patient.name"),
    ("a patient needs", "Patient.name"),
)


def refused(error: PatientError) -> FhirError:
    message = str(error)
    element = next((path for start, path in ELEMENT_OF_MESSAGE if message.startswith(start)), "Patient")
    if "already" in message:
        return FhirError(409, "duplicate", f"{element}: {message}", element)
    return FhirError(400, "invalid", f"{element}: {message}", element)


def _claim_hospital_id(session: Session, patient: Patient | None, hospital_id: str) -> None:
    """FhirError 409 when another patient holds the hospital's identifier."""
    if len(hospital_id) > 64:
        raise FhirError(400, "invalid", "Patient.identifier: longer than 64 characters", "Patient.identifier")
    query = select(Patient.id).where(Patient.hospital_id == hospital_id)
    if patient is not None:
        query = query.where(Patient.id != patient.id)
    if session.scalar(query) is not None:
        expression = "Patient.identifier"
        raise FhirError(409, "duplicate", f"{expression}: another patient has this hospital identifier", expression)


def create_patient(session: Session, resource: FhirPatient) -> Patient:
    data, changes = patient_data(resource)
    hospital_id = changes.get("hospital_id")
    if hospital_id is not None:
        _claim_hospital_id(session, None, hospital_id)
    try:
        patient = add_patient(session, data, specialties_from(None))
    except PatientError as error:
        raise refused(error) from None
    patient.hospital_id = hospital_id
    session.flush()
    return patient


def update_patient_resource(session: Session, patient: Patient, resource: FhirPatient) -> list[str]:
    """The names of what changed (the audit row's words, never the values)."""
    _, changes = patient_data(resource)
    hospital_id = changes.pop("hospital_id", None)
    try:
        changed = update_patient(session, patient.patient_code, changes, specialties_from(None))
    except PatientError as error:
        raise refused(error) from None
    if hospital_id is not None and hospital_id != patient.hospital_id:
        _claim_hospital_id(session, patient, hospital_id)
        patient.hospital_id = hospital_id
        patient.updated_at = utc_now()
        changed.append("hospital_id")
    session.flush()
    return changed
