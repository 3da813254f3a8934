"""`ccctl patients erase`: a patient's personal data removed on request, the statistics and the audit trail kept.

The patient row stays as an empty tombstone under its code (visits and campaign rows point at it), every
other row that named the patient is anonymised in place (numbers, bodies, notes blanked; the link to the
patient cut), and the files (recordings, voice messages, attachments, faxes) are deleted once the
transaction has committed. Calls and queue events keep their times and outcomes, so the reports still
count them. The audit row names who erased whom and why, with the counts of what went.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from ccctl.patients.repository import PatientError, find_by_code
from ccctl.records.audit import record_audit
from ccctl.records.database import in_transaction
from ccctl.records.models.acd import QueueEntry, QueueEvent
from ccctl.records.models.appointments import Appointment, Hl7Message
from ccctl.records.models.calls import Call, VoiceMessage
from ccctl.records.models.channels import FaxJob, SmsMessage
from ccctl.records.models.inbox import InboxItem, PatientEmail, Ticket
from ccctl.records.models.media import Recording
from ccctl.records.models.patients import Patient, PatientPhone
from ccctl.records.models.surveys import SurveyResponse
from ccctl.records.models.web import AgentContact, CallWrapUp

ERASED_NAME = "(erased)"
# queue events whose detail is a person's free text (a callback closed by hand)
NOTE_EVENTS = ("callback_done", "callback_cancelled")
MAX_REASON_CHARS = 500


@dataclass
class Erasure:
    """What one erase removed, as counts (never names or numbers)."""

    code: str
    counts: dict[str, int] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)  # deleted after the commit
    files_left: int = 0  # could not be deleted (the command says how many, never which)

    def add(self, what: str, n: int) -> None:
        if n:
            self.counts[what] = self.counts.get(what, 0) + n

    def summary(self) -> str:
        parts = [f"{n} {what}" for what, n in self.counts.items()] or ["nothing but the record"]
        text = f"erased {self.code}: " + ", ".join(parts)
        return text + (f"; {self.files_left} file(s) could not be deleted" if self.files_left else "")


def _blank(session: Session, model, where, **values) -> int:
    return session.execute(
        update(model).where(where).values(**values).execution_options(synchronize_session=False)
    ).rowcount


def _patient_record(session: Session, patient: Patient, erasure: Erasure) -> tuple[list[str], list[str]]:
    """The phones and e-mail addresses (returned, to find unfiled rows that carry them), then the record."""
    phones = [phone.number for phone in patient.phones]
    emails = list(session.scalars(select(PatientEmail.address).where(PatientEmail.patient_id == patient.id)))
    erasure.add("phone number(s)", len(phones))
    erasure.add("e-mail address(es)", len(emails))
    session.query(PatientPhone).filter(PatientPhone.patient_id == patient.id).delete(synchronize_session=False)
    session.query(PatientEmail).filter(PatientEmail.patient_id == patient.id).delete(synchronize_session=False)
    session.expire(patient, ["phones"])
    patient.given_name, patient.family_name = "", ERASED_NAME
    patient.member_number = patient.hospital_id = patient.pin_hash = None
    patient.pin_failures, patient.locked_until, patient.pin_failures_since = 0, None, None
    patient.specialty, patient.custom_fields, patient.language = "", {}, ""
    return phones, emails


def _calls(session: Session, patient_id: int, phones: list[str], erasure: Erasure) -> list[str]:
    """Calls keep time, hotline, disposition and path; the number and the link go. Their uuids."""
    mine = or_(Call.patient_id == patient_id, Call.caller_number.in_(phones))
    uuids = list(session.scalars(select(Call.uuid).where(mine)))
    erasure.add("call(s) anonymised", len(uuids))
    _blank(session, Call, mine, caller_number="", patient_id=None)
    _blank(session, Call, Call.destination.in_(phones), destination="")
    _blank(session, CallWrapUp, CallWrapUp.call_uuid.in_(uuids), notes="")
    return uuids


def _queue(session: Session, patient_id: int, uuids: list[str]) -> None:
    entries = or_(QueueEntry.patient_id == patient_id, QueueEntry.call_uuid.in_(uuids))
    _blank(session, QueueEntry, entries, callback_number="", patient_id=None)
    events = or_(QueueEvent.patient_id == patient_id, QueueEvent.call_uuid.in_(uuids))
    _blank(session, QueueEvent, events & QueueEvent.kind.in_(NOTE_EVENTS), detail="")
    _blank(session, QueueEvent, events, patient_id=None)
    _blank(session, AgentContact, AgentContact.patient_id == patient_id, patient_id=None)


def _media(session: Session, patient_id: int, uuids: list[str], erasure: Erasure) -> list[int]:
    """Recordings and voice messages: files deleted, rows kept for the counts. The voice messages' ids."""
    recordings = session.scalars(
        select(Recording).where(or_(Recording.patient_id == patient_id, Recording.call_uuid.in_(uuids)))
    ).all()
    for row in recordings:
        if row.path:
            erasure.files.append(row.path)
        if row.archive_state in ("uploaded", "pruned"):
            erasure.add("recording(s) also in the S3 archive (remove them there)", 1)
        row.path, row.patient_id, row.archive_state, row.s3_key = "", None, "erased", None
    erasure.add("recording(s)", len(recordings))
    messages = session.scalars(
        select(VoiceMessage).where(or_(VoiceMessage.patient_id == patient_id, VoiceMessage.call_uuid.in_(uuids)))
    ).all()
    for row in messages:
        if row.path:
            erasure.files.append(row.path)
        row.path, row.patient_id = "", None
    erasure.add("voice message(s)", len(messages))
    return [row.id for row in messages]


