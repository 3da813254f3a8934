"""After the calls: the SMS to a patient the campaign could not reach by voice, then the e-mail.

Each step is recorded as a contact attempt with its reason; the SMS is one sms_messages row per campaign and
patient (its idempotency key), skipped when the number sent STOP.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ccctl.campaigns.model import CampaignSpec
from ccctl.campaigns.store import EMAIL_FIELD, phone_of
from ccctl.records.models.campaigns import Campaign, CampaignTarget, ContactAttempt, ContactConsent
from ccctl.records.models.channels import SmsMessage, SmsOptOut
from ccctl.records.models.patients import Patient


def next_channel_targets(session: Session, campaign_id: int) -> list[CampaignTarget]:
    return list(
        session.scalars(
            select(CampaignTarget).where(
                CampaignTarget.campaign_id == campaign_id,
                CampaignTarget.state == "waiting",
                CampaignTarget.channel.in_(("sms", "email")),
            )
        )
    )


def queue_sms(session: Session, campaign: Campaign, spec: CampaignSpec, target: CampaignTarget) -> SmsMessage | None:
    """The SMS after the last unanswered call (once per campaign and patient); None when it may not be sent."""
    patient = session.get(Patient, target.patient_id)
    number = phone_of(patient, kinds=("mobile",)) if patient is not None else ""
    if target.voice_attempts:
        reason = f"not reached after {target.voice_attempts} calls"
    else:
        reason = f"instead of a call ({target.last_outcome.replace('_', ' ')})"
    outcome = ""
    if not spec.sms_text:
        outcome = "no_sms"
    elif not number:
        outcome = "no_mobile"
    elif session.scalars(select(SmsOptOut.id).where(SmsOptOut.number == number)).first() is not None:
        outcome = "opted_out"
    message = None
    if not outcome:
        key = f"campaign:{campaign.id}:{target.patient_id}"
        message = session.scalars(select(SmsMessage).where(SmsMessage.idempotency_key == key)).first()
        if message is None:
            message = SmsMessage(
                idempotency_key=key,
                patient_id=target.patient_id,
                recipient=number,
                body=spec.sms_text,
                status="queued",
            )
            session.add(message)
        outcome = "queued"
    if outcome != "no_sms":
        session.add(
            ContactAttempt(
                campaign_id=campaign.id,
                target_id=target.id,
                patient_id=target.patient_id,
                channel="sms",
                reason=reason,
                outcome=outcome,
            )
        )
    reached_by_sms = outcome == "queued"
    target.attempts += 1 if outcome != "no_sms" else 0
    if reached_by_sms or not spec.email_text:
        target.state, target.last_outcome = "done", ("sms_queued" if reached_by_sms else "unreachable")
    else:
        target.channel = "email"
    session.flush()
    return message


def email_step(session: Session, campaign: Campaign, spec: CampaignSpec, target: CampaignTarget) -> str:
    """The e-mail address for the last step ("" when there is none or the patient opted out of e-mail)."""
    patient = session.get(Patient, target.patient_id)
    address = str((patient.custom_fields or {}).get(EMAIL_FIELD, "")) if patient is not None else ""
    refused = session.scalars(
        select(ContactConsent.id).where(
            ContactConsent.patient_id == target.patient_id, ContactConsent.channel == "email"
        )
    ).first()
    outcome = "opted_out" if refused else ("sending" if address else "no_address")
    session.add(
        ContactAttempt(
            campaign_id=campaign.id,
            target_id=target.id,
            patient_id=target.patient_id,
            channel="email",
            reason="not reached by phone or SMS",
            outcome=outcome,
        )
    )
    target.attempts += 1
    target.state, target.last_outcome = "done", ("email_sent" if outcome == "sending" else "unreachable")
    session.flush()
    return address if outcome == "sending" else ""
