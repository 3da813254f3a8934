"""Click-to-call in real Chromium over the emulator: the agent clicks "Call now" on a callback, the row shows
it being called for them, the patient's phone rings and the call pops on that agent's workstation, whose Hold,
Resume and Hang up act on the leg the ACD dialled to the patient."""

from __future__ import annotations

import datetime as dt

from acd_site import AcdSite, events, wait_until
from test_acd_in_chromium import ANNA_PHONE, base_of, log_in, patients, settings_for, show  # noqa: F401

from ccctl.acd.callbacks import CallbackError, file_callback
from ccctl.records.database import in_transaction
from ccctl.sim.originate import AgentEndpoint


def test_agent_clicks_call_now_and_the_patient_is_called_for_them(sqlite_url, tmp_path, patients, browser_page):  # noqa: F811
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=10)  # asked after hours: the router would wait

    def ask(session) -> int:
        now = dt.datetime.now(dt.UTC)
        return file_callback(session, "cardio", ANNA_PHONE, patients["anna"], "after_hours", now, after=later).id

    entry = in_transaction(sqlite_url, CallbackError, ask)
    phones = {"1001": AgentEndpoint(answer_after=2, talk_seconds=6000)}  # only the Hang up button ends it
    with AcdSite(settings_for(sqlite_url, tmp_path), phones, time_factor=10.0) as site:
        assert site.controller.inbound.wait_connected(5)
        # the patient picks up after 3 s here and stays on the line
        site.switch.default_remote = AgentEndpoint(answer_after=30, talk_seconds=6000)
        page = browser_page
        log_in(page, base_of(site), "agent1")
        page.wait_for_selector("body[data-stream=open]")
        row = f"tr[data-callback='{entry}']"
        assert page.get_attribute(row, "data-state") == "pending"
        assert page.text_content(f"{row} td.number") == ANNA_PHONE
        page.click(f"{row} button.callback-call")
        page.wait_for_selector(".flash.ok")
        assert page.text_content(".flash.ok") == "Calling the patient: you are reserved for this call."
        # the page is back long before the patient answers: the row shows them being called for this agent
        assert page.get_attribute(row, "data-state") == "calling"
        assert page.text_content(f"{row} td.state") == "calling (agent1)"
        assert page.locator(f"{row} button.callback-call").count() == 0
        page.wait_for_selector("#pop-patient:not([hidden])")
        assert page.text_content("#pop-name") == "Anna Kowalska"
        assert page.text_content("#pop-queue") == "cardio"
        assert wait_until(lambda: ("answered", "agent1") in [(k, a) for _, k, a in events(sqlite_url)])
        # the pop names the callback; the controls act on the leg the ACD dialled, with the patient on it
        patient = next(ch for ch in site.switch.channels.values() if ch.destination.endswith(ANNA_PHONE[1:]))
        agent_leg = next(ch for ch in site.switch.channels.values() if "/1001@" in ch.name)
        assert page.text_content("#pop-uuid") != patient.uuid
        page.click("button.control[data-action=hold]")
        page.wait_for_selector("#control-result:text('Done.')")
        assert "CF_HOLD" in agent_leg.flags
        assert wait_until(lambda: patient.get_var("current_application_data") == "local_stream://moh")
        show("control-result", page, "")
        page.click("button.control[data-action=unhold]")
        page.wait_for_selector("#control-result:text('Done.')")
        assert wait_until(lambda: "CF_HOLD" not in agent_leg.flags)
        show("control-result", page, "")
        page.click("button.control[data-action=hangup]")
        page.wait_for_selector("#control-result:text('Done.')")
        assert wait_until(lambda: not patient.up)
        assert wait_until(lambda: ("ended", "agent1") in [(k, a) for _, k, a in events(sqlite_url)], timeout=30)
        site.wait_idle()
        page.reload()
        page.wait_for_selector("#no-callbacks")  # made: off the worklist
    kinds = [(kind, agent) for _, kind, agent in events(sqlite_url)]
    assert kinds == [
        ("callback_requested", None),
        ("callback_pinned", "agent1"),
        ("callback_made", None),
        ("offered", "agent1"),
        ("answered", "agent1"),
        ("ended", "agent1"),
        ("wrapup_end", "agent1"),
    ]