def _messages(session: Session, patient_id: int, phones: list[str], emails: list[str], erasure: Erasure) -> list[int]:
    """Inbox items (and their attachments), SMS and faxes: bodies and addresses blanked, files deleted."""
    senders = phones + emails
    items = session.scalars(
        select(InboxItem).where(
            or_(
                InboxItem.patient_id == patient_id,
                InboxItem.suggested_patient_id == patient_id,
                InboxItem.sender.in_(senders),
            )
        )
    ).all()
    for item in items:
        erasure.add("attachment(s)", len(item.attachments))
        erasure.files.extend(a.path for a in item.attachments if a.path)
        item.attachments.clear()
        item.sender = item.subject = item.body = item.problem = ""
        item.patient_id = item.suggested_patient_id = None
    erasure.add("inbox message(s)", len(items))
    sms = or_(SmsMessage.patient_id == patient_id, SmsMessage.recipient.in_(phones))
    erasure.add("SMS", _blank(session, SmsMessage, sms, body="", recipient="", patient_id=None))
    faxes = session.scalars(select(FaxJob).where(FaxJob.patient_id == patient_id)).all()
    for job in faxes:
        if job.tiff_path:
            erasure.files.append(job.tiff_path)
        job.number = job.source_name = job.tiff_path = ""
        job.patient_id = None
    erasure.add("fax(es) sent", len(faxes))
    return [item.id for item in items]


def _tickets(session: Session, patient_id: int, items: list[int], voice: list[int], erasure: Erasure) -> None:
    mine = or_(Ticket.patient_id == patient_id, Ticket.inbox_item_id.in_(items), Ticket.voice_message_id.in_(voice))
    erasure.add("ticket(s)", _blank(session, Ticket, mine, description="", outcome="", patient_id=None))


def _visits_and_hl7(session: Session, patient: Patient, hospital_id: str | None, erasure: Erasure) -> None:
    _blank(session, Appointment, Appointment.patient_id == patient.id, reason="")
    if hospital_id:  # HL7 messages name the patient by the hospital's identifier (PID-3)
        erasure.add("HL7 message(s)", _blank(session, Hl7Message, Hl7Message.raw.contains(hospital_id), raw=""))


def erase_in(session: Session, code: str, reason: str, actor: str, source: str) -> Erasure:
    """Erase one patient in the caller's transaction; the files to delete are in the result."""
    patient = find_by_code(session, code)
    if patient is None:
        raise PatientError(f"no patient with code '{code}'")
    erasure = Erasure(patient.patient_code)
    hospital_id = patient.hospital_id
    phones, emails = _patient_record(session, patient, erasure)
    uuids = _calls(session, patient.id, phones, erasure)
    _queue(session, patient.id, uuids)
    voice = _media(session, patient.id, uuids, erasure)
    items = _messages(session, patient.id, phones, emails, erasure)
    _tickets(session, patient.id, items, voice, erasure)
    # survey answers stay counted in the reports, no longer the patient's
    mine = SurveyResponse.patient_id == patient.id
    erasure.add("survey response(s)", _blank(session, SurveyResponse, mine, patient_id=None))
    _visits_and_hl7(session, patient, hospital_id, erasure)
    counts = ", ".join(f"{n} {what}" for what, n in erasure.counts.items())
    record_audit(session, actor, "erase", patient.id, source, f"reason: {reason}; removed: {counts or 'the record'}")
    return erasure


def delete_files(erasure: Erasure) -> None:
    for path in dict.fromkeys(erasure.files):
        try:
            Path(path).unlink(missing_ok=True)
        except OSError:
            erasure.files_left += 1


def erase(url: str, code: str, confirm: str, reason: str, actor: str, source: str) -> Erasure:
    """Check the confirmation and the reason, erase in one transaction, then delete the files."""
    if confirm != code:
        raise PatientError(f"patients erase {code}: --confirm must repeat the patient code exactly")
    reason = reason.strip()
    if not reason:
        raise PatientError(f"patients erase {code}: --reason must say why (a request, its date)")
    if len(reason) > MAX_REASON_CHARS:
        raise PatientError(f"patients erase {code}: --reason has more than {MAX_REASON_CHARS} characters")
    erasure = in_transaction(url, PatientError, lambda session: erase_in(session, code, reason, actor, source))
    delete_files(erasure)
    return erasure
