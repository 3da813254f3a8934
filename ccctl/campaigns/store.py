"""The SQL of campaigns: targets from their list, due targets, the compare-and-set claim, outcomes and retries.

Functions take an open Session; the caller commits. A target moves waiting -> dialing (claimed) -> talking
(answered) -> done, or back to waiting with its next attempt time, or on to the SMS and e-mail steps.
"""

from __future__ import annotations

import csv
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, selectinload

from ccctl.acd import model as acd_model
from ccctl.acd import store as acd_store
from ccctl.campaigns.model import AgentLoad, CampaignSpec, DueTarget
from ccctl.errors import UserError
from ccctl.records.models.acd import QueueEntry
from ccctl.records.models.appointments import ACTIVE_STATUSES, Appointment, Slot
from ccctl.records.models.campaigns import Campaign, CampaignTarget, ContactAttempt, ContactConsent
from ccctl.records.models.channels import SmsOptOut
from ccctl.records.models.patients import Patient

ZONE_FIELD = "time_zone"  # a patient's own zone, in their custom fields
EMAIL_FIELD = "email"
IN_PROGRESS = ("dialing", "talking")


class CampaignError(UserError):
    """A campaign command cannot be done; one line naming the campaign or file."""


def zone_of(patient: Patient, default: ZoneInfo) -> ZoneInfo:
    name = (patient.custom_fields or {}).get(ZONE_FIELD)
    if not name:
        return default
    try:
        return ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError):
        return default  # a mistyped zone: the site's, rather than calling at an unknown hour


def get_campaign(session: Session, name: str) -> Campaign:
    campaign = session.scalars(select(Campaign).where(Campaign.name == name)).first()
    if campaign is None:
        raise CampaignError(f"no campaign named '{name}' (see ccctl campaigns list)")
    return campaign


def target_patients(session: Session, spec: CampaignSpec, zone: ZoneInfo) -> list[tuple[int, int | None]]:
    """(patient id, appointment id or None) for everyone on the campaign's list, each patient once."""
    targets = spec.targets
    if targets.appointments_from is not None:
        start = datetime.combine(targets.appointments_from, time(), zone)
        end = datetime.combine(targets.appointments_to + timedelta(days=1), time(), zone)
        rows = session.execute(
            select(Appointment.patient_id, Appointment.id)
            .join(Slot, Slot.id == Appointment.slot_id)
            .where(Appointment.status.in_(ACTIVE_STATUSES), Slot.starts_at >= start, Slot.starts_at < end)
            .order_by(Slot.starts_at, Appointment.id)
        ).all()
        return _first_per_patient([(p, a) for p, a in rows])
    if targets.csv_path:
        return [(pid, None) for pid in _csv_patients(session, targets.csv_path)]
    query = select(Patient).order_by(Patient.id)
    if targets.specialty:
        query = query.where(Patient.specialty == targets.specialty)
    found = []
    for patient in session.scalars(query):
        fields = patient.custom_fields or {}
        if all(str(fields.get(key, "")) == value for key, value in targets.fields.items()):
            found.append((patient.id, None))
    return found


def _first_per_patient(rows: list[tuple[int, int | None]]) -> list[tuple[int, int | None]]:
    seen: dict[int, int | None] = {}
    for patient_id, appointment_id in rows:
        seen.setdefault(patient_id, appointment_id)
    return list(seen.items())


def _csv_patients(session: Session, path: str) -> list[int]:
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            rows = list(csv.reader(handle))
    except OSError as exc:
        raise CampaignError(f"{path}: cannot read the CSV ({exc.strerror})") from None
    start = 1 if rows and rows[0] and rows[0][0].strip().lower() == "patient_code" else 0
    ids: list[int] = []
    for number, row in enumerate(rows[start:], start=start + 1):
        code = row[0].strip() if row else ""
        if not code:
            continue
        patient_id = session.scalars(select(Patient.id).where(Patient.patient_code == code)).first()
        if patient_id is None:
            raise CampaignError(f"{path}:{number}: no patient with this code")
        if patient_id not in ids:
            ids.append(patient_id)
    return ids


def add_campaign(
    session: Session, spec: CampaignSpec, path: str, text: str, by: str, zone: ZoneInfo, now: datetime
) -> Campaign:
    """A draft campaign and one waiting target per patient on its list (due at once when started)."""
    if session.scalars(select(Campaign.id).where(Campaign.name == spec.name)).first() is not None:
        raise CampaignError(f"a campaign named '{spec.name}' exists already")
    campaign = Campaign(
        name=spec.name,
        kind=spec.kind,
        source_path=path,
        source_text=text,
        state="draft",
        daily_cap=spec.caps.daily,
        max_concurrent=spec.caps.concurrent,
        calls_per_second=spec.caps.per_second,
        created_by=by,
    )
    session.add(campaign)
    session.flush()
    for patient_id, appointment_id in target_patients(session, spec, zone):
        session.add(
            CampaignTarget(
                campaign_id=campaign.id, patient_id=patient_id, appointment_id=appointment_id, next_attempt_at=now
            )
        )
    session.flush()
    return campaign


