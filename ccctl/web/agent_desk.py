"""What an agent sees of themself on the workstation: their own ACD state with the time in it (the call
timer while on a call), and their last calls with queue, patient code, duration and wrap-up code.

Read from the ACD's tables (agents, queue_events) and the wrap-ups; the agent sees only their own rows.
The last calls name patients by code, so each read of a list that has any is audited.
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, g, jsonify
from sqlalchemy import select
from sqlalchemy.orm import Session

from ccctl.acd.store import shown_state
from ccctl.records.audit import record_audit
from ccctl.records.models.acd import Agent, QueueEntry, QueueEvent
from ccctl.records.models.patients import Patient
from ccctl.records.models.web import CallWrapUp
from ccctl.web.context import audit_source, require_role, web

blueprint = Blueprint("agent_desk", __name__)
LAST_CALLS = 10


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def own_state(db: Session, agent_name: str, now: datetime) -> dict:
    """{status, state, seconds_in_state, queue}: queue is the queue of the call the agent holds, else ""."""
    agent = db.scalars(select(Agent).where(Agent.name == agent_name)).first()
    if agent is None:
        return {"status": "", "state": "", "seconds_in_state": 0, "queue": ""}
    since = _aware(agent.state_since)
    held = db.scalars(select(QueueEntry.queue).where(QueueEntry.agent_id == agent.id, QueueEntry.status == "bridged"))
    return {
        "status": agent.status,
        "state": shown_state(agent, now),
        "seconds_in_state": round(max(0.0, (now - since).total_seconds())) if since else 0,
        "queue": held.first() or "",
    }


def last_calls(db: Session, agent_name: str, limit: int = LAST_CALLS) -> list[dict]:
    """The agent's last answered calls, newest first: when, queue, patient code, duration (s), wrap-up code."""
    agent_id = db.scalars(select(Agent.id).where(Agent.name == agent_name)).first()
    if agent_id is None:
        return []
    answered = db.scalars(
        select(QueueEvent)
        .where(QueueEvent.agent_id == agent_id, QueueEvent.kind == "answered")
        .order_by(QueueEvent.at.desc(), QueueEvent.id.desc())
        .limit(limit)
    ).all()
    uuids = [e.call_uuid for e in answered]
    ended = {
        e.call_uuid: e.at
        for e in db.scalars(select(QueueEvent).where(QueueEvent.call_uuid.in_(uuids), QueueEvent.kind == "ended"))
    }
    wrapups = {
        w.call_uuid: w.code
        for w in db.scalars(
            select(CallWrapUp)
            .where(CallWrapUp.call_uuid.in_(uuids), CallWrapUp.agent == agent_name)
            .order_by(CallWrapUp.id)
        )
    }
    patient_ids = {e.patient_id for e in answered if e.patient_id is not None}
    codes = {}
    if patient_ids:
        codes = dict(db.execute(select(Patient.id, Patient.patient_code).where(Patient.id.in_(patient_ids))).all())
    rows = []
    for event in answered:
        end = ended.get(event.call_uuid)
        rows.append(
            {
                "at": f"{_aware(event.at).astimezone():%Y-%m-%d %H:%M}",
                "queue": event.queue,
                "patient": codes.get(event.patient_id, "") if event.patient_id else "",
                "seconds": round((_aware(end) - _aware(event.at)).total_seconds()) if end else None,
                "wrapup": wrapups.get(event.call_uuid, ""),
            }
        )
    return rows


@blueprint.get("/api/v1/agent/state")
@require_role("agent")
def state():
    with web().transaction() as db:
        return jsonify(own_state(db, g.user.agent, datetime.now(UTC)))


@blueprint.get("/api/v1/agent/last-calls")
@require_role("agent")
def calls():
    with web().transaction() as db:
        rows = last_calls(db, g.user.agent)
        patients = sorted({row["patient"] for row in rows if row["patient"]})
        if patients:
            record_audit(db, g.user.name, "last calls view", None, audit_source(), f"patients {', '.join(patients)}")
    return jsonify(calls=rows)
