"""The SQL of preview dialing: a patient reserved for one free agent, called or skipped by them, or given
back to the list when the reservation runs out; the outcome of the call read back from the ACD's rows.

Functions take an open Session; the caller commits. A reservation is a campaign_previews row (unique per
agent and per target) together with the target's compare-and-set move waiting -> previewing, so two
processes never reserve one agent twice or one patient for two agents, and a restart finds every
reservation where it was.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from ccctl.acd import callbacks
from ccctl.acd import model as acd_model
from ccctl.acd import store as acd_store
from ccctl.campaigns import store
from ccctl.campaigns.model import SKIP_REASONS, CampaignSpec, DueTarget, outcome_of
from ccctl.campaigns.spec import load_spec
from ccctl.errors import UserError
from ccctl.records.models.acd import Agent, QueueEntry, QueueEvent
from ccctl.records.models.campaigns import Campaign, CampaignPreview, CampaignTarget, ContactAttempt
from ccctl.records.models.patients import Patient
from ccctl.records.models.web import CallWrapUp

RESERVED, CALLING = "reserved", "calling"
# the note on a preview call's callback closed after a failed dialling: the campaign calls again itself
CLOSED_NOTE = "campaign preview call not answered: the campaign retries by its own rules"


class PreviewError(UserError):
    """A preview action that cannot be done; names the campaign target, never the patient."""


@dataclass(frozen=True)
class PreviewCall:
    """What placing a previewed patient's call needs: whom (patient, number), for whom, which attempt."""

    campaign: str
    target_id: int
    patient_id: int
    number: str
    agent: str
    attempt_id: int


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def free_agents_with(session: Session, skill: str, now: datetime) -> list[str]:
    """The agents free in the ACD now with `skill` and room for a call, longest idle first."""
    agents = [
        agent
        for agent in acd_store.free_agents(session, now, channels=(acd_model.VOICE,))
        if skill in agent.skills and agent.capacity.get(acd_model.VOICE, 1) > 0
    ]
    oldest = datetime.min.replace(tzinfo=UTC)
    agents.sort(key=lambda a: (_aware(a.idle_since) if a.idle_since else oldest, a.name))
    return [agent.name for agent in agents]


def reserved_agents(session: Session) -> set[str]:
    """Agents holding a preview of any campaign (reserved or being called): none gets a second one."""
    return set(session.scalars(select(CampaignPreview.agent)))


def previews_held(session: Session, campaign_id: int) -> int:
    return int(session.scalar(select(func.count()).where(CampaignPreview.campaign_id == campaign_id)) or 0)


def reserve(session: Session, campaign_id: int, due: DueTarget, agent: str, now: datetime, seconds: int) -> bool:
    """Reserve the patient for the agent: False when another process took the target first. The flush raises
    IntegrityError when the agent got a reservation elsewhere meanwhile (the caller rolls back)."""
    taken = session.execute(
        update(CampaignTarget)
        .where(
            CampaignTarget.id == due.id,
            CampaignTarget.state == "waiting",
            CampaignTarget.attempts == due.attempts,
        )
        .values(state="previewing", claimed_at=now)
    )
    if taken.rowcount != 1:
        return False
    session.add(
        CampaignPreview(
            campaign_id=campaign_id,
            target_id=due.id,
            agent=agent,
            state=RESERVED,
            reserved_at=now,
            expires_at=now + timedelta(seconds=seconds),
        )
    )
    session.flush()
    return True


def _give_back(session: Session, preview: CampaignPreview, now: datetime) -> None:
    """The reservation ends unused: the patient is due again, after those already waiting."""
    session.execute(
        update(CampaignTarget)
        .where(CampaignTarget.id == preview.target_id, CampaignTarget.state == "previewing")
        .values(state="waiting", next_attempt_at=now)
    )
    session.delete(preview)


def give_back(session: Session, target_id: int, now: datetime) -> None:
    """A reservation whose call could not be placed goes back to the list."""
    preview = session.scalars(
        select(CampaignPreview).where(CampaignPreview.target_id == target_id, CampaignPreview.state == RESERVED)
    ).first()
    if preview is not None:
        _give_back(session, preview, now)
        session.flush()


def release(session: Session, spec: CampaignSpec, campaign_id: int, now: datetime) -> list[CampaignPreview]:
    """Reservations whose time ran out, or whose agent is no longer available: back to the list. With
    `preview_timeout: dial` the timed-out ones whose agent is still there are returned to be called instead."""
    rows = session.scalars(
        select(CampaignPreview).where(CampaignPreview.campaign_id == campaign_id, CampaignPreview.state == RESERVED)
    ).all()
    if not rows:
        return []
    present = set(
        session.scalars(select(Agent.name).where(Agent.name.in_([r.agent for r in rows]), Agent.status == "available"))
    )
    to_dial = []
    for preview in rows:
        expired = _aware(preview.expires_at) <= now
        if preview.agent in present and not expired:
            continue
        if preview.agent in present and spec.preview_timeout == "dial":
            to_dial.append(preview)
        else:
            _give_back(session, preview, now)
    session.flush()
    return to_dial


