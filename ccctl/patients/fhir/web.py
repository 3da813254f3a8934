"""The FHIR R4 endpoints under /fhir/r4: a bearer token per hospital system, JSON only, errors as OperationOutcome.

No browser session authenticates here (app.py exempts this blueprint from the console's CSRF check for that
reason: no cookie is ever taken as a credential). Every read of a patient's data is audited under the
client's name ("api:<name>"), like a member of staff's.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from fhir.resources.R4B.appointment import Appointment as FhirAppointment
from fhir.resources.R4B.patient import Patient as FhirPatient
from flask import Blueprint, Response, g, request
from pydantic import ValidationError
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException

from ccctl.appointments import store as appointments
from ccctl.appointments.errors import AppointmentError, SlotTaken
from ccctl.patients.fhir import queries
from ccctl.patients.fhir.capability import capability_statement
from ccctl.patients.fhir.clients import authenticate
from ccctl.patients.fhir.outcomes import FhirError, invalid_resource, not_found, operation_outcome
from ccctl.patients.fhir.patient_writes import create_patient, update_patient_resource
from ccctl.patients.fhir.resources import (
    APPOINTMENT_STATUS,
    appointment_resource,
    call_communication,
    inbox_communication,
    patient_resource,
    practitioner_resource,
    schedule_resource,
    slot_resource,
    sms_communication,
)
from ccctl.records.audit import record_audit
from ccctl.records.models.appointments import Appointment, Doctor, Slot
from ccctl.records.models.calls import Call
from ccctl.records.models.channels import SmsMessage
from ccctl.records.models.patients import Patient
from ccctl.web.context import client_address, web

log = logging.getLogger("ccctl.web")

FHIR_JSON = "application/fhir+json"
JSON_TYPES = (FHIR_JSON, "application/json")
SOURCE = "fhir"
EXTERNAL_ID_CHARS = 64  # appointments.external_id

blueprint = Blueprint("fhir", __name__, url_prefix="/fhir/r4")


def respond(resource: dict[str, Any], status: int = 200, headers: dict | None = None) -> Response:
    body = json.dumps(resource, ensure_ascii=False)
    return Response(body, status=status, mimetype=FHIR_JSON, headers=headers or {})


def refuse(error: FhirError) -> Response:
    headers = {"WWW-Authenticate": 'Bearer realm="ccctl-fhir"'} if error.status == 401 else None
    return respond(error.outcome(), error.status, headers)


@blueprint.errorhandler(FhirError)
def _fhir_error(error: FhirError) -> Response:
    return refuse(error)


@blueprint.errorhandler(Exception)
def _unexpected(error: Exception) -> Response:
    if isinstance(error, HTTPException):  # a body too large, a form that cannot be read
        return respond(operation_outcome("invalid", f"the request was refused: {error.name}"), error.code or 400)
    # the exception's text may quote a row: its type is enough to find the traceback's cause
    log.error("FHIR %s %s failed: %s", request.method, request.url_rule or "?", type(error).__name__)
    return respond(operation_outcome("exception", "the server failed; nothing was changed"), 500)


@blueprint.before_request
def _authenticate() -> Response | None:
    """Bearer token of an active API client, read or write scope; /metadata is open (it describes, it holds nothing)."""
    accept = request.headers.get("Accept", "")
    if accept and not any(kind in accept for kind in (*JSON_TYPES, "*/*", "application/*")):
        return refuse(FhirError(406, "not-supported", "this server answers application/fhir+json only"))
    if request.endpoint == "fhir.metadata":
        return None
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return refuse(FhirError(401, "login", "send Authorization: Bearer <token> (ccctl api-clients add)"))
    with web().transaction() as db:
        client = authenticate(db, token.strip())
    if client is None:
        log.warning("refused FHIR %s from %s: unknown or revoked token", request.method, client_address())
        return refuse(FhirError(401, "login", "the bearer token is unknown or revoked"))
    reading = request.method in ("GET", "HEAD") or request.endpoint == "fhir.search_by_post"
    scope = "read" if reading else "write"
    if not client.allows(scope):
        return refuse(FhirError(403, "forbidden", f"API client '{client.name}' has no {scope} scope"))
    g.api_client = client
    return None


def parameters() -> MultiDict:
    """The search's parameters: the query string, or the form of a POST to <type>/_search (values out of URLs)."""
    return request.form if request.method == "POST" else request.args


