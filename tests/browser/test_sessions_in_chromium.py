"""Console sessions in real Chromium: a copied cookie dies at logout, at a password change (`ccctl users passwd`)
and after the idle time; every page works under the Content-Security-Policy (no inline script is refused)."""

import dataclasses
import os
import subprocess
import sys
from datetime import timedelta

import pytest
from emulated_site import site_settings
from playwright.sync_api import expect
from web_site import PASSWORD, seed

from ccctl.records.models.base import utc_now
from ccctl.serve.controller import Controller, welcome_for_every_hotline

CCCTL = [sys.executable, "-c", "from ccctl.cli import main; main()"]
NEW_PASSWORD = "a-new-Password-2"


@pytest.fixture
def console(sqlite_url, tmp_path):
    """A running controller serving the console (no switch behind it: the wallboard shows the alarm)."""
    seed(sqlite_url)
    settings = site_settings(sqlite_url, tmp_path)
    esl = dataclasses.replace(settings.esl, inbound_port=1, reconnect_seconds=5)
    web = dataclasses.replace(settings.web, secret_key="sessions-test", session_idle_minutes=30)
    settings = dataclasses.replace(settings, esl=esl, web=web)
    controller = Controller(settings, app_factory=welcome_for_every_hotline, record_sink=lambda record: None)
    controller.start()
    try:
        host, port = controller.web_address
        controller.base = f"http://{host}:{port}"
        controller.url = sqlite_url
        yield controller
    finally:
        controller.stop(grace=1)


def log_in(page, base: str, name: str, password: str = PASSWORD) -> None:
    page.goto(f"{base}/login")
    page.fill("#name", name)
    page.fill("#password", password)
    page.click("#login-button")
    page.wait_for_selector("#whoami")


def second_browser_with_the_cookies_of(chromium, page):
    """Another browser (its own context) holding a copy of the page's cookies: what a thief would do."""
    thief = chromium.new_context().new_page()
    thief.context.add_cookies(page.context.cookies())
    return thief


def test_a_copied_cookie_is_refused_after_logout(console, chromium, browser_page):
    page, base = browser_page, console.base
    log_in(page, base, "admin")
    thief = second_browser_with_the_cookies_of(chromium, page)
    try:
        thief.goto(f"{base}/admin/users")
        assert thief.text_content("#whoami") == "admin (admin)"
        page.click("#whoami + button")  # log out
        page.wait_for_url(f"{base}/login")
        thief.goto(f"{base}/admin/users")
        assert thief.url == f"{base}/login"
        assert "Your session has ended" in thief.text_content("#session-ended")
        assert thief.locator("#whoami").count() == 0
    finally:
        thief.context.close()


def test_after_a_password_change_the_old_session_is_refused(console, chromium, browser_page):
    page, base = browser_page, console.base
    log_in(page, base, "super")
    page.goto(f"{base}/wallboard")
    changed = subprocess.run(
        [*CCCTL, "users", "passwd", "super", "--password-stdin"],
        input=NEW_PASSWORD + "\n",
        env={**os.environ, "CCCTL_DATABASE__URL": console.url},
        capture_output=True,
        text=True,
    )
    assert changed.stdout == "password changed for super\nended 1 open console session\n", changed.stderr
    page.goto(f"{base}/wallboard")
    assert page.url == f"{base}/login" and page.locator("#session-ended").is_visible()
    page.fill("#name", "super")
    page.fill("#password", PASSWORD)
    page.click("#login-button")
    assert "Wrong user name or password." in page.text_content("#login-error")
    log_in(page, base, "super", NEW_PASSWORD)
    assert page.url == f"{base}/wallboard"


def test_after_the_idle_time_the_session_is_refused(console, browser_page):
    page, base = browser_page, console.base
    sessions = console.web_app.session_interface
    log_in(page, base, "super")
    # half an hour passes without a request (the sessions' clock moves; the test does not wait)
    sessions.clock = lambda: utc_now() + timedelta(minutes=31)
    page.goto(f"{base}/wallboard")
    assert page.url == f"{base}/login" and page.locator("#session-ended").is_visible()
    log_in(page, base, "super")
    assert page.url == f"{base}/wallboard"


@pytest.fixture
def strict_page(chromium):
    """A page that obeys the Content-Security-Policy (browser_page bypasses it for wait_for_function)."""
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        yield page
    finally:
        context.close()


def test_every_page_works_under_the_content_security_policy(console, strict_page):
    page, base = strict_page, console.base
    refused = []
    page.on(
        "console", lambda message: refused.append(message.text) if "Content Security Policy" in message.text else None
    )
    page.goto(f"{base}/login")
    # the language selector submits itself from console.js, not from an inline handler
    page.select_option("#language", "pl")
    expect(page.locator("#login-button")).to_have_text("Zaloguj")
    page.select_option("#language", "en")
    expect(page.locator("#login-button")).to_have_text("Log in")
    log_in(page, base, "super")
    # wallboard.js runs: the stream fills the tiles and the alarms, the chart is drawn
    expect(page.locator("#esl")).not_to_have_text("-")
    expect(page.locator("#alarm-list li.alarm-esl_lost")).to_be_visible()
    expect(page.locator("#chart svg")).to_be_attached()
    for path in ("/admin/patients", "/admin/flows", "/admin/agents", "/reports"):
        page.goto(f"{base}{path}")
        expect(page.locator("#whoami")).to_have_text("super (supervisor)")
    page.click("#whoami + button")
    log_in(page, base, "admin")
    for path in ("/admin/users", "/admin/audit"):
        page.goto(f"{base}{path}")
        expect(page.locator("#whoami")).to_have_text("admin (admin)")
    page.click("#whoami + button")
    log_in(page, base, "agent1")
    expect(page.locator("#agent-name")).to_have_text("agent1")
    page.goto(f"{base}/contact")
    expect(page.locator("#contact-form")).to_be_visible()
    assert refused == []
