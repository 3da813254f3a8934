"""Our rows as FHIR R4 resources (plain JSON dicts), and a FHIR Patient as the patients repository's PatientData.

One function per resource type; ids are the database's ids ("call-12", "sms-3", "inbox-5" for the three
kinds of Communication, "<doctor id>-<department id>" for a Schedule). docs/integration.md lists the mapping.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fhir.resources.R4B.patient import Patient as FhirPatient

from ccctl.patients.repository import PatientData
from ccctl.records.models.appointments import Appointment, Department, Doctor, Slot
from ccctl.records.models.calls import Call
from ccctl.records.models.channels import SmsMessage
from ccctl.records.models.inbox import InboxItem
from ccctl.records.models.patients import Patient

PATIENT_CODE_SYSTEM = "urn:ccctl:patient-code"
MEMBER_NUMBER_SYSTEM = "urn:ccctl:member-number"
DOCTOR_CODE_SYSTEM = "urn:ccctl:doctor-code"
DEPARTMENT_SYSTEM = "urn:ccctl:department"
APPOINTMENT_ID_SYSTEM = "urn:ccctl:his-appointment-id"
SLOT_ID_SYSTEM = "urn:ccctl:his-slot-id"
CALL_UUID_SYSTEM = "urn:ccctl:call-uuid"
IDENTIFIER_TYPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/v2-0203"
MEDIUM_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-ParticipationMode"
LANGUAGE_SYSTEM = "urn:ietf:bcp:47"
# the hospital's own patient identifier is the one typed MR (medical record number)
MEDICAL_RECORD = {"coding": [{"system": IDENTIFIER_TYPE_SYSTEM, "code": "MR"}]}

APPOINTMENT_STATUS = {
    "booked": "booked",
    "confirmed": "booked",
    "cancelled": "cancelled",
    "moved": "cancelled",
    "no_show": "noshow",
    "attended": "fulfilled",
}
SMS_STATUS = {
    "queued": "preparation",
    "sending": "in-progress",
    "sent": "in-progress",
    "delivered": "completed",
    "failed": "not-done",
    "opted_out": "not-done",
}
CHANNEL_MEDIUM = {
    "sms": "ELECTRONIC",
    "email": "EMAILWRIT",
    "fax": "FAXWRIT",
    "web": "ONLINEWRIT",
    "voice": "PHONE",
    "letter": "MAILWRIT",
}


def instant(value: datetime | None) -> str | None:
    """An aware UTC time as FHIR's instant (2026-12-07T09:00:00+00:00); a naive value is UTC, as stored."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="seconds")


def _compact(resource: dict[str, Any]) -> dict[str, Any]:
    """Without the elements that have no value (FHIR forbids empty ones)."""
    return {key: value for key, value in resource.items() if value not in (None, "", [], {})}


def reference_of(resource_type: str, resource_id: int | str, display: str = "") -> dict[str, str]:
    return _compact({"reference": f"{resource_type}/{resource_id}", "display": display})


def department_concept(department: Department) -> dict[str, Any]:
    return {"coding": [{"system": DEPARTMENT_SYSTEM, "code": department.code}], "text": department.name}


def schedule_id(doctor_id: int, department_id: int) -> str:
    return f"{doctor_id}-{department_id}"


def patient_resource(patient: Patient) -> dict[str, Any]:
    identifiers = [{"system": PATIENT_CODE_SYSTEM, "value": patient.patient_code}]
    if patient.hospital_id:
        identifiers.insert(0, {"type": MEDICAL_RECORD, "value": patient.hospital_id})
    if patient.member_number:
        identifiers.append({"system": MEMBER_NUMBER_SYSTEM, "value": patient.member_number})
    name = _compact({"family": patient.family_name, "given": patient.given_name.split()})
    language = {"language": {"coding": [{"system": LANGUAGE_SYSTEM, "code": patient.language}]}}
    return _compact(
        {
            "resourceType": "Patient",
            "id": str(patient.id),
            "meta": {"lastUpdated": instant(patient.updated_at)},
            "identifier": identifiers,
            "active": True,
            "name": [name] if name else [],
            "telecom": [{"system": "phone", "value": phone.number} for phone in patient.phones],
            "communication": [language] if patient.language else [],
        }
    )


def practitioner_resource(doctor: Doctor) -> dict[str, Any]:
    languages = [code for code in doctor.languages.replace(",", " ").split() if code]
    return _compact(
        {
            "resourceType": "Practitioner",
            "id": str(doctor.id),
            "identifier": [{"system": DOCTOR_CODE_SYSTEM, "value": doctor.code}],
            "active": doctor.active,
            "name": [{"text": doctor.name}],
            "communication": [{"coding": [{"system": LANGUAGE_SYSTEM, "code": code}]} for code in languages],
        }
    )


def schedule_resource(doctor: Doctor, department: Department) -> dict[str, Any]:
    return {
        "resourceType": "Schedule",
        "id": schedule_id(doctor.id, department.id),
        "active": doctor.active and department.active,
        "serviceType": [department_concept(department)],
        "actor": [reference_of("Practitioner", doctor.id, doctor.name)],
    }


def slot_status(slot: Slot, held: bool) -> str:
    if slot.blocked:
        return "busy-unavailable"
    return "busy" if held else "free"


