"""One SMS template to many patients: chosen by code or specialty, rendered with Jinja2, throttled,
each recipient at most once per batch key however often the batch is run again.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import jinja2
from jinja2.sandbox import SandboxedEnvironment
from sqlalchemy import select
from sqlalchemy.orm import Session

from ccctl.channels.sms_records import send_and_record
from ccctl.config import Settings
from ccctl.errors import UserError
from ccctl.records.models.channels import SmsBatch, SmsMessage
from ccctl.records.models.patients import Patient

# statuses after which a re-run leaves the recipient alone
FINAL = ("sending", "sent", "buffered", "delivered", "opted_out")


class BulkError(UserError, ValueError):
    """The batch cannot start (bad template, unknown patient code); str() names the file, line or code."""


@dataclass
class Selection:
    """Who gets the batch: these patient codes, or every patient of a specialty."""

    codes: list[str] = field(default_factory=list)
    specialty: str = ""

    def describe(self) -> str:
        return "codes:" + ",".join(sorted(self.codes)) if self.codes else f"specialty:{self.specialty}"


@dataclass
class RecipientStatus:
    patient_code: str
    status: str
    error: str = ""


def compile_template(source: str, name: str) -> jinja2.Template:
    """The template, or BulkError 'FILE:LINE: message'; undefined names fail at render, not silently empty."""
    env = SandboxedEnvironment(undefined=jinja2.StrictUndefined, autoescape=False, keep_trailing_newline=False)
    try:
        return env.from_string(source)
    except jinja2.TemplateSyntaxError as exc:
        raise BulkError(f"{name}:{exc.lineno}: {exc.message}") from None


def default_key(template_source: str, selection: Selection) -> str:
    """The same template to the same selection is the same batch: running it twice sends nothing twice."""
    digest = hashlib.sha256(f"{template_source}\0{selection.describe()}".encode()).hexdigest()
    return f"bulk-{digest[:16]}"


def select_patients(session: Session, selection: Selection) -> list[Patient]:
    if selection.codes:
        patients = session.scalars(select(Patient).where(Patient.patient_code.in_(selection.codes))).all()
        missing = sorted(set(selection.codes) - {p.patient_code for p in patients})
        if missing:
            raise BulkError(f"no patient with code {', '.join(repr(c) for c in missing[:10])}")
        order = {code: i for i, code in enumerate(selection.codes)}
        return sorted(patients, key=lambda p: order[p.patient_code])
    if not selection.specialty:
        raise BulkError("choose the recipients: patient codes or a specialty")
    query = select(Patient).where(Patient.specialty == selection.specialty).order_by(Patient.patient_code)
    return list(session.scalars(query).all())


def _render(template: jinja2.Template, name: str, patient: Patient) -> str:
    values = {
        "patient_code": patient.patient_code,
        "given_name": patient.given_name,
        "family_name": patient.family_name,
        "specialty": patient.specialty,
        "fields": dict(patient.custom_fields or {}),
    }
    try:
        return template.render(patient=values, **values).strip()
    except jinja2.TemplateError as exc:
        # the message names the template's variable, never the patient's data
        raise BulkError(f"{name}: {exc}") from None


def _batch(session: Session, key: str, template_source: str) -> SmsBatch:
    batch = session.scalars(select(SmsBatch).where(SmsBatch.key == key)).first()
    if batch is None:
        batch = SmsBatch(key=key, template=template_source)
        session.add(batch)
        session.commit()
    return batch


def _message_for(session: Session, batch: SmsBatch, patient: Patient) -> SmsMessage:
    idempotency_key = f"{batch.key}:{patient.patient_code}"
    message = session.scalars(select(SmsMessage).where(SmsMessage.idempotency_key == idempotency_key)).first()
    if message is None:
        message = SmsMessage(batch_id=batch.id, idempotency_key=idempotency_key, patient_id=patient.id, status="queued")
        session.add(message)
    return message


def run_bulk(
    session: Session,
    settings: Settings,
    template_source: str,
    template_name: str,
    selection: Selection,
    key: str = "",
    sleep: Callable[[float], None] = time.sleep,
) -> SmsBatch:
    """Send the batch; recipients already sent (or opted out) by an earlier run are skipped.

    A send Kannel refused is tried again on a re-run; a message Kannel took is never sent twice.
    """
    template = compile_template(template_source, template_name)
    patients = select_patients(session, selection)
    batch = _batch(session, key or default_key(template_source, selection), template_source)
    interval = 1.0 / settings.sms.messages_per_second if settings.sms.messages_per_second > 0 else 0.0
    last_send = None
    for patient in patients:
        message = _message_for(session, batch, patient)
        if message.status in FINAL:
            continue
        phone = next((p.number for p in patient.phones if p.kind == "mobile"), None)
        if phone is None:
            message.status, message.error = "no_number", "the patient has no mobile number"
            session.commit()
            continue
        message.recipient = phone
        try:
            message.body = _render(template, template_name, patient)
        except BulkError as exc:
            message.status, message.error = "failed", str(exc)
            session.commit()
            continue
        message.error = ""
        # no transaction stays open while throttling: SQLite would lock out the delivery reports
        session.commit()
        if last_send is not None:
            sleep(max(0.0, interval - (time.monotonic() - last_send)))
        last_send = time.monotonic()
        send_and_record(session, settings, message)
    return batch


def batch_status(session: Session, key: str) -> list[RecipientStatus]:
    """One row per recipient of the batch, by patient code; BulkError for an unknown batch."""
    batch = session.scalars(select(SmsBatch).where(SmsBatch.key == key)).first()
    if batch is None:
        raise BulkError(f"no SMS batch {key!r}")
    rows = []
    for message in batch.messages:
        patient = session.get(Patient, message.patient_id) if message.patient_id else None
        rows.append(RecipientStatus(patient.patient_code if patient else "?", message.status, message.error))
    return rows


def format_status(rows: list[RecipientStatus]) -> str:
    if not rows:
        return "no recipients"
    width = max(len("PATIENT"), *(len(r.patient_code) for r in rows))
    lines = [f"{'PATIENT':<{width}}  {'STATUS':<10}  ERROR"]
    lines += [f"{r.patient_code:<{width}}  {r.status:<10}  {r.error}".rstrip() for r in rows]
    counts: dict[str, int] = {}
    for r in rows:
        counts[r.status] = counts.get(r.status, 0) + 1
    lines.append(", ".join(f"{n} {status}" for status, n in sorted(counts.items())))
    return "\n".join(lines)
