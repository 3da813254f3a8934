"""The wallboard in real headless Chromium: waiting callers as a count, agents per queue, a live call with its
queue, patient code, state and talk time (no call ids), a chart with title, axes and legend, local times, the
agents' states and the alarms in the viewer's language; and no page of the console asks the server for anything it lacks."""

import dataclasses
import re
from datetime import UTC, datetime, timedelta

import pytest
from emulated_site import site_settings
from sqlalchemy import update
from sqlalchemy.orm import Session
from web_site import PASSWORD, seed

from ccctl.acd.agents import add_agent, add_queue
from ccctl.acd.engine import AcdEngine
from ccctl.config import AcdSettings
from ccctl.records.database import make_engine
from ccctl.records.models.acd import Agent, QueueEntry
from ccctl.serve.controller import Controller

PAGES = {
    "super": ["/wallboard", "/admin/patients", "/admin/flows", "/admin/agents", "/reports", "/inbox", "/tickets"],
    "admin": ["/admin/users", "/admin/audit"],
    "agent1": ["/workstation"],
}


@pytest.fixture
def console(sqlite_url, tmp_path):
    """A controller without a switch; agent1 talks to patient P000001 from the cardio queue for 75 s, a second
    caller waits."""
    ids = seed(sqlite_url)
    add_agent(sqlite_url, "agent1", "1001", {"cardio": 1})
    add_queue(sqlite_url, "cardio", "longest-idle-agent", {"cardio": 1}, {})
    now = datetime.now(UTC)
    acd = AcdEngine(sqlite_url, AcdSettings())
    talking = acd.enqueue("cardio", "5a1e0f3c-0000-4000-8000-000000000001", 0, ids["anna"]).entry_id
    acd.enqueue("cardio", "5a1e0f3c-0000-4000-8000-000000000002", 0, None)
    engine = make_engine(sqlite_url)
    with Session(engine) as db, db.begin():
        agent_id = db.query(Agent.id).filter(Agent.name == "agent1").scalar()
        db.execute(update(QueueEntry).where(QueueEntry.id == talking).values(status="bridged", agent_id=agent_id))
        since = now - timedelta(seconds=75)
        db.execute(
            update(Agent).where(Agent.id == agent_id).values(status="available", state="in_call", state_since=since)
        )
    engine.dispose()
    settings = site_settings(sqlite_url, tmp_path)
    alarms = dataclasses.replace(settings.web.alarms, queue_full_callers=1)  # the caller waiting fills cardio
    settings = dataclasses.replace(
        settings, web=dataclasses.replace(settings.web, secret_key="browser-test", alarms=alarms)
    )
    controller = Controller(settings, record_sink=lambda record: None, connect_inbound=False, acd=acd)
    controller.start()
    try:
        host, port = controller.web_address
        yield f"http://{host}:{port}"
    finally:
        controller.stop(grace=1)


def log_in(page, base: str, name: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#name", name)
    page.fill("#password", PASSWORD)
    page.click("#login-button")
    page.wait_for_selector("#whoami")


def test_the_wallboard_shows_counts_live_calls_and_a_readable_chart(console, browser_page):
    page = browser_page
    log_in(page, console, "super")
    page.wait_for_selector("#live-calls tbody tr")
    queue = page.locator("#queues tbody tr").first.locator("td").all_inner_texts()
    assert queue[:4] == ["cardio", "1", queue[2], "On a call: 1"]  # one caller waiting: a count, not their waits
    (call,) = [row.split("\t") for row in page.locator("#live-calls tbody tr").all_inner_texts()]
    assert call[:4] == ["cardio", "agent1", "P000001", "On a call"]
    assert re.fullmatch(r"1 min \d+ s", call[4])
    assert "5a1e0f3c" not in page.inner_text("main")  # no call ids anywhere on the board
    assert re.fullmatch(r"\d{1,2}:\d{2}:\d{2}( [AP]M)?", page.inner_text("#updated"))  # a local clock time
    chart = page.locator("#chart svg")
    assert chart.locator(".chart-title").text_content() == "Calls per 15 minutes: today vs same weekday last week"
    assert chart.locator(".axis").count() == 2
    assert chart.locator(".axis-name").all_text_contents() == ["Hour of the day", "Calls"]
    assert "Today (0)" in chart.locator(".legend").text_content()
    alarm = page.locator("#alarm-list li.alarm-queue_full")
    assert alarm.text_content() == "queue cardio: 1 callers waiting (full at 1)"
    page.select_option("#language", "zh")
    page.wait_for_function("document.querySelector('#live-calls tbody td:nth-child(4)')?.textContent === '通话中'")
    # the alarm is a code with its figures: each viewer reads it in their language
    page.wait_for_function("document.querySelector('#alarm-list li.alarm-queue_full')?.textContent.startsWith('队列')")
    assert alarm.text_content() == "队列 cardio：1 位来电者在等待（上限 1）"
    page.select_option("#language", "pl")
    page.wait_for_function("document.querySelector('#alarm-list li.alarm-queue_full')?.textContent.startsWith('kol')")
    assert alarm.text_content() == "kolejka cardio: czeka 1 dzwoniących (pełna przy 1)"


def test_no_page_of_the_console_meets_a_missing_resource_or_a_script_error(console, browser_page):
    page = browser_page
    failures = []
    page.on("response", lambda r: r.status >= 400 and failures.append(f"{r.status} {r.url}"))
    page.on("console", lambda m: m.type == "error" and failures.append(f"console: {m.text}"))
    page.on("pageerror", lambda e: failures.append(f"script: {e}"))
    for user, paths in PAGES.items():
        log_in(page, console, user)
        for path in paths:
            page.goto(f"{console}{path}")
            page.wait_for_load_state("networkidle") if path != "/wallboard" else page.wait_for_selector("#queues td")
        page.click("#whoami + button")
    assert failures == []
