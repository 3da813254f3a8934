"""The preview card of the agent workstation: the patient a preview campaign reserved for this agent, with
Call (the ACD dials the patient for this agent alone) and Skip (with a reason).

The card's state carries no patient data; the patient's record is read on its own request, once per
reservation shown, and audited as every staff read is. Only the agent the patient is reserved for sees them.
"""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, abort, g, jsonify, request
from sqlalchemy import select

from ccctl.campaigns import preview_calls, preview_store
from ccctl.campaigns.model import SKIP_REASONS
from ccctl.campaigns.spec import load_spec
from ccctl.campaigns.web_words import campaign_words
from ccctl.errors import UserError
from ccctl.patients.commands import specialties_from
from ccctl.records.audit import record_audit
from ccctl.records.models.campaigns import Campaign, CampaignPreview
from ccctl.web.context import audit_source, require_role, web
from ccctl.web.patient_record import patient_detail

blueprint = Blueprint("campaign_preview", __name__, template_folder="templates")


@blueprint.app_context_processor
def _preview_words() -> dict:
    user = g.get("user")
    return {"cw": campaign_words(user.language if user else "en"), "skip_reasons": SKIP_REASONS}


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@blueprint.get("/api/v1/agent/preview")
@require_role("agent")
def preview():
    with web().transaction() as db:
        return jsonify(preview=preview_store.agent_preview(db, g.user.agent, _now()))


def _reserved(db, target_id: int) -> CampaignPreview:
    found = db.scalars(
        select(CampaignPreview).where(CampaignPreview.target_id == target_id, CampaignPreview.agent == g.user.agent)
    ).first()
    if found is None:
        abort(404)
    return found


@blueprint.get("/api/v1/agent/preview/<int:target_id>/patient")
@require_role("agent")
def patient(target_id: int):
    """The reserved patient's record: only for the agent they are reserved for, audited."""
    with web().transaction() as db:
        reserved = _reserved(db, target_id)
        patient_id = preview_store.patient_of(db, reserved)
        detail = patient_detail(db, patient_id, specialties_from(None))
        if detail is None:
            abort(404)
        campaign = db.get(Campaign, reserved.campaign_id)
        record_audit(db, g.user.name, "view", patient_id, audit_source(), detail=f"campaign preview {campaign.name}")
    return jsonify(detail)


def _spec(db, reserved: CampaignPreview):
    campaign = db.get(Campaign, reserved.campaign_id)
    return load_spec(campaign.source_path, campaign.source_text)


@blueprint.post("/api/v1/agent/preview/<int:target_id>/call")
@require_role("agent")
def call(target_id: int):
    try:
        with web().transaction() as db:
            spec = _spec(db, _reserved(db, target_id))
            placed = preview_calls.place_call(db, spec, g.user.agent, target_id, _now(), g.user.name, audit_source())
            record_audit(db, g.user.name, "campaign preview call", placed.patient_id, audit_source(), spec.name)
    except UserError as exc:  # names the target, never the patient
        return jsonify(error=str(exc)), 409
    acd = web().acd
    if acd is not None:
        acd.wake()  # the router offers the pinned callback at once rather than on its next tick
    return jsonify(target_id=target_id, state="calling")


@blueprint.post("/api/v1/agent/preview/<int:target_id>/skip")
@require_role("agent")
def skip(target_id: int):
    reason = str((request.get_json(silent=True) or {}).get("reason", ""))
    try:
        with web().transaction() as db:
            reserved = _reserved(db, target_id)
            spec = _spec(db, reserved)
            patient_id = preview_store.patient_of(db, reserved)
            preview_store.skip(db, spec, g.user.agent, target_id, reason, _now())
            record_audit(db, g.user.name, "campaign preview skip", patient_id, audit_source(), f"{spec.name}: {reason}")
    except UserError as exc:
        return jsonify(error=str(exc)), 409
    return jsonify(target_id=target_id, state="skipped", reason=reason)
