"""Placing a previewed patient's call: the reservation becomes the attempt, and the ACD gets an outbound
callback pinned to the agent (ccctl.acd.callbacks.place_for_agent): its router dials the patient at once and
offers them to that agent alone, so the call has its record, recording, screen pop and wrap-up like any
queued call. Both in the caller's transaction: a refused pin leaves the reservation as it was.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from ccctl.acd import callbacks
from ccctl.campaigns import preview_store
from ccctl.campaigns.model import CampaignSpec
from ccctl.campaigns.preview_store import PreviewCall


def place_call(session: Session, spec: CampaignSpec, agent: str, target_id: int, now: datetime) -> PreviewCall:
    """The agent's call to their reserved patient; PreviewError (or the ACD's CallbackError) when it cannot be."""
    call = preview_store.start_call(session, spec, agent, target_id, now)
    entry = callbacks.place_for_agent(session, agent, call.number, call.patient_id, f"campaign {spec.name}")
    preview_store.call_placed(session, target_id, entry.id, entry.call_uuid)
    return call
