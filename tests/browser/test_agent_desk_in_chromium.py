"""The workstation in real headless Chromium shows the agent their own ACD state with a call timer while on a call,
their last calls with duration and wrap-up, and the wrap-up codes in the agent's language."""

import dataclasses
import re
from datetime import UTC, datetime, timedelta

import pytest
from emulated_site import site_settings
from sqlalchemy import select, update
from sqlalchemy.orm import Session
from web_site import PASSWORD, seed

from ccctl.acd.agents import add_agent, add_queue
from ccctl.records.database import make_engine
from ccctl.records.models.acd import Agent, QueueEntry, QueueEvent
from ccctl.records.models.audit import AuditEntry
from ccctl.records.models.web import CallWrapUp
from ccctl.serve.controller import Controller

EARLIER = "0a9e5d2c-0000-4000-8000-00000000000a"


def in_db(url: str, work):
    engine = make_engine(url)
    try:
        with Session(engine) as db, db.begin():
            return work(db)
    finally:
        engine.dispose()


@pytest.fixture
def console(sqlite_url, tmp_path):
    """agent1 has been on a cardio call for 30 s; an earlier call of 2 min was wrapped up as 'callback'."""
    ids = seed(sqlite_url)
    add_agent(sqlite_url, "agent1", "1001", {"cardio": 1})
    add_queue(sqlite_url, "cardio", "longest-idle-agent", {"cardio": 1}, {})
    now = datetime.now(UTC)

    def fill(db):
        agent_id = db.scalars(select(Agent.id).where(Agent.name == "agent1")).one()
        since = now - timedelta(seconds=30)
        db.execute(
            update(Agent).where(Agent.id == agent_id).values(status="available", state="in_call", state_since=since)
        )
        db.add(QueueEntry(queue="cardio", call_uuid="0a9e5d2c-0000-4000-8000-00000000000b", status="bridged",
                          agent_id=agent_id))  # fmt: skip
        answered = now - timedelta(minutes=10)
        for kind, at in (("answered", answered), ("ended", answered + timedelta(minutes=2))):
            db.add(QueueEvent(at=at, queue="cardio", call_uuid=EARLIER, kind=kind, agent_id=agent_id,
                              patient_id=ids["anna"]))  # fmt: skip
        db.add(CallWrapUp(call_uuid=EARLIER, agent="agent1", code="callback", notes=""))

    in_db(sqlite_url, fill)
    settings = site_settings(sqlite_url, tmp_path)
    settings = dataclasses.replace(settings, web=dataclasses.replace(settings.web, secret_key="browser-test"))
    controller = Controller(settings, record_sink=lambda record: None, connect_inbound=False)
    controller.start()
    try:
        host, port = controller.web_address
        yield f"http://{host}:{port}", sqlite_url
    finally:
        controller.stop(grace=1)


def test_the_agent_sees_their_state_a_call_timer_and_their_last_calls_in_their_language(console, browser_page):
    base, url = console
    page = browser_page
    page.goto(f"{base}/login")
    page.fill("#name", "agent1")
    page.fill("#password", PASSWORD)
    page.click("#login-button")
    page.wait_for_selector("#last-calls tbody tr")
    assert page.inner_text("#my-state") == "On a call"
    assert page.is_visible("#call-timer")
    assert re.fullmatch(r"(29|3\d) s|1 min \d+ s", page.inner_text("#call-timer"))
    (row,) = [r.split("\t") for r in page.locator("#last-calls tbody tr").all_inner_texts()]
    assert row[1:] == ["cardio", "P000001", "2 min 0 s", "Call back"]
    assert page.locator("#wrapup-code option").all_inner_texts() == [
        "Resolved", "Call back", "Ticket opened", "Transferred", "Other"
    ]  # fmt: skip
    assert page.locator("#wrapup-code option").first.get_attribute("value") == "resolved"
    actions = in_db(url, lambda db: db.execute(select(AuditEntry.actor, AuditEntry.action, AuditEntry.detail)).all())
    assert ("agent1", "last calls view", "patients P000001") in [tuple(a) for a in actions]

    page.select_option("#language", "pl")
    page.wait_for_selector("#last-calls tbody tr")
    assert page.locator("#wrapup-code option").nth(1).inner_text() == "Oddzwonić"
    page.wait_for_function("document.getElementById('my-state').textContent === 'W rozmowie'")
    page.wait_for_function("document.querySelector('#last-calls tbody td:nth-child(5)')?.textContent === 'Oddzwonić'")
