"""The knowledge base in the console: the editor checks like `kb check` and saves nothing invalid, a draft is
served nowhere until a supervisor publishes it, every step is audited, expired articles are listed with
their owner; the workstation's suggestions come from the call's IVR path and queue, and an article goes
by SMS to the caller of the agent's own call only."""

from __future__ import annotations

import dataclasses
import html
import re

import pytest
from kb_files import article
from sqlalchemy import select
from sqlalchemy.orm import Session
from web_site import csrf, log_in, seed

from ccctl.callflow import CallInfo
from ccctl.config import load_settings
from ccctl.kb.knowledge import KnowledgeBase
from ccctl.records.database import make_engine
from ccctl.records.models.audit import AuditEntry
from ccctl.records.models.base import utc_now
from ccctl.records.models.calls import Call
from ccctl.records.models.channels import SmsMessage
from ccctl.records.models.kb import KbDraft
from ccctl.serve.controller import Controller
from ccctl.web.app import make_web_app

NEW_ARTICLE = {
    "slug": "flu-jabs",
    "title": "Flu jabs",
    "questions": "Can I get a flu jab?\nWhen is the flu vaccination clinic?",
    "tags": "flu, jab",
    "departments": "vaccinations",
    "valid_until": "2030-01-01",
    "owner": "nurses@example.org",
    "short": "Flu jabs are given on Tuesdays in room 12.",
    "body": "# Flu jabs\n\nCome on a Tuesday morning.",
}


@pytest.fixture
def site(sqlite_url, tmp_path):
    seed(sqlite_url)
    kb_dir = tmp_path / "kb"
    article(kb_dir, "en", "parking", extra="departments: [facilities]\n")
    settings = load_settings("ccctl.yaml", environ={})
    settings = dataclasses.replace(
        settings,
        database=dataclasses.replace(settings.database, url=sqlite_url),
        web=dataclasses.replace(settings.web, port=0, secret_key="test-secret"),
        kb=dataclasses.replace(settings.kb, dir=str(kb_dir)),
    )
    controller = Controller(settings, connect_inbound=False)
    app = make_web_app(controller, settings)
    app.config["TESTING"] = True
    return app, controller, kb_dir, sqlite_url


def client_of(app, name: str):
    client = app.test_client()
    log_in(client, name)
    return client


def post(client, url: str, data: dict | None = None):
    return client.post(url, data={**(data or {}), "csrf_token": csrf(client)})


def rows(url: str, model, *where):
    engine = make_engine(url)
    try:
        with Session(engine) as db:
            return list(db.scalars(select(model).where(*where)))
    finally:
        engine.dispose()


def audit(url: str) -> list[tuple[str, str, str]]:
    return [(e.actor, e.action, e.detail) for e in rows(url, AuditEntry, AuditEntry.action.like("kb%"))]


def draft_id(url: str, slug: str) -> int:
    [draft] = rows(url, KbDraft, KbDraft.slug == slug)
    return draft.id


def test_the_editor_names_each_invalid_field_and_saves_nothing(site):
    app, _, kb_dir, url = site
    agent = client_of(app, "agent1")
    bad = {**NEW_ARTICLE, "title": "", "valid_until": "next spring", "short": "x" * 401, "questions": ""}
    page = post(agent, "/kb/new?language=en", bad)
    assert page.status_code == 400
    shown = html.unescape(page.get_data(as_text=True))
    problems = dict(re.findall(r'data-field="(\w+)">([^<]+)<', shown))
    assert set(problems) == {"title", "valid_until", "short", "questions"}, problems
    assert "'valid_until' must be a date like 2027-12-31, got 'next spring'" in problems["valid_until"]
    assert 'value="nurses@example.org"' in shown  # what was typed stays in the form
    assert rows(url, KbDraft) == [] and not (kb_dir / "en" / "flu-jabs.md").exists()
    # a new article may not take the name of one that exists: the existing one is edited instead
    taken = post(agent, "/kb/new?language=en", {**NEW_ARTICLE, "slug": "parking"})
    assert taken.status_code == 400 and 'data-field="slug"' in taken.get_data(as_text=True)
    assert rows(url, KbDraft) == [] and audit(url) == []