def set_state(session: Session, name: str, state: str) -> Campaign:
    campaign = get_campaign(session, name)
    if campaign.state == "stopped" and state != "stopped":
        raise CampaignError(f"campaign '{name}' is stopped for good; add a new one to call again")
    campaign.state = state
    session.flush()
    return campaign


def running_campaigns(session: Session) -> list[Campaign]:
    return list(session.scalars(select(Campaign).where(Campaign.state == "running").order_by(Campaign.id)))


def voice_opted_out(session: Session, patient_ids: list[int]) -> set[int]:
    rows = session.scalars(
        select(ContactConsent.patient_id).where(
            ContactConsent.patient_id.in_(patient_ids), ContactConsent.channel == "voice"
        )
    )
    return set(rows)


def phone_of(patient: Patient, kinds: tuple[str, ...] = ("mobile", "home", "work")) -> str:
    """The number to call: a mobile first, else the first one recorded."""
    for kind in kinds:
        for phone in patient.phones:
            if phone.kind == kind:
                return phone.number
    return patient.phones[0].number if patient.phones else ""


def due_targets(session: Session, campaign_id: int, now: datetime, limit: int, zone: ZoneInfo) -> list[DueTarget]:
    """Waiting voice targets whose next attempt is due, soonest first, with their number, zone and consent."""
    rows = session.execute(
        select(CampaignTarget, Patient)
        .join(Patient, Patient.id == CampaignTarget.patient_id)
        .where(
            CampaignTarget.campaign_id == campaign_id,
            CampaignTarget.state == "waiting",
            CampaignTarget.channel == "voice",
            CampaignTarget.next_attempt_at <= now,
        )
        .order_by(CampaignTarget.next_attempt_at, CampaignTarget.id)
        .limit(limit)
        .options(selectinload(Patient.phones))  # one query for every phone, not one per patient
    ).all()
    opted_out = voice_opted_out(session, [patient.id for _, patient in rows])
    return [
        DueTarget(
            id=target.id,
            patient_id=patient.id,
            attempts=target.attempts,
            number=phone_of(patient),
            zone=zone_of(patient, zone),
            voice_opted_out=patient.id in opted_out,
        )
        for target, patient in rows
    ]


def skip_unreachable(session: Session, campaign_id: int, targets: list[DueTarget]) -> int:
    """Targets no voice call may reach (opted out, no number) move to their next channel; how many."""
    moved = 0
    for due in targets:
        if due.number and not due.voice_opted_out:
            continue
        reason = "voice opted out" if due.voice_opted_out else "no phone number"
        target = session.get(CampaignTarget, due.id)
        attempt = ContactAttempt(
            campaign_id=campaign_id,
            target_id=due.id,
            patient_id=due.patient_id,
            channel="voice",
            reason=reason,
            outcome="opted_out" if due.voice_opted_out else "no_number",
        )
        session.add(attempt)
        target.channel, target.state, target.last_outcome = "sms", "waiting", attempt.outcome
        moved += 1
    session.flush()
    return moved


def defer(session: Session, targets: list[DueTarget], until: datetime) -> None:
    """Due targets the pacer may not call now (outside their hours) are read again only from `until`:
    otherwise, soonest due first, they would fill every tick's read and starve the patients who may be called."""
    ids = [target.id for target in targets]
    if ids:
        session.execute(
            update(CampaignTarget)
            .where(CampaignTarget.id.in_(ids), CampaignTarget.state == "waiting")
            .values(next_attempt_at=until)
        )


def load(session: Session, campaign_id: int, day_start: datetime) -> tuple[int, int]:
    """(calls in progress, voice attempts placed since day_start) for the pacer."""
    in_progress = session.scalar(
        select(func.count())
        .select_from(CampaignTarget)
        .where(CampaignTarget.campaign_id == campaign_id, CampaignTarget.state.in_(IN_PROGRESS))
    )
    placed = session.scalar(
        select(func.count())
        .select_from(ContactAttempt)
        .where(
            ContactAttempt.campaign_id == campaign_id,
            ContactAttempt.channel == "voice",
            ContactAttempt.call_uuid != "",
            ContactAttempt.started_at >= day_start,
        )
    )
    return int(in_progress or 0), int(placed or 0)


