"""The work behind `ccctl campaigns ...`: check, add, list, show, start/pause/stop, report, export, opt-out."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ccctl.campaigns import outcomes, preview_store, store
from ccctl.campaigns.flows import flow_key, load_campaign_flows
from ccctl.campaigns.model import CampaignSpec
from ccctl.campaigns.spec import CampaignFileError, flow_path, load_spec
from ccctl.campaigns.store import CampaignError
from ccctl.config import Settings
from ccctl.records.audit import record_audit
from ccctl.records.database import in_transaction, make_engine
from ccctl.records.models.campaigns import Campaign, CampaignTarget
from ccctl.records.models.patients import Patient

CHANNELS = ("voice", "sms", "email")


def check(settings: Settings, path: str) -> CampaignSpec:
    """The campaign in path, its flow loaded with the hotlines' checker; CampaignFileError lists every problem."""
    spec = load_spec(path)
    if spec.mode == "preview" and not spec.flow:
        return spec  # the agent talks to the patient from the start: there is no flow to check
    catalog, errors = load_campaign_flows(settings)
    if catalog is None:
        raise CampaignFileError(errors)
    if flow_key(spec.flow) not in catalog.flows:
        raise CampaignFileError([f"{path}: flow '{spec.flow}': no file {flow_path(settings.flows_dir, spec)}"])
    nodes = catalog.flows[flow_key(spec.flow)].nodes.values()
    if spec.kind == "survey" and not any(node.type_name == "survey" for node in nodes):
        # a survey campaign's outcome is its answers: a flow that asks none would only ring patients
        raise CampaignFileError([f"{path}: kind survey: flow '{spec.flow}' has no survey node (docs/surveys.md)"])
    return spec


def add(settings: Settings, path: str, by: str) -> tuple[str, int]:
    """Add a checked campaign as a draft with its patients listed now; (name, how many patients)."""
    spec = check(settings, path)
    text = Path(path).read_text(encoding="utf-8")
    zone = ZoneInfo(spec.time_zone or settings.campaigns.time_zone)
    now = dt.datetime.now(dt.UTC)

    def work(session) -> tuple[str, int]:
        campaign = store.add_campaign(session, spec, str(Path(path).resolve()), text, by, zone, now)
        count = session.scalar(select(func.count()).where(CampaignTarget.campaign_id == campaign.id))
        return campaign.name, int(count or 0)

    return in_transaction(settings.database.url, CampaignError, work)


def set_state(settings: Settings, name: str, state: str) -> str:
    return in_transaction(settings.database.url, CampaignError, lambda s: store.set_state(s, name, state).state)


def _counts(session, campaign_id: int) -> dict[str, int]:
    rows = session.execute(
        select(CampaignTarget.state, func.count())
        .where(CampaignTarget.campaign_id == campaign_id)
        .group_by(CampaignTarget.state)
    ).all()
    return {state: count for state, count in rows}


def list_rows(settings: Settings) -> list[dict]:
    def work(session) -> list[dict]:
        rows = []
        for campaign in session.scalars(select(Campaign).order_by(Campaign.id)):
            counts = _counts(session, campaign.id)
            rows.append(
                {
                    "name": campaign.name,
                    "kind": campaign.kind,
                    "state": campaign.state,
                    "patients": sum(counts.values()),
                    "done": counts.get("done", 0),
                    "created_at": campaign.created_at,
                }
            )
        return rows

    return in_transaction(settings.database.url, CampaignError, work)


def show(settings: Settings, name: str, by: str = "") -> dict:
    """The campaign's settings and counts; a preview campaign's reserved patients by code (a listing of
    patients: audited when there is any)."""

    def work(session) -> dict:
        campaign = store.get_campaign(session, name)
        spec = load_spec(campaign.source_path, campaign.source_text)
        previews = preview_store.campaign_previews(session, campaign.id, dt.datetime.now(dt.UTC))
        if previews:
            codes = ", ".join(p["patient_code"] for p in previews)
            record_audit(session, by or "cli", "campaign previews view", None, "cli", detail=f"{name}: {codes}")
        return {
            "name": campaign.name,
            "kind": campaign.kind,
            "state": campaign.state,
            "file": campaign.source_path,
            "flow": spec.flow,
            "time_zone": spec.time_zone or settings.campaigns.time_zone,
            "voice_attempts": spec.voice_attempts,
            "sms": bool(spec.sms_text),
            "email": bool(spec.email_text),
            "caps": {"daily": spec.caps.daily, "concurrent": spec.caps.concurrent, "per_second": spec.caps.per_second},
            "targets": _counts(session, campaign.id),
            "mode": spec.mode,
            # preview: each agent's reserved patient (by code) and whether they are calling them
            "previews": previews,
            "created_by": campaign.created_by,
            "created_at": campaign.created_at,
        }

    return in_transaction(settings.database.url, CampaignError, work)


def report(settings: Settings, name: str) -> dict:
    return in_transaction(settings.database.url, CampaignError, lambda s: store.report(s, store.get_campaign(s, name)))


def export(settings: Settings, name: str, path: Path, by: str) -> int:
    """One CSV row per target (patient code, hospital id, attempts, outcomes, channel, appointment change);
    audited as one `campaign_export` row. How many rows were written."""

    def work(session) -> list[dict]:
        campaign = store.get_campaign(session, name)
        rows = outcomes.target_rows(session, campaign)
        record_audit(session, by, "campaign_export", None, "cli", detail=f"{name}: {len(rows)} targets to {path}")
        return rows

    rows = in_transaction(settings.database.url, CampaignError, work)
    try:
        outcomes.write_csv(rows, path)
    except OSError as exc:
        raise CampaignError(f"{path}: cannot write the CSV ({exc.strerror})") from None
    return len(rows)


def patient_contacts(url: str, patient_id: int) -> tuple[list[dict], list[dict]]:
    """What each campaign came to for the patient and their latest campaign contacts, for their record (the
    record's read is audited by its caller)."""
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            return outcomes.patient_results(session, patient_id), outcomes.patient_contacts(session, patient_id)
    finally:
        engine.dispose()


def opt_out(settings: Settings, patient_code: str, channel: str, by: str) -> None:
    """Record that a patient is never to be contacted on this channel again (audited)."""
    if channel not in CHANNELS:
        raise CampaignError(f"channel must be one of {', '.join(CHANNELS)}")

    def work(session) -> None:
        patient_id = session.scalars(select(Patient.id).where(Patient.patient_code == patient_code)).first()
        if patient_id is None:
            raise CampaignError(f"no patient with code {patient_code}")
        store.opt_out(session, patient_id, channel, f"staff:{by}")
        record_audit(session, by, "contact_opt_out", patient_id, "cli", detail=channel)

    in_transaction(settings.database.url, CampaignError, work)