def test_a_draft_is_served_nowhere_until_a_supervisor_publishes_it_and_each_step_is_audited(site, monkeypatch):
    monkeypatch.setattr("ccctl.kb.knowledge.RECHECK_SECONDS", 0.0)  # every search looks at the files
    app, _, kb_dir, url = site
    agent, supervisor = client_of(app, "agent1"), client_of(app, "super")
    kb = KnowledgeBase(kb_dir)
    assert post(agent, "/kb/new?language=en", NEW_ARTICLE).status_code == 302
    listing = agent.get("/kb").get_data(as_text=True)
    assert re.search(r'data-draft="en/flu-jabs">.*?class="state">draft<', listing, re.S)

    def served() -> bool:
        found = agent.get("/api/v1/kb/search?lang=en&q=flu+jab").get_json()["articles"]
        return any(a["slug"] == "flu-jabs" for a in found) or kb.short_answer("flu-jabs", "en") is not None

    assert not served()
    post(agent, f"/kb/drafts/{draft_id(url, 'flu-jabs')}/submit")
    assert post(agent, f"/kb/drafts/{draft_id(url, 'flu-jabs')}/publish").status_code == 403
    assert not served() and not (kb_dir / "en" / "flu-jabs.md").exists()
    post(supervisor, f"/kb/drafts/{draft_id(url, 'flu-jabs')}/publish")
    assert rows(url, KbDraft) == []
    assert served()
    assert kb.short_answer("flu-jabs", "en") == NEW_ARTICLE["short"]

    # an edit of a published article is a draft again: the file keeps the old date until it is published
    changed = {**NEW_ARTICLE, "valid_until": "2031-06-30"}
    post(agent, "/kb/en/flu-jabs/edit", changed)
    assert "valid_until: 2030-01-01" in (kb_dir / "en" / "flu-jabs.md").read_text()
    post(agent, f"/kb/drafts/{draft_id(url, 'flu-jabs')}/submit")
    post(supervisor, f"/kb/drafts/{draft_id(url, 'flu-jabs')}/publish")
    assert "valid_until: 2031-06-30" in (kb_dir / "en" / "flu-jabs.md").read_text()
    assert audit(url) == [
        ("agent1", "kb draft", "en/flu-jabs.md: new article"),
        ("agent1", "kb review asked", "en/flu-jabs.md"),
        ("super", "kb publish", "en/flu-jabs.md: new article (written by agent1)"),
        ("agent1", "kb draft", "en/flu-jabs.md: valid_until 2030-01-01 -> 2031-06-30"),
        ("agent1", "kb review asked", "en/flu-jabs.md"),
        ("super", "kb publish", "en/flu-jabs.md: valid_until 2030-01-01 -> 2031-06-30 (written by agent1)"),
    ]


def test_expired_articles_are_listed_with_their_owner(site):
    app, _, kb_dir, _ = site
    article(kb_dir, "pl", "parking", valid_until="2020-01-01")
    page = client_of(app, "super").get("/kb").get_data(as_text=True)
    expired = page.split('id="kb-expired"')[1].split("</section>")[0]
    assert 'data-article="pl/parking"' in expired and "facilities@example.org" in expired
    assert 'data-article="en/parking"' not in expired


def offer_call(app, controller: Controller, uuid: str, queue: str, path: list[str]) -> None:
    """A call this controller drives, with its IVR path so far, offered to agent1 from `queue`."""

    class Walked:
        def __init__(self) -> None:
            self.path = path

    controller.app_factory = lambda call: Walked()
    controller._app_for(CallInfo(uuid, "+48600100200", "7000", "main"))
    app.extensions["ccctl"].screen_pops.on_acd_event(
        {"type": "offered", "agent": "agent1", "call_uuid": uuid, "patient_id": None, "queue": queue}
    )


def test_suggestions_put_the_article_the_caller_heard_first_then_the_queues_department(site):
    app, controller, kb_dir, _ = site
    article(kb_dir, "en", "visiting", title="Visiting hours", short="Visits 2 to 8 pm.",
            questions=("When can I visit?",), extra="tags: [visits]\n")  # fmt: skip
    offer_call(app, controller, "call-1", "facilities", ["welcome", "topics:visiting", "queue"])
    agent = client_of(app, "agent1")
    found = agent.get("/api/v1/kb/suggestions?call_uuid=call-1&lang=en").get_json()["articles"]
    assert [(a["slug"], a["why"]) for a in found][:2] == [("visiting", "ivr"), ("parking", "queue")]
    assert client_of(app, "agent2").get("/api/v1/kb/suggestions?call_uuid=call-1&lang=en").status_code == 403


def test_an_article_goes_by_sms_to_the_caller_of_the_agents_call_and_is_audited(site, monkeypatch):
    app, controller, _, url = site
    sent = []
    monkeypatch.setattr("ccctl.channels.sms_records.send_sms_with_id", lambda s, to, text, mid: sent.append((to, text)))
    offer_call(app, controller, "call-2", "general", [])
    engine = make_engine(url)
    with Session(engine) as db, db.begin():
        db.add(Call(uuid="call-2", hotline="main", caller_number="+48600100200", started_at=utc_now()))
    engine.dispose()
    agent = client_of(app, "agent1")
    body = {"call_uuid": "call-2", "slug": "parking", "language": "en"}
    token = csrf(agent)
    answer = agent.post("/api/v1/kb/sms", json=body, headers={"X-CSRF-Token": token})
    assert answer.status_code == 200, answer.get_json()
    assert sent == [("+48600100200", "Park at the main gate.")]
    [message] = rows(url, SmsMessage)
    assert message.status == "sent"
    [(actor, action, detail)] = [a for a in audit(url) if a[1] == "kb sms"]
    assert actor == "agent1" and "en/parking.md" in detail and "call-2" in detail and "600100200" not in detail
    other = client_of(app, "agent2")
    refused = other.post("/api/v1/kb/sms", json=body, headers={"X-CSRF-Token": csrf(other)})
    assert refused.status_code == 403 and len(sent) == 1


def test_the_knowledge_base_pages_need_a_login(site):
    app, *_ = site
    assert app.test_client().get("/kb").status_code == 302