def claim(session: Session, due: DueTarget, campaign_id: int, now: datetime, attempts_allowed: int) -> int | None:
    """Take the target for one call (compare-and-set on its state and attempt count); the attempt's id.

    None when another process (or this one before a restart) took it first: it is not dialled again.
    """
    taken = session.execute(
        update(CampaignTarget)
        .where(
            CampaignTarget.id == due.id,
            CampaignTarget.state == "waiting",
            CampaignTarget.attempts == due.attempts,
        )
        .values(
            state="dialing",
            attempts=CampaignTarget.attempts + 1,
            voice_attempts=CampaignTarget.voice_attempts + 1,
            claimed_at=now,
        )
    )
    if taken.rowcount != 1:
        return None
    number = due.attempts + 1
    attempt = ContactAttempt(
        campaign_id=campaign_id,
        target_id=due.id,
        patient_id=due.patient_id,
        channel="voice",
        reason=f"call {number} of {attempts_allowed}",
        outcome="dialing",
        started_at=now,
    )
    session.add(attempt)
    session.flush()
    return attempt.id


def call_placed(session: Session, attempt_id: int, call_uuid: str) -> None:
    session.execute(update(ContactAttempt).where(ContactAttempt.id == attempt_id).values(call_uuid=call_uuid[:64]))


def call_answered(session: Session, target_id: int, call_uuid: str) -> CampaignTarget | None:
    """The patient answered: the attempt is "answered", the target reached (done once the flow ends)."""
    target = session.get(CampaignTarget, target_id)
    if target is None:
        return None
    attempt = _attempt_of(session, target_id, call_uuid)
    if attempt is not None:
        attempt.outcome, attempt.call_uuid = "answered", call_uuid[:64]
    target.state, target.last_outcome = "talking", "answered"
    session.flush()
    return target


def call_outcome(session: Session, target_id: int, call_uuid: str, outcome: str, now: datetime) -> None:
    """What the patient chose (confirmed, cancelled, agent...) or "answered"; the target is done."""
    target = session.get(CampaignTarget, target_id)
    if target is None:
        return
    attempt = _attempt_of(session, target_id, call_uuid)
    if attempt is not None:
        attempt.outcome, attempt.ended_at = outcome, now
    target.state, target.last_outcome = "done", outcome
    session.flush()


def _attempt_of(session: Session, target_id: int, call_uuid: str) -> ContactAttempt | None:
    query = select(ContactAttempt).where(ContactAttempt.target_id == target_id, ContactAttempt.channel == "voice")
    by_uuid = session.scalars(query.where(ContactAttempt.call_uuid == call_uuid)).first()
    return by_uuid or session.scalars(query.order_by(ContactAttempt.id.desc())).first()


def call_failed(
    session: Session,
    spec: CampaignSpec,
    target_id: int,
    attempt_id: int,
    outcome: str,
    cause: str,
    now: datetime,
    spacing: str = "",
) -> None:
    """Not reached: retry after the outcome's spacing (or that of `spacing`, an outcome of retry:), or go on
    to the SMS once the voice attempts are used."""
    target = session.get(CampaignTarget, target_id)
    attempt = session.get(ContactAttempt, attempt_id)
    if attempt is not None:
        attempt.outcome, attempt.hangup_cause, attempt.ended_at = outcome, cause[:64], now
    if target is None:
        return
    target.last_outcome = outcome
    if target.voice_attempts < spec.voice_attempts:
        target.state = "waiting"
        target.next_attempt_at = now + timedelta(minutes=spec.retry_minutes.get(spacing or outcome, 60))
    else:
        target.state, target.channel, target.next_attempt_at = "waiting", "sms", now
    session.flush()


def agent_load(session: Session, campaign_id: int, skill: str, now: datetime) -> AgentLoad:
    """What progressive pacing needs, from the ACD's rows: free agents with `skill` and room for a call, this
    campaign's calls ringing, its answered patients not yet with an agent, its answered and abandoned calls."""
    free = sum(
        1
        for agent in acd_store.free_agents(session, now, channels=(acd_model.VOICE,))
        if skill in agent.skills and agent.capacity.get(acd_model.VOICE, 1) > 0
    )
    ringing = session.scalar(
        select(func.count()).where(CampaignTarget.campaign_id == campaign_id, CampaignTarget.state == "dialing")
    )
    calls = select(ContactAttempt.call_uuid).where(
        ContactAttempt.campaign_id == campaign_id, ContactAttempt.channel == "voice", ContactAttempt.call_uuid != ""
    )
    talking = session.scalar(
        select(func.count()).where(CampaignTarget.campaign_id == campaign_id, CampaignTarget.state == "talking")
    )
    entries = dict(
        session.execute(
            select(QueueEntry.status, func.count()).where(QueueEntry.call_uuid.in_(calls)).group_by(QueueEntry.status)
        ).all()
    )
    in_line = entries.get(acd_model.WAITING, 0) + entries.get(acd_model.OFFERED, 0)
    with_agent = entries.get(acd_model.BRIDGED, 0)
    # a talking target is waiting for an agent until its queue entry is bridged (or it just answered)
    waiting = max(in_line, int(talking or 0) - with_agent)
    return AgentLoad(
        free_agents=free,
        ringing=int(ringing or 0),
        waiting=waiting,
        answered=sum(entries.values()),
        abandoned=entries.get("abandoned", 0),
    )