def start_call(session: Session, spec: CampaignSpec, agent: str, target_id: int, now: datetime) -> PreviewCall:
    """The agent pressed Call (or their reservation ran out with `preview_timeout: dial`): the reservation
    becomes a call attempt, taken once (compare-and-set on the reservation's state)."""
    taken = session.execute(
        update(CampaignPreview)
        .where(
            CampaignPreview.target_id == target_id,
            CampaignPreview.agent == agent,
            CampaignPreview.state == RESERVED,
        )
        .values(state=CALLING)
    )
    if taken.rowcount != 1:
        raise PreviewError(f"campaign target {target_id} is not reserved for {agent} (any more)")
    target = session.get(CampaignTarget, target_id)
    patient = session.get(Patient, target.patient_id)
    number = store.phone_of(patient) if patient is not None else ""
    if not number:
        raise PreviewError(f"campaign target {target_id}: the patient has no phone number")
    target.claimed_at = now
    reason = f"preview call {target.voice_attempts + 1} of {spec.voice_attempts} by {agent}"
    attempt = _voice_attempt(session, target, reason, "dialing", now)
    preview = session.scalars(select(CampaignPreview).where(CampaignPreview.target_id == target_id)).one()
    preview.attempt_id = attempt.id
    return PreviewCall(spec.name, target.id, target.patient_id, number, agent, attempt.id)


def call_placed(session: Session, target_id: int, entry_id: int, call_uuid: str) -> None:
    """The ACD's agent-pinned entry for the call: its outcome is read from there."""
    preview = session.scalars(select(CampaignPreview).where(CampaignPreview.target_id == target_id)).one()
    preview.entry_id = entry_id
    if preview.attempt_id is not None:
        session.execute(
            update(ContactAttempt).where(ContactAttempt.id == preview.attempt_id).values(call_uuid=call_uuid[:64])
        )
    session.flush()


def skip(
    session: Session, spec: CampaignSpec, agent: str, target_id: int, reason: str, now: datetime
) -> ContactAttempt:
    """The agent skipped the patient: an attempt with the reason, and the next one after retry.skipped (or
    the SMS once the voice attempts are used)."""
    if reason not in SKIP_REASONS:
        raise PreviewError(f"skip reason must be one of {', '.join(SKIP_REASONS)}, got {reason!r}")
    gone = session.execute(
        delete(CampaignPreview).where(
            CampaignPreview.target_id == target_id,
            CampaignPreview.agent == agent,
            CampaignPreview.state == RESERVED,
        )
    )
    if gone.rowcount != 1:
        raise PreviewError(f"campaign target {target_id} is not reserved for {agent} (any more)")
    target = session.get(CampaignTarget, target_id)
    attempt = _voice_attempt(session, target, f"skipped by {agent}: {reason}", "skipped", now)
    store.call_failed(session, spec, target.id, attempt.id, "skipped", "", now)
    return attempt


def resolve_calls(session: Session, spec: CampaignSpec, campaign_id: int, now: datetime) -> int:
    """Preview calls whose end the ACD's rows tell: the agent's wrap-up code is the attempt's outcome (a
    `not_reached` code retries after retry.no_answer); answered without a wrap-up within preview_seconds of
    the end: "answered"; never answered: "no_answer". The agent is then free for their next patient."""
    rows = session.scalars(
        select(CampaignPreview).where(
            CampaignPreview.campaign_id == campaign_id,
            CampaignPreview.state == CALLING,
            CampaignPreview.entry_id.is_not(None),
        )
    ).all()
    settled = 0
    for preview in rows:
        outcome = _call_outcome(session, preview, spec, now)
        if outcome is None:
            continue
        code, reached = outcome
        if reached:
            store.call_outcome(session, preview.target_id, _call_uuid(session, preview), code, now)
        elif preview.attempt_id is not None:
            # a wrap-up code has no spacing of its own under retry: it waits as an unanswered call
            spacing = "" if code in spec.retry_minutes else "no_answer"
            store.call_failed(session, spec, preview.target_id, preview.attempt_id, code, "", now, spacing)
        session.delete(preview)
        settled += 1
    session.flush()
    return settled


def _call_uuid(session: Session, preview: CampaignPreview) -> str:
    entry = session.get(QueueEntry, preview.entry_id)
    return entry.call_uuid if entry is not None else ""


