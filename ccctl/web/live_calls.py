"""The wallboard's live calls: each call an agent holds, by queue, with the patient's code, the agent's state
and the talk time so far; never the switch's call ids, which mean nothing to a supervisor.

Built from the ACD's snapshot (agents and the calls they hold) and one read of the calls' queue entries.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ccctl.records.models.acd import QueueEntry
from ccctl.records.models.patients import Patient

# the wallboard's viewers open any patient's record, so they see the code of the patient on a call
PATIENT_VIEWERS = ("admin", "supervisor")


def live_calls(db: Session, acd: dict | None) -> list[dict]:
    """[{queue, agent, patient, state, talk_seconds}] for every agent on a call, longest talk first."""
    holding = [a for a in (acd or {}).get("agents", []) if a.get("call_uuid")]
    if not holding:
        return []
    uuids = [a["call_uuid"] for a in holding]
    entries = {e.call_uuid: e for e in db.scalars(select(QueueEntry).where(QueueEntry.call_uuid.in_(uuids)))}
    patient_ids = {e.patient_id for e in entries.values() if e.patient_id is not None}
    codes = {}
    if patient_ids:
        codes = dict(db.execute(select(Patient.id, Patient.patient_code).where(Patient.id.in_(patient_ids))).all())
    calls = []
    for agent in holding:
        entry = entries.get(agent["call_uuid"])
        calls.append(
            {
                "queue": entry.queue if entry else "",
                "agent": agent["name"],
                "patient": codes.get(entry.patient_id, "") if entry and entry.patient_id else "",
                "state": agent["state"],
                "talk_seconds": agent["seconds_in_state"],
            }
        )
    return sorted(calls, key=lambda call: -call["talk_seconds"])


def for_viewer(calls: list[dict], role: str) -> list[dict]:
    """The calls as this viewer may see them: without patient codes for a role that may not open patients."""
    if role in PATIENT_VIEWERS:
        return calls
    return [{**call, "patient": ""} for call in calls]
