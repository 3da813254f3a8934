"""An agent works the callbacks of their queues on the workstation in real headless Chromium: the callers who
asked to be called back, with the number to dial, and a "called back" button that takes one off the list."""

import dataclasses
from datetime import UTC, datetime

import pytest
from emulated_site import site_settings
from sqlalchemy import select
from sqlalchemy.orm import Session
from web_site import PASSWORD, seed

from ccctl.acd.agents import add_agent, add_queue
from ccctl.acd.engine import AcdEngine
from ccctl.config import AcdSettings
from ccctl.records.database import make_engine
from ccctl.records.models.acd import QueueEntry
from ccctl.records.models.audit import AuditEntry
from ccctl.serve.controller import Controller

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def db_rows(url: str, query) -> list:
    engine = make_engine(url)
    try:
        with Session(engine) as db:
            return [tuple(row) for row in db.execute(query)]
    finally:
        engine.dispose()


@pytest.fixture
def console(sqlite_url, tmp_path):
    """A controller without a switch; agent1 takes cardio; a cardio caller and a dermatology caller asked for a
    callback (the ACD's own path: in line, then the callback key)."""
    ids = seed(sqlite_url)
    add_agent(sqlite_url, "agent1", "1001", {"cardio": 1})
    for name in ("cardio", "derma"):
        add_queue(sqlite_url, name, "longest-idle-agent", {name: 1}, {"callback_key": "1"})
    acd = AcdEngine(sqlite_url, AcdSettings(), clock=lambda: T0)
    entries = {}
    for queue, uuid, number, patient in (
        ("cardio", "call-1", "+48600100200", ids["anna"]),
        ("derma", "call-2", "+8613800000001", None),
    ):
        entries[queue] = acd.enqueue(queue, uuid, 0, patient).entry_id
        acd.calls.request_callback(entries[queue], number)
    acd.stop()
    settings = site_settings(sqlite_url, tmp_path)
    settings = dataclasses.replace(settings, web=dataclasses.replace(settings.web, secret_key="browser-test"))
    controller = Controller(settings, record_sink=lambda record: None, connect_inbound=False)
    controller.start()
    try:
        host, port = controller.web_address
        yield f"http://{host}:{port}", entries, sqlite_url
    finally:
        controller.stop(grace=1)


def test_agent_sees_the_callbacks_of_their_queues_and_marks_one_called_back(console, browser_page):
    base, entries, url = console
    page = browser_page
    page.goto(f"{base}/login")
    page.fill("#name", "agent1")
    page.fill("#password", PASSWORD)
    page.click("#login-button")
    page.wait_for_selector("#callbacks")
    rows = [row.split("\t") for row in page.locator("#callback-list tr[data-callback]").all_inner_texts()]
    assert [row[1:5] for row in rows] == [["cardio", "+48600100200", "P000001", "0"]]  # not the derma caller
    assert ("agent1", "callbacks view", f"callbacks {entries['cardio']}: patients P000001") in db_rows(
        url, select(AuditEntry.actor, AuditEntry.action, AuditEntry.detail)
    )
    # the button posts a form with the session's CSRF token; the same post without it is refused
    done_url = f"/workstation/callbacks/{entries['cardio']}/done"
    status = page.evaluate(f"fetch('{done_url}', {{method: 'POST', body: new URLSearchParams({{note: 'x'}})}})"
                           ".then(r => r.status)")  # fmt: skip
    assert status == 403
    page.fill(f"tr[data-callback='{entries['cardio']}'] input[name=note]", "booked for Monday")
    page.click(f"tr[data-callback='{entries['cardio']}'] button.callback-done")
    page.wait_for_selector(".flash.ok")
    assert page.text_content(".flash.ok") == "Callback marked done."
    assert page.text_content("#no-callbacks") == "No callbacks waiting in your queues."
    statuses = dict(db_rows(url, select(QueueEntry.queue, QueueEntry.status)))
    assert statuses == {"cardio": "called_back", "derma": "waiting"}
    assert ("agent1", "callback done", f"callback {entries['cardio']}") in db_rows(
        url, select(AuditEntry.actor, AuditEntry.action, AuditEntry.detail)
    )
