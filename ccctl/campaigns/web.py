"""The supervisor's campaigns page: every campaign with its state and progress, started, paused and stopped
from the console (each change audited, every form with the CSRF token).

The page shows counts only, never a patient: nothing on it is a read of a patient's record.
"""

from __future__ import annotations

from collections import Counter

from flask import Blueprint, abort, flash, g, redirect, render_template, url_for
from sqlalchemy import func, select

from ccctl.campaigns import store
from ccctl.campaigns.spec import load_spec
from ccctl.campaigns.web_words import campaign_words
from ccctl.errors import UserError
from ccctl.records.audit import record_audit
from ccctl.records.models.campaigns import Campaign, CampaignTarget
from ccctl.web.context import audit_source, require_role, web

blueprint = Blueprint("campaigns", __name__, template_folder="templates")
SUPERVISORS = ("admin", "supervisor")
# what each button asks for: the campaign's new state
ACTIONS = {"start": "running", "pause": "paused", "stop": "stopped"}


def _rows(db) -> list[dict]:
    states = Counter()
    for campaign_id, state, count in db.execute(
        select(CampaignTarget.campaign_id, CampaignTarget.state, func.count()).group_by(
            CampaignTarget.campaign_id, CampaignTarget.state
        )
    ):
        states[(campaign_id, state)] = count
    outcomes: dict[int, Counter] = {}
    for campaign_id, outcome, count in db.execute(
        select(CampaignTarget.campaign_id, CampaignTarget.last_outcome, func.count())
        .where(CampaignTarget.last_outcome != "")
        .group_by(CampaignTarget.campaign_id, CampaignTarget.last_outcome)
    ):
        outcomes.setdefault(campaign_id, Counter())[outcome] = count
    rows = []
    for campaign in db.scalars(select(Campaign).order_by(Campaign.id)):
        mine = {state: n for (cid, state), n in states.items() if cid == campaign.id}
        try:
            mode = load_spec(campaign.source_path, campaign.source_text).mode
        except UserError:
            mode = "?"
        rows.append(
            {
                "name": campaign.name,
                "kind": campaign.kind,
                "mode": mode,
                "state": campaign.state,
                "patients": sum(mine.values()),
                "done": mine.get("done", 0),
                # a preview campaign's patients reserved for agents count as being called
                "calling": mine.get("dialing", 0) + mine.get("talking", 0) + mine.get("previewing", 0),
                "outcomes": sorted(outcomes.get(campaign.id, Counter()).items()),
            }
        )
    return rows


@blueprint.get("/campaigns")
@require_role(*SUPERVISORS)
def campaigns_page():
    with web().transaction() as db:
        rows = _rows(db)
    return render_template("campaigns_page.html", campaigns=rows, w=campaign_words(g.user.language))


@blueprint.post("/campaigns/<name>/<action>")
@require_role(*SUPERVISORS)
def change(name: str, action: str):
    if action not in ACTIONS:
        abort(404)
    w = campaign_words(g.user.language)
    try:
        with web().transaction() as db:
            store.set_state(db, name, ACTIONS[action])
            record_audit(db, g.user.name, f"campaign {action}", None, audit_source(), f"campaign {name}")
    except UserError as exc:
        flash(("error", str(exc)))
    else:
        flash(("ok", w(f"done_{action}")))
    return redirect(url_for("campaigns.campaigns_page"))