def _call_outcome(
    session: Session, preview: CampaignPreview, spec: CampaignSpec, now: datetime
) -> tuple[str, bool] | None:
    """(outcome, whether the patient was reached), or None while the call or its wrap-up is still going on."""
    entry = session.get(QueueEntry, preview.entry_id)
    if entry is None:
        return "failed", False
    kinds = dict(
        session.execute(
            select(QueueEvent.kind, func.max(QueueEvent.at))
            .where(QueueEvent.call_uuid == entry.call_uuid)
            .group_by(QueueEvent.kind)
        ).all()
    )
    if "answered" not in kinds:
        if "callback_failed" in kinds:
            return _failed_call(session, entry, spec)
        if entry.status in (acd_model.WAITING, acd_model.OFFERED, acd_model.BRIDGED):
            return None  # still being dialled
        return "no_answer", False
    code = session.scalars(
        select(CallWrapUp.code)
        .where(CallWrapUp.call_uuid == entry.call_uuid, CallWrapUp.agent == preview.agent)
        .order_by(CallWrapUp.id.desc())
    ).first()
    if code:
        return code[:32], code not in spec.not_reached_codes
    ended = kinds.get("ended")
    if ended is not None and _aware(ended) + timedelta(seconds=spec.preview_seconds) <= now:
        return "answered", True
    return None


def patient_of(session: Session, preview: CampaignPreview) -> int:
    return session.get(CampaignTarget, preview.target_id).patient_id


def _failed_call(session: Session, entry: QueueEntry, spec: CampaignSpec) -> tuple[str, bool] | None:
    """The ACD's dialling failed (busy, no answer): its callback is closed, for the campaign retries by its own
    rules rather than the worklist's; None while the ACD is dialling it again (the next tick looks again)."""
    cause = session.scalars(
        select(QueueEvent.detail)
        .where(QueueEvent.call_uuid == entry.call_uuid, QueueEvent.kind == "callback_failed")
        .order_by(QueueEvent.id.desc())
    ).first()
    if entry.callback_number:
        try:
            callbacks.close_in(session, entry.id, "cancelled", CLOSED_NOTE, f"campaign:{spec.name}", "campaign")
        except callbacks.CallbackError:
            return None
    return outcome_of((cause or "").removeprefix("-ERR")), False


def agent_preview(session: Session, agent: str, now: datetime) -> dict | None:
    """The agent's reserved patient as the workstation shows it: the campaign, the attempt to come, why the
    patient is called, seconds left; the patient only by id (their record is read, audited, on its own)."""
    preview = session.scalars(select(CampaignPreview).where(CampaignPreview.agent == agent)).first()
    if preview is None:
        return None
    target = session.get(CampaignTarget, preview.target_id)
    campaign = session.get(Campaign, preview.campaign_id)
    if target is None or campaign is None:
        return None
    spec = load_spec(campaign.source_path, campaign.source_text)
    attempt = target.voice_attempts + (1 if preview.state == RESERVED else 0)
    return {
        "target_id": target.id,
        "patient_id": target.patient_id,
        "campaign": campaign.name,
        "kind": campaign.kind,
        "why": spec.description,
        "attempt": attempt,
        "attempts": spec.voice_attempts,
        "state": preview.state,
        "seconds_left": max(0, round((_aware(preview.expires_at) - now).total_seconds())),
    }


def campaign_previews(session: Session, campaign_id: int, now: datetime) -> list[dict]:
    """Every preview of the campaign (for ccctl campaigns show): agent, patient code, state, seconds left."""
    rows = session.execute(
        select(CampaignPreview, Patient.patient_code)
        .join(CampaignTarget, CampaignTarget.id == CampaignPreview.target_id)
        .join(Patient, Patient.id == CampaignTarget.patient_id)
        .where(CampaignPreview.campaign_id == campaign_id)
        .order_by(CampaignPreview.reserved_at, CampaignPreview.id)
    ).all()
    return [
        {
            "agent": preview.agent,
            "patient_code": code,
            "state": preview.state,
            "reserved_at": preview.reserved_at,
            "seconds_left": max(0, round((_aware(preview.expires_at) - now).total_seconds())),
        }
        for preview, code in rows
    ]


def _voice_attempt(
    session: Session, target: CampaignTarget, reason: str, outcome: str, now: datetime
) -> ContactAttempt:
    """One more voice attempt on the target (its counters move), written with its id."""
    target.attempts += 1
    target.voice_attempts += 1
    attempt = ContactAttempt(
        campaign_id=target.campaign_id,
        target_id=target.id,
        patient_id=target.patient_id,
        channel="voice",
        reason=reason[:128],
        outcome=outcome,
        started_at=now,
    )
    session.add(attempt)
    session.flush()
    return attempt
