"""The console with the ACD in real Chromium: a queued caller pops on the right agent's screen; long waits alarm.

The emulator's caller is a known patient; the flow looks them up by number and queues them; the ACD offers
the call to the agent's simulated phone and tells the console, which pops it on that agent's workstation.
The screenshots in docs/screenshots/ come from here (CCCTL_SCREENSHOTS_DIR=docs/screenshots).
"""

import dataclasses
import os
import tempfile
from pathlib import Path

import pytest
from acd_site import AcdSite, add_agents, agent_rows, queue, site_settings, wait_until
from web_site import PASSWORD, seed

from ccctl.acd.agents import set_status
from ccctl.sim.callers import CallerScript
from ccctl.sim.originate import AgentEndpoint

FLOW = """\
flow: main
description: screen pop test hotline
language: en
start: identify
nodes:
  identify:
    type: lookup
    by: caller_number
    found: to_agent
    not_found: to_agent
  to_agent:
    type: queue
    skill: cardio
    on_failure: bye
  bye:
    type: hangup
    prompt: "say:Nobody could take your call"
"""
# a test run leaves the checkout clean: screenshots go to a temporary folder unless
# CCCTL_SCREENSHOTS_DIR names one (CCCTL_SCREENSHOTS_DIR=docs/screenshots refreshes the docs' pictures)
SCREENSHOTS = Path(os.environ.get("CCCTL_SCREENSHOTS_DIR") or tempfile.mkdtemp(prefix="ccctl-screenshots-"))
ANNA_PHONE = "+48600100200"  # the seeded patient Anna Kowalska


def settings_for(db_url: str, tmp_path, caller_wait_seconds: int = 120):
    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "main.yaml").write_text(FLOW)
    settings = site_settings(db_url, tmp_path, flows_dir=str(flows))
    alarms = dataclasses.replace(settings.web.alarms, caller_wait_seconds=caller_wait_seconds)
    web = dataclasses.replace(settings.web, secret_key="acd-browser-test", alarms=alarms)
    return dataclasses.replace(settings, web=web, acd=dataclasses.replace(settings.acd, router_tick_seconds=0.05))


