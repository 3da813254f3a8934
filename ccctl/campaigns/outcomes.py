"""Campaign outcomes as the rest of the hospital reads them: the contacts on a patient's record, one export
row per target for the hospital's systems (`ccctl campaigns export`, the webhook's body).

What leaves here names the patient by their code and the hospital's identifier, never by name or number.
"""

from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from ccctl.records.models.appointments import Appointment
from ccctl.records.models.campaigns import Campaign, CampaignTarget, ContactAttempt
from ccctl.records.models.patients import Patient

# a target's last outcome once it is done -> what became of the patient: reached (a person answered the
# call, whatever they chose), notified (a message left on a machine, an SMS queued, an e-mail sent), or not
NOTIFIED = {"machine": "notified", "sms_queued": "notified", "email_sent": "notified", "unreachable": "unreachable"}
APPOINTMENT_CHANGES = ("confirmed", "cancelled")
EXPORT_COLUMNS = (
    "patient_code",
    "hospital_id",
    "state",
    "attempts",
    "last_outcome",
    "result",
    "channel",
    "appointment_id",
    "appointment_external_id",
    "appointment_change",
)
HISTORY_LIMIT = 10


def result_of(state: str, last_outcome: str) -> str:
    """reached, notified, unreachable, or in_progress while the target is not done."""
    if state != "done":
        return "in_progress"
    return NOTIFIED.get(last_outcome, "reached")


def appointment_change(target: CampaignTarget) -> str:
    """confirmed or cancelled when the patient changed the visit the reminder was about, else ""."""
    return target.last_outcome if target.appointment_id and target.last_outcome in APPOINTMENT_CHANGES else ""


def _last_channels(session: Session, target_ids: list[int]) -> dict[int, str]:
    last: dict[int, str] = {}
    query = select(ContactAttempt.target_id, ContactAttempt.channel).where(ContactAttempt.target_id.in_(target_ids))
    for target_id, channel in session.execute(query.order_by(ContactAttempt.id)):
        last[target_id] = channel
    return last


def target_rows(session: Session, campaign: Campaign, target_ids: list[int] | None = None) -> list[dict]:
    """One dict per target of the campaign (EXPORT_COLUMNS), in the order they were listed."""
    query = (
        select(CampaignTarget, Patient.patient_code, Patient.hospital_id, Appointment.external_id)
        .join(Patient, Patient.id == CampaignTarget.patient_id)
        .outerjoin(Appointment, Appointment.id == CampaignTarget.appointment_id)
        .where(CampaignTarget.campaign_id == campaign.id)
        .order_by(CampaignTarget.id)
    )
    if target_ids is not None:
        query = query.where(CampaignTarget.id.in_(target_ids))
    found = session.execute(query).all()
    channels = _last_channels(session, [target.id for target, *_ in found])
    return [
        {
            "target_id": target.id,
            "patient_code": code,
            "hospital_id": hospital_id or "",
            "state": target.state,
            "attempts": target.attempts,
            "last_outcome": target.last_outcome,
            "result": result_of(target.state, target.last_outcome),
            "channel": channels.get(target.id, ""),
            "appointment_id": target.appointment_id or "",
            "appointment_external_id": external_id or "",
            "appointment_change": appointment_change(target),
        }
        for target, code, hospital_id, external_id in found
    ]


def write_csv(rows: list[dict], path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=EXPORT_COLUMNS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)


def patient_results(session: Session, patient_id: int, limit: int = HISTORY_LIMIT) -> list[dict]:
    """What each campaign came to for the patient, latest campaign first: reached, notified, unreachable or
    in_progress, the last outcome and the visit change."""
    rows = session.execute(
        select(CampaignTarget, Campaign.name)
        .join(Campaign, Campaign.id == CampaignTarget.campaign_id)
        .where(CampaignTarget.patient_id == patient_id)
        .order_by(CampaignTarget.id.desc())
        .limit(limit)
    ).all()
    return [
        {
            "campaign": name,
            "result": result_of(target.state, target.last_outcome),
            "last_outcome": target.last_outcome,
            "attempts": target.attempts,
            "appointment_change": appointment_change(target),
        }
        for target, name in rows
    ]


def results_lines(results: list[dict]) -> list[str]:
    """`campaign reminders: reached after 1 contacts, visit confirmed`."""
    lines = []
    for item in results:
        change = f", visit {item['appointment_change']}" if item["appointment_change"] else ""
        lines.append(f"campaign {item['campaign']}: {item['result']} after {item['attempts']} contacts{change}")
    return lines


def patient_contacts(session: Session, patient_id: int, limit: int = HISTORY_LIMIT) -> list[dict]:
    """The patient's latest campaign contacts, newest first: campaign, channel, when, why, what came of it."""
    rows = session.execute(
        select(ContactAttempt, Campaign.name, Campaign.kind)
        .join(Campaign, Campaign.id == ContactAttempt.campaign_id)
        .where(ContactAttempt.patient_id == patient_id)
        .order_by(ContactAttempt.started_at.desc(), ContactAttempt.id.desc())
        .limit(limit)
    ).all()
    return [
        {
            "campaign": name,
            "kind": kind,
            "channel": attempt.channel,
            "at": attempt.started_at,
            "reason": attempt.reason,
            "outcome": attempt.outcome,
        }
        for attempt, name, kind in rows
    ]


def contacts_lines(contacts: list[dict]) -> list[str]:
    """`campaign reminders (reminder) 2026-12-06 10:00 voice: confirmed (call 1 of 3)`."""
    lines = []
    for item in contacts:
        when = item["at"].strftime("%Y-%m-%d %H:%M") if isinstance(item["at"], datetime) else str(item["at"])
        why = f" ({item['reason']})" if item["reason"] else ""
        lines.append(f"campaign {item['campaign']} ({item['kind']}) {when} {item['channel']}: {item['outcome']}{why}")
    return lines
