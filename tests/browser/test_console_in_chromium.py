"""The web console in real headless Chromium against a running controller and the FreeSWITCH emulator.

Supervisor wallboard fed by emulated calls, admin patient view and audit, agent limits, CSRF, login
throttling, languages, the screen pop and wrap-up.
"""

import dataclasses

import pytest
from emulated_site import EmulatedSite, site_settings
from web_site import PASSWORD, seed

from ccctl.serve.controller import Controller, welcome_for_every_hotline
from ccctl.sim.callers import CallerScript


@pytest.fixture
def site(sqlite_url, tmp_path):
    ids = seed(sqlite_url)
    settings = site_settings(sqlite_url, tmp_path)
    settings = dataclasses.replace(settings, web=dataclasses.replace(settings.web, secret_key="browser-test"))
    with EmulatedSite(settings, welcome_for_every_hotline, time_factor=4.0) as emulated:
        host, port = emulated.controller.web_address
        emulated.base = f"http://{host}:{port}"
        emulated.ids = ids
        # the ACD calls this object's listener; these tests call it the same way
        emulated.web_context = emulated.controller._web.application.extensions["ccctl"]
        yield emulated


def log_in(page, base: str, name: str, password: str = PASSWORD) -> None:
    page.goto(f"{base}/login")
    page.fill("#name", name)
    page.fill("#password", password)
    page.click("#login-button")


def test_supervisor_watches_the_wallboard_count_emulated_calls(site, browser_page):
    page = browser_page
    log_in(page, site.base, "super")
    page.wait_for_url(f"{site.base}/wallboard")
    page.wait_for_function("document.getElementById('esl').textContent === 'connected'")
    assert page.text_content("#completed") == "0"
    calls = [site.switch.place_call(CallerScript(f"1380000{n:04d}", "7000", ["1"], context="public")) for n in range(5)]
    # the calls last a few seconds: the wallboard shows them while they run
    page.wait_for_function("Number(document.getElementById('active').textContent) > 0")
    for call in calls:
        assert call.wait(30).failure == ""
    page.wait_for_function("document.getElementById('completed').textContent === '5'")
    page.wait_for_function("document.querySelector('#chart svg').dataset.todayTotal === '5'")
    assert "No alarms" in page.text_content("#alarm-list")


def test_lost_freeswitch_link_raises_an_alarm(sqlite_url, tmp_path, browser_page):
    seed(sqlite_url)
    settings = site_settings(sqlite_url, tmp_path)
    # nothing listens on the inbound port: the controller keeps trying, the wallboard says so
    esl = dataclasses.replace(settings.esl, inbound_port=1, reconnect_seconds=0.2)
    settings = dataclasses.replace(settings, esl=esl, web=dataclasses.replace(settings.web, secret_key="x"))
    controller = Controller(settings, app_factory=welcome_for_every_hotline, record_sink=lambda record: None)
    controller.start()
    try:
        host, port = controller.web_address
        log_in(browser_page, f"http://{host}:{port}", "super")
        browser_page.wait_for_selector("#alarm-list li.alarm-esl_lost")
        assert "inbound ESL to FreeSWITCH 127.0.0.1:1 is" in browser_page.text_content("#alarm-list")
    finally:
        controller.stop(grace=1)


def test_admin_views_a_patient_and_the_view_is_in_the_audit_log(site, browser_page):
    page = browser_page
    log_in(page, site.base, "admin")
    page.fill("#search", "kowal")
    page.click("#search-button")
    page.click("#patients a")
    assert page.text_content("#patient-name") == "Anna Kowalska"
    assert "kowal" not in page.url.lower() and page.url == f"{site.base}/patients/{site.ids['anna']}"
    page.goto(f"{site.base}/admin/audit")
    first = page.locator("#audit tr").nth(1).inner_text().split("\t")
    assert first[1:5] == ["admin", "view", "P000001", "web:127.0.0.1"]  # the patient by code, not row number


def test_agent_cannot_open_another_patients_record(site, browser_page):
    site.web_context.screen_pops.on_acd_event(
        {"type": "offered", "agent": "agent1", "call_uuid": "c-1", "patient_id": site.ids["anna"], "queue": "q"}
    )
    page = browser_page
    log_in(page, site.base, "agent1")
    own = page.goto(f"{site.base}/patients/{site.ids['anna']}")
    assert own.status == 200 and page.text_content("#patient-name") == "Anna Kowalska"
    other = page.goto(f"{site.base}/patients/{site.ids['wei']}")
    assert other.status == 403 and page.text_content("#message") == "You may not open this page."
    assert "Zhang" not in page.content()


def test_post_without_csrf_token_is_refused(site, browser_page):
    page = browser_page
    log_in(page, site.base, "admin")
    page.goto(f"{site.base}/admin/flows")
    status = page.evaluate("fetch('/admin/flows/reload', {method: 'POST'}).then(r => r.status)")
    assert status == 403
    # the form carries the token: the controller answers (this site runs the built-in flow, not YAML ones)
    page.click("#reload")
    assert page.text_content(".flash") == "this controller runs the built-in welcome flow, not YAML flows"


def test_login_is_throttled_after_repeated_failures(site, browser_page):
    page = browser_page
    for _ in range(5):
        log_in(page, site.base, "super", "not-the-password")
        assert page.text_content("#login-error") == "Wrong user name or password."
    log_in(page, site.base, "super")
    assert page.text_content("#login-error") == "Too many failed logins. Try again later."


def test_language_switch_shows_chinese_and_polish(site, browser_page):
    page = browser_page
    log_in(page, site.base, "super")
    page.select_option("#language", "zh")
    page.wait_for_selector("text=监控大屏")
    assert "告警" in page.text_content("#alarms h2")
    page.select_option("#language", "pl")
    page.wait_for_selector("text=Tablica")
    assert page.text_content("#alarms h2") == "Alarmy"


def test_agent_gets_a_screen_pop_and_writes_a_wrap_up(site, browser_page):
    page = browser_page
    log_in(page, site.base, "agent1")
    page.wait_for_url(f"{site.base}/workstation")
    page.wait_for_selector("body[data-stream=open]")
    site.web_context.screen_pops.on_acd_event(
        {"type": "offered", "agent": "agent1", "call_uuid": "c-42", "patient_id": site.ids["anna"], "queue": "general"}
    )
    page.wait_for_selector("#pop-patient:not([hidden])")
    assert page.text_content("#pop-name") == "Anna Kowalska"
    assert page.text_content("#pop-member") == "Member 880001"
    page.select_option("#wrapup-code", "resolved")
    page.fill("#wrapup-notes", "asked about the next visit")
    page.click("#wrapup-save")
    page.wait_for_selector("text=Wrap-up saved.")