def slot_resource(slot: Slot, held: bool) -> dict[str, Any]:
    return _compact(
        {
            "resourceType": "Slot",
            "id": str(slot.id),
            "identifier": [{"system": SLOT_ID_SYSTEM, "value": slot.external_id}] if slot.external_id else [],
            "serviceType": [department_concept(slot.department)],
            "schedule": reference_of("Schedule", schedule_id(slot.doctor_id, slot.department_id)),
            "status": slot_status(slot, held),
            "start": instant(slot.starts_at),
            "end": instant(slot.starts_at + timedelta(minutes=slot.minutes)),
        }
    )


def appointment_resource(appointment: Appointment) -> dict[str, Any]:
    slot = appointment.slot
    patient_status = "accepted" if appointment.status == "confirmed" else "needs-action"
    if appointment.status not in ("booked", "confirmed"):
        patient_status = "declined" if appointment.status in ("cancelled", "no_show") else "accepted"
    cancelled = appointment.status in ("cancelled", "moved")
    reason = appointment.reason if appointment.status == "cancelled" else "moved to another slot"
    return _compact(
        {
            "resourceType": "Appointment",
            "id": str(appointment.id),
            "meta": {"lastUpdated": instant(appointment.updated_at)},
            "identifier": (
                [{"system": APPOINTMENT_ID_SYSTEM, "value": appointment.external_id}] if appointment.external_id else []
            ),
            "status": APPOINTMENT_STATUS.get(appointment.status, "booked"),
            "cancelationReason": {"text": reason} if cancelled and reason else None,
            "serviceType": [department_concept(slot.department)],
            "start": instant(slot.starts_at),
            "end": instant(slot.starts_at + timedelta(minutes=slot.minutes)),
            "minutesDuration": slot.minutes,
            "slot": [reference_of("Slot", slot.id)],
            "created": instant(appointment.created_at),
            "participant": [
                {"actor": reference_of("Patient", appointment.patient_id), "status": patient_status},
                {"actor": reference_of("Practitioner", slot.doctor_id, slot.doctor.name), "status": "accepted"},
            ],
        }
    )


def _communication(kind: str, row_id: int, status: str, medium: str, patient_id: int) -> dict[str, Any]:
    return {
        "resourceType": "Communication",
        "id": f"{kind}-{row_id}",
        "status": status,
        "category": [{"text": kind}],
        "medium": [{"coding": [{"system": MEDIUM_SYSTEM, "code": medium}]}],
        "subject": reference_of("Patient", patient_id),
    }


def call_communication(call: Call) -> dict[str, Any]:
    """A call: completed when answered, in progress until it ends, else not done; the disposition as reason."""
    status = "completed" if call.answered_at else ("in-progress" if call.ended_at is None else "not-done")
    resource = _communication("call", call.id, status, "PHONE", call.patient_id)
    resource.update(
        identifier=[{"system": CALL_UUID_SYSTEM, "value": call.uuid}],
        statusReason={"text": call.disposition},
        received=instant(call.started_at),
    )
    return _compact(resource)


def sms_communication(message: SmsMessage) -> dict[str, Any]:
    status = SMS_STATUS.get(message.status, "unknown")
    resource = _communication("sms", message.id, status, "ELECTRONIC", message.patient_id)
    resource.update(statusReason={"text": message.status}, sent=instant(message.sent_at or message.created_at))
    return _compact(resource)


def inbox_communication(item: InboxItem) -> dict[str, Any]:
    resource = _communication(
        "inbox", item.id, "completed", CHANNEL_MEDIUM.get(item.channel, "WRITTEN"), item.patient_id
    )
    resource["category"] = [{"text": item.channel}]
    when = instant(item.received_at)
    resource.update({"sent": when} if item.direction == "out" else {"received": when})
    return _compact(resource)


def _hospital_identifier(resource: FhirPatient) -> str | None:
    """The identifier typed MR, else the first whose system is not ccctl's own."""
    ours = (PATIENT_CODE_SYSTEM, MEMBER_NUMBER_SYSTEM)
    identifiers = resource.identifier or []
    for identifier in identifiers:
        codes = [coding.code for coding in (identifier.type.coding or [])] if identifier.type else []
        if "MR" in codes and identifier.value:
            return identifier.value
    return next((i.value for i in identifiers if i.value and i.system not in ours), None)


def _identifier(resource: FhirPatient, system: str) -> str | None:
    return next((i.value for i in resource.identifier or [] if i.system == system and i.value), None)


def patient_data(resource: FhirPatient) -> tuple[PatientData, dict[str, Any]]:
    """What a FHIR Patient gives: the PatientData to add, the changes an update makes (elements present only),
    and under "hospital_id" the hospital's identifier when one is sent."""
    changes: dict[str, Any] = {}
    names = resource.name or []
    name = next((n for n in names if n.use == "official"), names[0] if names else None)
    if name is not None:
        changes["given_name"] = " ".join(name.given or [])
        changes["family_name"] = name.family or ""
    if resource.telecom is not None:
        changes["phones"] = [t.value for t in resource.telecom if t.system in ("phone", "sms") and t.value]
    if resource.communication:
        language = resource.communication[0].language
        codes = [coding.code for coding in language.coding or [] if coding.code]
        changes["language"] = codes[0] if codes else (language.text or "")
    member_number = _identifier(resource, MEMBER_NUMBER_SYSTEM)
    if member_number is not None:
        changes["member_number"] = member_number
    data = PatientData(
        given_name=changes.get("given_name", ""),
        family_name=changes.get("family_name", ""),
        phones=changes.get("phones", []),
        patient_code=_identifier(resource, PATIENT_CODE_SYSTEM),
        member_number=member_number,
        language=changes.get("language", ""),
    )
    hospital_id = _hospital_identifier(resource)
    if hospital_id is not None:
        changes["hospital_id"] = hospital_id
    return data, changes
