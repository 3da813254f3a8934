"""The knowledge base in real Chromium: a supervisor writes an article, is told which field is wrong, submits and
publishes it; an agent on a call sees first the article the caller heard in the IVR and sends it to the
caller's phone by SMS (through a real Kannel to fakesmsc)."""

from __future__ import annotations

import dataclasses

from acd_site import AcdSite, add_agents, queue
from emulated_site import EmulatedSite, site_settings
from test_chat_in_chromium import kannel, sms_text, wait_until  # noqa: F401 - kannel is a fixture
from web_site import PASSWORD, seed

from ccctl.sim.callers import CallerScript
from ccctl.sim.originate import AgentEndpoint

ANNA_PHONE = "+48600100200"  # the seeded patient Anna Kowalska
FLOW = """\
flow: main
description: the caller hears an article, then asks for a person
language: en
start: topics
nodes:
  topics:
    type: kb
    prompt: "say:Hours one, parking three"
    topics:
      "1": opening-hours
      "3": parking
    next: to_agent
  to_agent:
    type: queue
    skill: cardio
    on_failure: bye
  bye:
    type: hangup
"""
ARTICLE = """\
---
title: {title}
questions:
- {question}
valid_until: {valid_until}
owner: {owner}
short: {short}
---

{short}
"""


def write_article(kb_dir, language, slug, title, question, short, valid_until="2099-12-31", owner="desk@example.org"):
    path = kb_dir / language / f"{slug}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    text = ARTICLE.format(title=title, question=question, short=short, valid_until=valid_until, owner=owner)
    path.write_text(text, encoding="utf-8")


def kb_settings(settings, kb_dir):
    return dataclasses.replace(settings, kb=dataclasses.replace(settings.kb, dir=str(kb_dir)))


def log_in(page, base: str, name: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#name", name)
    page.fill("#password", PASSWORD)
    page.click("#login-button")


def base_of(site) -> str:
    host, port = site.controller.web_address
    return f"http://{host}:{port}"


def test_a_supervisor_corrects_submits_and_publishes_an_article(sqlite_url, tmp_path, browser_page):
    seed(sqlite_url)
    kb_dir = tmp_path / "kb"
    write_article(kb_dir, "en", "parking", "Parking", "Where can I park?", "Park at the main gate.")
    write_article(
        kb_dir, "pl", "parking", "Parking", "Gdzie parkować?", "Przy bramie.", "2020-01-01", "old@example.org"
    )
    with EmulatedSite(kb_settings(site_settings(sqlite_url, tmp_path), kb_dir)) as site:
        page = browser_page
        log_in(page, base_of(site), "super")
        page.goto(f"{base_of(site)}/kb")
        assert "old@example.org" in page.text_content("#kb-expired li[data-article='pl/parking']")
        page.click("#new-article")
        page.fill("input[name=slug]", "flu-jabs")
        page.fill("input[name=title]", "Flu jabs")
        page.fill("textarea[name=questions]", "Can I get a flu jab?")
        page.fill("input[name=valid_until]", "next spring")
        page.fill("input[name=owner]", "nurses@example.org")
        page.fill("textarea[name=short]", "Flu jabs are given on Tuesdays in room 12.")
        page.fill("textarea[name=body]", "Come on a Tuesday morning.")
        page.click("#save-draft")
        assert "must be a date" in page.text_content(".problem[data-field=valid_until]")
        assert not (kb_dir / "en" / "flu-jabs.md").exists()
        page.fill("input[name=valid_until]", "2030-01-01")
        page.click("#save-draft")
        page.wait_for_selector("#draft-state")
        page.click("#draft-state .kb-submit")
        page.wait_for_selector("tr[data-draft='en/flu-jabs'] .state:text('in review')")
        assert not (kb_dir / "en" / "flu-jabs.md").exists()
        page.click("tr[data-draft='en/flu-jabs'] .kb-publish")
        page.wait_for_selector("tr[data-article='en/flu-jabs'] .state:text('published')")
        assert "valid_until: 2030-01-01" in (kb_dir / "en" / "flu-jabs.md").read_text()


def test_the_agent_sees_the_article_the_caller_heard_and_sends_it_by_sms(sqlite_url, tmp_path, request, browser_page):
    sms, received = request.getfixturevalue("kannel")  # bearerbox, smsbox and fakesmsc (test_chat_in_chromium)
    seed(sqlite_url)
    add_agents(sqlite_url, {"agent1": ("1001", "cardio")})
    queue(sqlite_url)
    kb_dir = tmp_path / "kb"
    write_article(kb_dir, "en", "parking", "Parking", "Where can I park?", "Park at the main gate.")
    write_article(kb_dir, "en", "opening-hours", "Opening hours", "When are you open?", "We open at eight.")
    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "main.yaml").write_text(FLOW)
    settings = kb_settings(site_settings(sqlite_url, tmp_path, flows_dir=str(flows), sms=sms), kb_dir)
    settings = dataclasses.replace(settings, acd=dataclasses.replace(settings.acd, router_tick_seconds=0.05))
    phones = {"1001": AgentEndpoint(answer_after=2, talk_seconds=600)}
    with AcdSite(settings, phones, time_factor=10.0) as site:
        page = browser_page
        log_in(page, base_of(site), "agent1")
        page.wait_for_selector("body[data-stream=open]")
        site.switch.place_call(CallerScript(ANNA_PHONE, "7000", ["3"], context="public"))
        first = page.wait_for_selector("#kb-list li.kb-article")
        assert first.get_attribute("data-slug") == "parking"
        assert "heard in the IVR" in first.text_content()
        page.click("#kb-list li[data-slug=parking] .kb-sms")
        page.wait_for_selector("#kb-result:text('SMS sent')")
        wait_until(lambda: received, "the SMS at fakesmsc")
        [(_, to, kind, text)] = received
        assert to.endswith("600100200") and sms_text(kind, text) == "Park at the main gate."
        page.fill("#kb-query", "when are you open")
        page.click("#kb-search")
        page.wait_for_selector("#kb-list li.kb-article[data-slug=opening-hours]")
