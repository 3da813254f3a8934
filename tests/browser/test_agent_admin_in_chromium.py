"""The admin edits, disables, enables and removes an agent and edits a queue on the agents page in Chromium; a
queue with a caller waiting is not removed (the page says how many); every change is in the audit log."""

import dataclasses

from emulated_site import site_settings
from sqlalchemy.orm import Session
from web_site import PASSWORD, seed

from ccctl.acd.agents import add_agent, add_queue
from ccctl.records.database import make_engine
from ccctl.records.models.acd import QueueEntry
from ccctl.records.models.base import utc_now
from ccctl.serve.controller import Controller, welcome_for_every_hotline


def one_waiting(url: str) -> None:
    engine = make_engine(url)
    with Session(engine) as session, session.begin():
        session.add(QueueEntry(queue="cardio", call_uuid="waiting-1", status="waiting", entered_at=utc_now()))
    engine.dispose()


def test_admin_changes_and_retires_agents_and_queues_on_the_agents_page(sqlite_url, tmp_path, browser_page):
    seed(sqlite_url)
    add_agent(sqlite_url, "ann", "1001", {"cardio": 2})
    add_queue(sqlite_url, "cardio", "longest-idle-agent", {"cardio": 1}, {"max_wait_seconds": 300})
    one_waiting(sqlite_url)
    settings = site_settings(sqlite_url, tmp_path)
    esl = dataclasses.replace(settings.esl, inbound_port=1, reconnect_seconds=5)  # no switch needed here
    settings = dataclasses.replace(settings, esl=esl, web=dataclasses.replace(settings.web, secret_key="admin-test"))
    controller = Controller(settings, app_factory=welcome_for_every_hotline, record_sink=lambda record: None)
    controller.start()
    page = browser_page
    try:
        host, port = controller.web_address
        base = f"http://{host}:{port}"
        page.goto(f"{base}/login")
        page.fill("#name", "admin")
        page.fill("#password", PASSWORD)
        page.click("#login-button")
        page.goto(f"{base}/admin/agents")

        row = page.locator("#agents tr", has_text="ann")
        row.locator("input[name=extension]").fill("1207")  # outside freeswitch.agent_extensions
        row.locator("form.agent-edit button").click()
        assert "outside freeswitch.agent_extensions (1000-1099)" in page.text_content(".flash.error")
        row = page.locator("#agents tr", has_text="ann")
        row.locator("input[name=extension]").fill("1005")
        row.locator("input[name=skills]").fill("cardio:6,polish")
        row.locator("form.agent-edit button").click()
        assert page.text_content(".flash.ok") == "ann: extension, skills"
        cells = page.locator("#agents tr", has_text="ann").locator("td")
        assert cells.nth(1).inner_text() == "1005" and "cardio:6 polish:1" in cells.nth(4).inner_text()

        page.locator("#agents tr", has_text="ann").locator("button[value=disable]").click()
        assert page.locator("#agents tr", has_text="ann").locator("td").nth(2).inner_text() == "Disabled"
        page.locator("#agents tr", has_text="ann").locator("button[value=enable]").click()
        assert page.locator("#agents tr", has_text="ann").locator("td").nth(2).inner_text() == "logged_out"

        queue = page.locator("#queue-rules tr", has_text="cardio")
        queue.locator("select[name=strategy]").select_option("ring-all")
        queue.locator("input[name=max_wait_seconds]").fill("120")
        queue.locator("form.queue-edit button").click()
        assert page.text_content(".flash.ok") == "cardio: strategy, max_wait_seconds"
        cells = page.locator("#queue-rules tr", has_text="cardio").locator("td")
        assert cells.nth(1).inner_text() == "ring-all" and cells.nth(3).inner_text() == "120"
        page.locator("#queue-rules tr", has_text="cardio").locator("form.inline button").click()
        assert "1 caller is waiting in it" in page.text_content(".flash.error")
        assert page.locator("#queue-rules tr", has_text="cardio").count() == 1

        page.locator("#agents tr", has_text="ann").locator("button[value=remove]").click()
        assert page.locator("#agents tr", has_text="ann").count() == 0

        page.goto(f"{base}/admin/audit")
        audit = page.text_content("#audit")
        for action in ("agent_edit", "agent_disable", "agent_enable", "queue_edit", "agent_remove"):
            assert action in audit
    finally:
        controller.stop(grace=1)