def actor() -> str:
    return f"api:{g.api_client.name}"


def audit(db: Session, action: str, patient_id: int | None, detail: str) -> None:
    record_audit(db, actor(), action, patient_id, f"{SOURCE}:{client_address()}", detail)


def searchset(resource_type: str, resources: list[dict[str, Any]]) -> Response:
    base = f"{request.url_root.rstrip('/')}{blueprint.url_prefix}"
    entries = [
        {"fullUrl": f"{base}/{resource_type}/{r['id']}", "resource": r, "search": {"mode": "match"}} for r in resources
    ]
    return respond({"resourceType": "Bundle", "type": "searchset", "total": len(entries), "entry": entries})


def body_of(resource_type: str, model: type) -> Any:
    """The request's resource, validated by fhir.resources; FhirError naming the element at fault."""
    if request.mimetype not in JSON_TYPES:
        raise FhirError(415, "not-supported", "send the resource as application/fhir+json")
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise FhirError(400, "structure", "the body is not a JSON object")
    if data.get("resourceType") != resource_type:
        raise FhirError(400, "invalid", f"{resource_type}.resourceType: must be {resource_type}", "resourceType")
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise invalid_resource(resource_type, error) from None


def same_id(resource_type: str, resource: Any, resource_id: str) -> None:
    if resource.id is not None and resource.id != resource_id:
        raise FhirError(400, "invalid", f"{resource_type}.id: differs from the id in the URL", f"{resource_type}.id")


@blueprint.get("/metadata")
def metadata() -> Response:
    return respond(capability_statement(f"{request.url_root.rstrip('/')}{blueprint.url_prefix}"))


@blueprint.get("/Patient/<resource_id>")
def patient_read(resource_id: str) -> Response:
    with web().transaction() as db:
        patient = db.get(Patient, queries.database_id(resource_id) or 0)
        if patient is None:
            raise not_found("Patient", resource_id)
        audit(db, "fhir_read", patient.id, f"Patient/{patient.id}")
        return respond(patient_resource(patient))


@blueprint.get("/Patient")
def patient_search() -> Response:
    args = parameters()
    queries.check_parameters("Patient", args, ("identifier", "phone"))
    with web().transaction() as db:
        found = queries.find_patients(db, args, queries.count_of(args))
        searched = " and ".join(name for name in ("identifier", "phone") if args.get(name))
        for patient in found:
            audit(db, "fhir_search", patient.id, f"Patient search by {searched}")
        return searchset("Patient", [patient_resource(patient) for patient in found])


@blueprint.post("/Patient")
def patient_create() -> Response:
    resource = body_of("Patient", FhirPatient)
    with web().transaction() as db:
        patient = create_patient(db, resource)
        audit(db, "fhir_create", patient.id, f"Patient/{patient.id}")
        location = f"{request.url_root.rstrip('/')}{blueprint.url_prefix}/Patient/{patient.id}"
        return respond(patient_resource(patient), 201, {"Location": location})


@blueprint.put("/Patient/<resource_id>")
def patient_update(resource_id: str) -> Response:
    resource = body_of("Patient", FhirPatient)
    same_id("Patient", resource, resource_id)
    with web().transaction() as db:
        patient = db.get(Patient, queries.database_id(resource_id) or 0)
        if patient is None:
            raise not_found("Patient", resource_id)
        changed = update_patient_resource(db, patient, resource)
        audit(db, "fhir_update", patient.id, f"changed {', '.join(changed)}" if changed else "no change")
        return respond(patient_resource(patient))


@blueprint.get("/Practitioner/<resource_id>")
def practitioner_read(resource_id: str) -> Response:
    with web().transaction() as db:
        doctor = db.get(Doctor, queries.database_id(resource_id) or 0)
        if doctor is None:
            raise not_found("Practitioner", resource_id)
        return respond(practitioner_resource(doctor))


