"""Telling the patient what changed: a booking, move, cancellation or confirmation, by SMS or e-mail.

notify_change writes the message in the caller's transaction (an SMS row "queued", or an e-mail kept in the
inbox as an unsent outgoing item), in the patient's language with the visit's time in the site's zone;
deliver() sends it once that transaction is committed, so a rolled-back change never reaches a patient.
A number that sent STOP gets no SMS: the e-mail is tried next, else the refusal is recorded.
"""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from ccctl.appointments.model import AppointmentView
from ccctl.channels.email import EmailError, send_email
from ccctl.channels.inbox import patient_email
from ccctl.channels.sms import normalize_number
from ccctl.channels.sms_records import is_opted_out, send_and_record
from ccctl.config import Settings
from ccctl.patients.hl7_outbound import queue_change
from ccctl.records.models.channels import SmsMessage
from ccctl.records.models.inbox import InboxItem
from ccctl.records.models.patients import Patient, PatientPhone

CHANGES = ("booked", "moved", "cancelled", "confirmed")
DEFAULT_LANGUAGE = "en"

# {what}: the department and doctor; {when}: date and time in the site's zone; {ref}: the appointment id
TEXTS = {
    "en": {
        "booked": "Your visit is booked: {what}, {when}. Ref {ref}.",
        "moved": "Your visit has moved to {when}: {what}. Ref {ref}.",
        "cancelled": "Your visit {what}, {when} is cancelled. Ref {ref}.",
        "confirmed": "Your visit is confirmed: {what}, {when}. Ref {ref}.",
        "subject": "Your hospital appointment",
    },
    "zh": {
        "booked": "您已预约：{what}，{when}。预约号 {ref}。",
        "moved": "您的预约已改到 {when}：{what}。预约号 {ref}。",
        "cancelled": "您的预约 {what}，{when} 已取消。预约号 {ref}。",
        "confirmed": "您的预约已确认：{what}，{when}。预约号 {ref}。",
        "subject": "您的医院预约",
    },
    "pl": {
        "booked": "Wizyta zarezerwowana: {what}, {when}. Nr {ref}.",
        "moved": "Wizyta przeniesiona na {when}: {what}. Nr {ref}.",
        "cancelled": "Wizyta {what}, {when} odwołana. Nr {ref}.",
        "confirmed": "Wizyta potwierdzona: {what}, {when}. Nr {ref}.",
        "subject": "Wizyta w szpitalu",
    },
}
WHEN_FORMATS = {"en": "%d %b %Y %H:%M", "zh": "%Y年%m月%d日 %H:%M", "pl": "%d.%m.%Y godz. %H:%M"}


@dataclass(frozen=True)
class Notice:
    """What notify_change prepared: channel sms (an SmsMessage id), email (an InboxItem id) or "" (nobody)."""

    channel: str
    message_id: int | None = None
    reason: str = ""  # why nothing was sent: no_contact, opted_out, off


def language_of(patient: Patient) -> str:
    return patient.language if patient.language in TEXTS else DEFAULT_LANGUAGE


def change_text(appointment: AppointmentView, change: str, language: str, zone: ZoneInfo) -> str:
    """The message in `language` (en, zh, pl; others get English), the time in `zone`."""
    texts = TEXTS.get(language, TEXTS[DEFAULT_LANGUAGE])
    slot = appointment.slot
    when = slot.starts_at.astimezone(zone).strftime(WHEN_FORMATS.get(language, WHEN_FORMATS[DEFAULT_LANGUAGE]))
    what = f"{slot.department_name_in(language)}, {slot.doctor_name}"
    return texts[change].format(what=what, when=when, ref=appointment.id)


def _mobile(session: Session, patient_id: int) -> str:
    query = select(PatientPhone.number).where(PatientPhone.patient_id == patient_id)
    numbers = session.scalars(query.order_by((PatientPhone.kind == "mobile").desc(), PatientPhone.id))
    return numbers.first() or ""


def notify_change(
    session: Session, appointment: AppointmentView, change: str, settings: Settings | None = None
) -> Notice:
    """Prepare the patient's message about `change` (booked, moved, cancelled, confirmed); deliver() sends it.

    `settings` give the site's zone and appointments.confirm_by (without them: UTC, SMS then e-mail).
    """
    if change not in CHANGES:
        raise ValueError(f"unknown appointment change {change!r}")
    settings = settings or Settings()
    queue_change(session, appointment, change, settings.hl7)  # the hospital's copy (SIU) when hl7.outbound_host is set
    patient = session.get(Patient, appointment.patient_id)
    if patient is None:
        return Notice("", reason="no_contact")
    language = language_of(patient)
    text = change_text(appointment, change, language, ZoneInfo(settings.appointments.timezone))
    opted_out = ""
    for channel in settings.appointments.confirm_by:
        if channel == "sms" and (number := _mobile(session, patient.id)):
            recipient = normalize_number(number)
            if is_opted_out(session, recipient):
                opted_out = recipient
                continue
            message = SmsMessage(recipient=recipient, body=text, patient_id=patient.id, status="queued")
            session.add(message)
            session.flush()
            return Notice("sms", message.id)
        if channel == "email" and (address := patient_email(session, patient.id)):
            subject = TEXTS[language]["subject"]
            item = InboxItem(
                channel="email", direction="out", sender=address, patient_id=patient.id, subject=subject, body=text
            )
            session.add(item)
            session.flush()
            return Notice("email", item.id)
    if opted_out:
        # kept so staff see why the patient was not told
        session.add(SmsMessage(recipient=opted_out, body=text, patient_id=patient.id, status="opted_out"))
        return Notice("", reason="opted_out")
    return Notice("", reason="no_contact" if settings.appointments.confirm_by else "off")


def deliver(session: Session, settings: Settings, notice: Notice) -> str:
    """Send a prepared message after its change is committed; its status (sent, failed, opted_out...).

    Commits the session (the message's status is kept whatever the gateway says).
    """
    if notice.channel == "sms" and notice.message_id is not None:
        message = session.get(SmsMessage, notice.message_id)
        if message is None or message.status != "queued":
            return message.status if message else "missing"
        return send_and_record(session, settings, message).status
    if notice.channel == "email" and notice.message_id is not None:
        item = session.get(InboxItem, notice.message_id)
        if item is None or item.done:
            return "sent" if item else "missing"
        try:
            item.external_id = send_email(settings.email, item.sender, item.subject, item.body)
            item.done = True
            status = "sent"
        except EmailError as exc:
            item.problem = str(exc)
            status = "failed"
        session.commit()
        return status
    return notice.reason or "none"