def target_of_call(session: Session, call_uuid: str) -> CampaignTarget | None:
    """The target a campaign call was placed for, by the call's uuid (the originate's +OK reply)."""
    attempt = session.scalars(
        select(ContactAttempt).where(ContactAttempt.call_uuid == call_uuid[:64], ContactAttempt.channel == "voice")
    ).first()
    return session.get(CampaignTarget, attempt.target_id) if attempt is not None and attempt.target_id else None


def machine_answered(
    session: Session, spec: CampaignSpec, target: CampaignTarget, call_uuid: str, now: datetime
) -> None:
    """An answering machine took the call: the attempt's outcome is "machine". A left message ends the
    target; a hang-up waits the campaign's machine spacing like an unanswered call (then the SMS)."""
    attempt = _attempt_of(session, target.id, call_uuid)
    if spec.machine == "leave_message":
        if attempt is not None:
            attempt.outcome, attempt.ended_at = "machine", now
        target.state, target.last_outcome = "done", "machine"
        session.flush()
    elif attempt is not None:
        call_failed(session, spec, target.id, attempt.id, "machine", "", now)


def release_stale(session: Session, campaign_id: int, now: datetime, older_than: timedelta, voice_attempts: int) -> int:
    """Targets left dialing or talking by a process that died: failed attempts, never called again at once
    (they may have been reached, so the next call waits older_than), and not called at all once the
    campaign's voice_attempts are used: they go on to the SMS as after a failed last call."""
    rows = session.scalars(
        select(CampaignTarget).where(
            CampaignTarget.campaign_id == campaign_id,
            CampaignTarget.state.in_(IN_PROGRESS),
            CampaignTarget.claimed_at < now - older_than,
        )
    ).all()
    for target in rows:
        target.state, target.last_outcome = "waiting", "failed"
        if target.voice_attempts < voice_attempts:
            target.next_attempt_at = now + older_than
        else:
            target.channel, target.next_attempt_at = "sms", now
    session.flush()
    return len(rows)


def opt_out(session: Session, patient_id: int, channel: str, source: str) -> None:
    """Never contact this patient on this channel again (SMS: the number's sms_opt_outs row, as STOP does)."""
    if channel == "sms":
        patient = session.get(Patient, patient_id)
        for phone in patient.phones if patient is not None else []:
            if session.scalars(select(SmsOptOut.id).where(SmsOptOut.number == phone.number)).first() is None:
                session.add(SmsOptOut(number=phone.number, keyword=source[:32]))
    elif (
        session.scalars(
            select(ContactConsent.id).where(ContactConsent.patient_id == patient_id, ContactConsent.channel == channel)
        ).first()
        is None
    ):
        session.add(ContactConsent(patient_id=patient_id, channel=channel, source=source[:32]))
    session.flush()


def report(session: Session, campaign: Campaign) -> dict:
    """Targets by state and last outcome, attempts by channel and outcome."""
    targets = session.execute(
        select(CampaignTarget.state, CampaignTarget.last_outcome, func.count())
        .where(CampaignTarget.campaign_id == campaign.id)
        .group_by(CampaignTarget.state, CampaignTarget.last_outcome)
    ).all()
    attempts = session.execute(
        select(ContactAttempt.channel, ContactAttempt.outcome, func.count())
        .where(ContactAttempt.campaign_id == campaign.id)
        .group_by(ContactAttempt.channel, ContactAttempt.outcome)
    ).all()
    return {
        "campaign": campaign.name,
        "state": campaign.state,
        "targets": [{"state": s, "last_outcome": o, "count": n} for s, o, n in sorted(targets)],
        "attempts": [{"channel": c, "outcome": o, "count": n} for c, o, n in sorted(attempts)],
    }


def day_start(now: datetime, zone: ZoneInfo) -> datetime:
    local: date = now.astimezone(zone).date()
    return datetime.combine(local, time(), zone)