@blueprint.get("/Practitioner")
def practitioner_search() -> Response:
    args = parameters()
    queries.check_parameters("Practitioner", args, ("identifier",))
    with web().transaction() as db:
        found = queries.find_doctors(db, args, queries.count_of(args))
        return searchset("Practitioner", [practitioner_resource(doctor) for doctor in found])


@blueprint.get("/Schedule/<resource_id>")
def schedule_read(resource_id: str) -> Response:
    with web().transaction() as db:
        pair = queries.schedule_pair(db, resource_id)
        if pair is None:
            raise not_found("Schedule", resource_id)
        return respond(schedule_resource(*pair))


@blueprint.get("/Schedule")
def schedule_search() -> Response:
    args = parameters()
    queries.check_parameters("Schedule", args, ("actor", "service-type"))
    with web().transaction() as db:
        found = queries.schedule_pairs(db, args, queries.count_of(args))
        return searchset("Schedule", [schedule_resource(*pair) for pair in found])


@blueprint.get("/Slot/<resource_id>")
def slot_read(resource_id: str) -> Response:
    with web().transaction() as db:
        slot = db.get(Slot, queries.database_id(resource_id) or 0)
        if slot is None:
            raise not_found("Slot", resource_id)
        return respond(slot_resource(slot, bool(queries.held_slot_ids(db, [slot.id]))))


@blueprint.get("/Slot")
def slot_search() -> Response:
    args = parameters()
    queries.check_parameters("Slot", args, ("schedule", "start", "status", "service-type"))
    with web().transaction() as db:
        found = queries.find_slots(db, args, queries.count_of(args))
        held = queries.held_slot_ids(db, [slot.id for slot in found])
        return searchset("Slot", [slot_resource(slot, slot.id in held) for slot in found])


def _appointment(db: Session, resource_id: str) -> Appointment:
    appointment = db.get(Appointment, queries.database_id(resource_id) or 0)
    if appointment is None:
        raise not_found("Appointment", resource_id)
    return appointment


@blueprint.get("/Appointment/<resource_id>")
def appointment_read(resource_id: str) -> Response:
    with web().transaction() as db:
        appointment = _appointment(db, resource_id)
        audit(db, "fhir_read", appointment.patient_id, f"Appointment/{appointment.id}")
        return respond(appointment_resource(appointment))


@blueprint.get("/Appointment")
def appointment_search() -> Response:
    args = parameters()
    queries.check_parameters("Appointment", args, ("patient", "date", "status", "identifier"))
    with web().transaction() as db:
        found = queries.find_appointments(db, args, queries.count_of(args))
        for appointment in found:
            audit(db, "fhir_search", appointment.patient_id, f"Appointment/{appointment.id}")
        return searchset("Appointment", [appointment_resource(appointment) for appointment in found])


def _booking_of(resource: FhirAppointment) -> tuple[int, int]:
    """The slot and the patient an Appointment to book names (Slot/<id>, a participant Patient/<id>)."""
    if resource.status not in ("booked", "proposed", "pending"):
        raise FhirError(400, "invalid", "Appointment.status: a new appointment is booked", "Appointment.status")
    slots = [ref.reference for ref in resource.slot or [] if ref.reference]
    if len(slots) != 1:
        raise FhirError(400, "required", "Appointment.slot: name exactly one Slot/<id>", "Appointment.slot")
    slot_id = queries.reference_id("Appointment.slot", slots[0], "Slot")
    patients = [
        p.actor.reference for p in resource.participant if p.actor and (p.actor.reference or "").startswith("Patient/")
    ]
    if len(patients) != 1:
        expression = "Appointment.participant"
        raise FhirError(400, "required", f"{expression}: name exactly one Patient/<id> as actor", expression)
    return slot_id, queries.reference_id("Appointment.participant.actor", patients[0], "Patient")