def log_in(page, base: str, name: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#name", name)
    page.fill("#password", PASSWORD)
    page.click("#login-button")


@pytest.fixture
def patients(sqlite_url):
    ids = seed(sqlite_url)
    add_agents(sqlite_url, {"agent1": ("1001", "cardio")})
    queue(sqlite_url)
    return ids


def show(element_id: str, page, text: str) -> None:
    """Set an element's text from the test (so the next wait sees the page's own answer, not the last one)."""
    page.evaluate("([id, text]) => { document.getElementById(id).textContent = text; }", [element_id, text])


def base_of(site) -> str:
    host, port = site.controller.web_address
    return f"http://{host}:{port}"


def test_agent_receives_the_call_sees_the_patient_and_wraps_up(sqlite_url, tmp_path, patients, browser_page):
    phones = {"1001": AgentEndpoint(answer_after=2, talk_seconds=600)}
    with AcdSite(settings_for(sqlite_url, tmp_path), phones, time_factor=10.0) as site:
        page = browser_page
        log_in(page, base_of(site), "agent1")
        page.wait_for_selector("body[data-stream=open]")
        call = site.switch.place_call(CallerScript(ANNA_PHONE, "7000", [], context="public"))
        page.wait_for_selector("#pop-patient:not([hidden])")
        assert page.text_content("#pop-name") == "Anna Kowalska"
        assert page.text_content("#pop-member") == "Member 880001"
        assert page.text_content("#pop-queue") == "cardio"
        page.fill("#wrapup-notes", "wants a cardiology appointment")
        page.screenshot(path=str(SCREENSHOTS / "workstation.png"), full_page=True)
        page.click("#wrapup-save")
        page.wait_for_selector("text=Wrap-up saved.")
        # the agent ends the call from the page: uuid_kill through the controller's inbound ESL
        page.click("button.control[data-action=hangup]")
        page.wait_for_selector("#control-result:text('Done.')")
        outcome = call.wait(30)
        assert outcome.answered and outcome.uuid == page.text_content("#pop-uuid")
        site.wait_idle()
        page.select_option("#agent-status", "on_break")
        page.fill("#break-reason", "lunch")
        page.click("#set-status")
        page.wait_for_selector("#status-result:text('on_break')")
        assert agent_rows(sqlite_url)["agent1"].status == "on_break"
        log_in(page, base_of(site), "super")
        page.goto(f"{base_of(site)}/reports")
        cardio = page.locator("#kpis tr", has_text="cardio").inner_text().split("\t")
        assert cardio[:4] == ["cardio", "1", "1", "0"]


def test_agent_transfers_the_call_to_another_agent_from_the_workstation(sqlite_url, tmp_path, patients, browser_page):
    add_agents(sqlite_url, {"agent2": ("1002", "dermato")})  # not in the queue: reached by transfer only
    phones = {
        "1001": AgentEndpoint(answer_after=2, talk_seconds=600),
        "1002": AgentEndpoint(answer_after=2, talk_seconds=20),
    }
    with AcdSite(settings_for(sqlite_url, tmp_path), phones, time_factor=10.0) as site:
        page = browser_page
        log_in(page, base_of(site), "agent1")
        page.wait_for_selector("body[data-stream=open]")
        call = site.switch.place_call(CallerScript(ANNA_PHONE, "7000", [], context="public"))
        page.wait_for_selector("#pop-patient:not([hidden])")
        page.wait_for_function("() => !document.querySelector('button.xfer').disabled")
        assert wait_until(lambda: agent_rows(sqlite_url)["agent1"].state == "in_call")  # the pop comes at ringing
        # hold: the agent's phone is held and the patient hears the hold music; then back
        patient = site.switch.channels[call.uuid]
        agent_leg = next(ch for ch in site.switch.channels.values() if "/1001@" in ch.name)
        page.click("button.control[data-action=hold]")
        page.wait_for_selector("#control-result:text('Done.')")
        assert "CF_HOLD" in agent_leg.flags
        assert wait_until(lambda: patient.get_var("current_application_data") == "local_stream://moh")
        show("control-result", page, "")
        page.click("button.control[data-action=unhold]")
        page.wait_for_selector("#control-result:text('Done.')")
        assert wait_until(lambda: "CF_HOLD" not in agent_leg.flags)
        set_status(sqlite_url, "agent2", "On Break")
        page.fill("#xfer-agent", "agent2")
        page.click("button.xfer[data-kind=blind][data-to=agent]")
        page.wait_for_selector("#xfer-result:text('is not free to take a call')")  # told why, call untouched
        assert agent_rows(sqlite_url)["agent1"].state == "in_call"
        set_status(sqlite_url, "agent2", "Available")
        page.click("button.xfer[data-kind=blind][data-to=agent]")
        page.wait_for_selector("#xfer-result:text('Done. agent2')")
        outcome = call.wait(30)
        site.wait_idle()
    assert outcome.answered
    rows = agent_rows(sqlite_url)
    assert rows["agent1"].calls_answered == 1 and rows["agent2"].calls_answered == 1


def test_caller_waiting_too_long_raises_an_alarm_on_the_wallboard(sqlite_url, tmp_path, patients, browser_page):
    set_status(sqlite_url, "agent1", "On Break")
    settings = settings_for(sqlite_url, tmp_path, caller_wait_seconds=1)
    with AcdSite(settings, {"1001": AgentEndpoint()}, time_factor=10.0) as site:
        page = browser_page
        log_in(page, base_of(site), "super")
        call = site.switch.place_call(CallerScript("13800000009", "7000", [], hangup_after=60, context="public"))
        page.wait_for_selector("#alarm-list li.alarm-caller_waiting")
        assert "queue cardio: a caller waits" in page.text_content("#alarm-list")
        assert page.text_content("#queues tbody tr td") == "cardio"
        page.screenshot(path=str(SCREENSHOTS / "wallboard.png"), full_page=True)
        call.wait(30)
