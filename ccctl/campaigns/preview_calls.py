"""Placing a previewed patient's call: the reservation becomes the attempt, and the ACD gets an outbound
callback pinned to the agent (ccctl.acd.click_to_call.place_for_agent): its router dials the patient at once and
offers them to that agent alone, so the call has its record, recording, screen pop and wrap-up like any
queued call. Both in the caller's transaction: a refused pin leaves the reservation as it was.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from ccctl.acd.click_to_call import place_for_agent
from ccctl.campaigns import preview_store
from ccctl.campaigns.model import CampaignSpec
from ccctl.campaigns.preview_store import PreviewCall
from ccctl.records.models.acd import QueueEntry


def place_call(
    session: Session, spec: CampaignSpec, agent: str, target_id: int, now: datetime, actor: str, source: str
) -> PreviewCall:
    """The agent's call to their reserved patient (`actor` and `source` for the ACD's audit row: the agent
    from the console, or the campaign when its reservation ran out with `preview_timeout: dial`);
    PreviewError (or the ACD's CallbackError) when it cannot be placed."""
    call = preview_store.start_call(session, spec, agent, target_id, now)
    reason = f"campaign {spec.name}"
    entry_id = place_for_agent(
        session, agent, call.number, call.patient_id, reason, actor, source, queue=spec.preview_queue, now=now
    )
    preview_store.call_placed(session, target_id, entry_id, session.get(QueueEntry, entry_id).call_uuid)
    return call
