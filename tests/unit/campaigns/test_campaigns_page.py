"""The supervisor's campaigns page: state and progress as counts, start/pause/stop with the CSRF token,
each change audited; agents may not see it."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from ccctl.campaigns.commands import add
from ccctl.config import load_settings
from ccctl.records.database import make_engine
from ccctl.records.models.audit import AuditEntry
from ccctl.records.models.campaigns import Campaign
from ccctl.records.models.patients import Patient

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "web"))
from web_site import console, csrf, log_in, seed  # noqa: E402

CAMPAIGN = """\
name: flu-jabs
kind: notification
flow: reminder
targets: {csv: flu.csv}
calling: {windows: [{days: [mon], from: '09:00', to: '10:00'}]}
"""


@pytest.fixture
def site(db_url, tmp_path):
    seed(db_url)
    engine = make_engine(db_url)
    with Session(engine) as session:
        codes = list(session.scalars(select(Patient.patient_code)))
    engine.dispose()
    campaigns = tmp_path / "campaigns"
    campaigns.mkdir()
    (campaigns / "flu.csv").write_text("patient_code\n" + "\n".join(codes) + "\n")
    (campaigns / "flu-jabs.yaml").write_text(CAMPAIGN)
    settings = load_settings("ccctl.yaml", environ={})
    settings = dataclasses.replace(settings, database=dataclasses.replace(settings.database, url=db_url))
    add(settings, str(campaigns / "flu-jabs.yaml"), by="test")
    app, _ = console(db_url)
    return app, settings


def state_of(url: str) -> str:
    engine = make_engine(url)
    with Session(engine) as session:
        state = session.scalar(select(Campaign.state))
    engine.dispose()
    return state


def test_a_supervisor_starts_pauses_and_stops_a_campaign_each_change_audited(site, db_url):
    app, settings = site
    client = app.test_client()
    log_in(client, "super")
    page = client.get("/campaigns").get_data(as_text=True)
    assert 'href="/campaigns"' in client.get("/wallboard").get_data(as_text=True)  # in the supervisor's menu
    assert 'data-campaign="flu-jabs"' in page and 'data-state="draft"' in page
    assert '<td class="patients">2</td>' in page  # counts only: no patient is named on the page
    assert client.post("/campaigns/flu-jabs/start").status_code == 403  # no CSRF token
    assert state_of(db_url) == "draft"
    token = csrf(client)
    for action, state in (("start", "running"), ("pause", "paused"), ("stop", "stopped")):
        reply = client.post(f"/campaigns/flu-jabs/{action}", data={"csrf_token": token}, follow_redirects=True)
        assert f'data-state="{state}"' in reply.get_data(as_text=True)
        assert state_of(db_url) == state
    refused = client.post("/campaigns/flu-jabs/start", data={"csrf_token": token}, follow_redirects=True)
    assert "stopped for good" in refused.get_data(as_text=True) and state_of(db_url) == "stopped"
    engine = make_engine(db_url)
    with Session(engine) as session:
        rows = session.execute(
            select(AuditEntry.actor, AuditEntry.action, AuditEntry.detail).order_by(AuditEntry.id)
        ).all()
    engine.dispose()
    assert [tuple(r) for r in rows if r[1].startswith("campaign ")] == [
        ("super", "campaign start", "campaign flu-jabs"),
        ("super", "campaign pause", "campaign flu-jabs"),
        ("super", "campaign stop", "campaign flu-jabs"),
    ]


def test_agents_may_not_see_or_change_campaigns(site):
    app, _ = site
    agent = app.test_client()
    log_in(agent, "agent1")
    assert agent.get("/campaigns").status_code == 403
    assert agent.post("/campaigns/flu-jabs/start", data={"csrf_token": csrf(agent)}).status_code == 403