@blueprint.post("/Appointment")
def appointment_create() -> Response:
    resource = body_of("Appointment", FhirAppointment)
    slot_id, patient_id = _booking_of(resource)
    external_id = next((i.value for i in resource.identifier or [] if i.value), None)
    if external_id is not None and len(external_id) > EXTERNAL_ID_CHARS:
        expression = "Appointment.identifier"
        raise FhirError(400, "invalid", f"{expression}: longer than {EXTERNAL_ID_CHARS} characters", expression)
    with web().transaction() as db:
        if db.get(Patient, patient_id) is None:
            expression = "Appointment.participant.actor"
            raise FhirError(422, "not-found", f"{expression}: Patient/{patient_id} does not exist", expression)
        try:
            view = appointments.book(
                db,
                patient_id,
                slot_id,
                source=SOURCE,
                booked_by=g.api_client.name,
                external_id=external_id,
                reason=(resource.description or "")[:256],
            )
        except SlotTaken as error:
            raise FhirError(409, "conflict", str(error), "Appointment.slot") from None
        except AppointmentError as error:
            raise FhirError(422, "business-rule", str(error), "Appointment.slot") from None
        audit(db, "fhir_book", patient_id, f"Appointment/{view.id} on Slot/{slot_id}")
        appointment = db.get(Appointment, view.id)
        location = f"{request.url_root.rstrip('/')}{blueprint.url_prefix}/Appointment/{view.id}"
        return respond(appointment_resource(appointment), 201, {"Location": location})


@blueprint.put("/Appointment/<resource_id>")
def appointment_update(resource_id: str) -> Response:
    """Only a cancellation is written (status cancelled); sending the status it has already changes nothing."""
    resource = body_of("Appointment", FhirAppointment)
    same_id("Appointment", resource, resource_id)
    with web().transaction() as db:
        appointment = _appointment(db, resource_id)
        current = APPOINTMENT_STATUS.get(appointment.status)
        if resource.status == "cancelled" and queries.is_active(appointment):
            reason = resource.cancelationReason.text if resource.cancelationReason else ""
            try:
                appointments.cancel(db, appointment.id, by=g.api_client.name, reason=reason or "")
            except AppointmentError as error:
                raise FhirError(422, "business-rule", str(error), "Appointment.status") from None
            audit(db, "fhir_cancel", appointment.patient_id, f"Appointment/{appointment.id}")
            db.refresh(appointment)
        elif resource.status != current:
            expression = "Appointment.status"
            raise FhirError(422, "business-rule", f"{expression}: only cancelled can be written here", expression)
        return respond(appointment_resource(appointment))


def _communication_of(row: Any) -> dict[str, Any]:
    if isinstance(row, Call):
        return call_communication(row)
    if isinstance(row, SmsMessage):
        return sms_communication(row)
    return inbox_communication(row)


@blueprint.get("/Communication/<resource_id>")
def communication_read(resource_id: str) -> Response:
    with web().transaction() as db:
        row = queries.communication_row(db, resource_id)
        if row is None:
            raise not_found("Communication", resource_id)
        audit(db, "fhir_read", row.patient_id, f"Communication/{resource_id}")
        return respond(_communication_of(row))


@blueprint.get("/Communication")
def communication_search() -> Response:
    args = parameters()
    queries.check_parameters("Communication", args, ("patient", "subject", "category"))
    with web().transaction() as db:
        found = queries.find_communications(db, args, queries.count_of(args))
        resources = [_communication_of(row) for _, row in found]
        patient_ids = sorted({row.patient_id for _, row in found})
        for patient_id in patient_ids:
            audit(db, "fhir_search", patient_id, f"Communication search ({len(resources)} shown)")
        return searchset("Communication", resources)


SEARCHES = {
    "Patient": patient_search,
    "Practitioner": practitioner_search,
    "Schedule": schedule_search,
    "Slot": slot_search,
    "Appointment": appointment_search,
    "Communication": communication_search,
}


@blueprint.post("/<resource_type>/_search")
def search_by_post(resource_type: str) -> Response:
    """FHIR's search by POST: the same search, its parameters in a form body (read scope)."""
    search = SEARCHES.get(resource_type)
    if search is None:
        raise FhirError(404, "not-supported", "search: unknown resource type")
    return search()


@blueprint.route("/<path:rest>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def unsupported(rest: str) -> Response:
    first = rest.split("/", 1)[0][:64]
    raise FhirError(
        404 if request.method == "GET" else 405, "not-supported", f"{request.method} {first}: not supported"
    )
