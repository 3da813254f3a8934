"""A preview campaign in real Chromium through the emulator and the ACD: agent1's workstation shows the patient
reserved for them with the campaign and why; Call has the ACD dial the patient for agent1 alone; the emulated
patient answers, agent1 talks, wraps up and ends the call with Hang up, and the wrap-up code is the attempt's
outcome on the campaign's rows and on the patient's record."""

from __future__ import annotations

from acd_site import AcdSite, add_agents, events, queue, wait_until
from campaign_rows import query_rows as rows
from click.testing import CliRunner
from emulated_site import stored_calls
from sqlalchemy import select
from test_acd_in_chromium import base_of, log_in, settings_for
from web_site import seed

from ccctl.campaigns.jobs import CampaignDialer
from ccctl.cli import main
from ccctl.records.models.audit import AuditEntry
from ccctl.records.models.campaigns import CampaignTarget, ContactAttempt
from ccctl.sim.originate import AgentEndpoint

ANNA_PHONE = "+48600100200"
CAMPAIGN = """\
name: heart-review
kind: notification
description: Check-up after heart surgery
mode: preview
agents: {skill: cardio, preview_seconds: 600}
targets: {patients: {}}
channels: {voice_attempts: 2}
calling: {windows: [{days: [mon, tue, wed, thu, fri, sat, sun], from: "00:00", to: "24:00"}]}
caps: {concurrent: 5, per_second: 5}
"""


def test_agent_previews_the_patient_calls_them_and_the_wrap_up_is_the_outcome(sqlite_url, tmp_path, browser_page):
    ids = seed(sqlite_url)
    add_agents(sqlite_url, {"agent1": ("1001", "cardio")})
    queue(sqlite_url)
    settings = settings_for(sqlite_url, tmp_path)
    campaign_file = tmp_path / "heart-review.yaml"
    campaign_file.write_text(CAMPAIGN)
    settings_file = tmp_path / "ccctl.yaml"
    settings_file.write_text(f"database: {{url: '{sqlite_url}'}}\nflows_dir: '{settings.flows_dir}'\n")
    for args in (("add", str(campaign_file)), ("start", "heart-review")):
        result = CliRunner().invoke(main, ["--config", str(settings_file), "campaigns", *args])
        assert result.exit_code == 0, result.output

    phones = {"1001": AgentEndpoint(answer_after=1, talk_seconds=600)}
    with AcdSite(settings, phones, time_factor=10.0) as site:
        patient_phone = AgentEndpoint(answer_after=1, talk_seconds=6000)  # Anna stays until agent1 hangs up
        site.switch.remotes[ANNA_PHONE.lstrip("+")] = patient_phone
        site.switch.remotes[ANNA_PHONE] = patient_phone
        dialer = CampaignDialer(site.settings, None, lambda: "")
        page = browser_page
        log_in(page, base_of(site), "agent1")
        page.wait_for_selector("body[data-stream=open]")
        dialer.start()
        try:
            page.wait_for_selector("#campaign-preview:not([hidden])")
            assert page.text_content("#preview-campaign") == "heart-review"
            assert page.text_content("#preview-attempt") == "call 1 of 2"
            assert page.text_content("#preview-why") == "Check-up after heart surgery"
            page.wait_for_selector("#preview-name:text('Anna Kowalska')")
            assert page.text_content("#preview-code") == "P000001"
            # the record's read on the card is audited like any other
            viewed = rows(
                sqlite_url, select(AuditEntry.actor, AuditEntry.action, AuditEntry.patient_id, AuditEntry.detail)
            )
            assert ("agent1", "view", ids["anna"], "campaign preview heart-review") in viewed

            page.click("#preview-call")
            # the ACD dials Anna for agent1 and offers her to agent1: the usual screen pop follows
            page.wait_for_selector("#pop-patient:not([hidden])")
            assert page.text_content("#pop-name") == "Anna Kowalska"
            assert wait_until(lambda: rows(sqlite_url, select(ContactAttempt.outcome)) == [("dialing",)])
            page.select_option("#wrapup-code", "resolved")
            page.fill("#wrapup-notes", "recovering well")
            page.click("#wrapup-save")
            page.wait_for_selector("text=Wrap-up saved.")
            # Hang up acts on the leg the ACD dialled to Anna (the pop names the campaign's callback)
            assert wait_until(lambda: ("answered", "agent1") in [(k, a) for _, k, a in events(sqlite_url)])
            anna = next(ch for ch in site.switch.channels.values() if ch.destination.endswith(ANNA_PHONE[1:]))
            page.click("button.control[data-action=hangup]")
            page.wait_for_selector("#control-result:text('Done.')")
            assert wait_until(lambda: not anna.up)
            outcome = select(CampaignTarget.state, CampaignTarget.last_outcome).where(
                CampaignTarget.patient_id == ids["anna"]
            )
            assert wait_until(lambda: rows(sqlite_url, outcome) == [("done", "resolved")], 30)
            # the patient's record, as agent1 may open it after the call, shows what the campaign came to
            page.goto(f"{base_of(site)}/patients/{ids['anna']}")
            contacts = page.text_content("#patient-campaign-contacts")
            assert "heart-review · reached" in contacts
            assert "voice · resolved · preview call 1 of 2 by agent1" in contacts
        finally:
            dialer.stop()
        site.wait_idle()

    attempts = rows(sqlite_url, select(ContactAttempt.patient_id, ContactAttempt.reason, ContactAttempt.outcome))
    assert attempts == [(ids["anna"], "preview call 1 of 2 by agent1", "resolved")]
    # one call, offered to and answered by agent1 alone
    assert [(kind, agent) for _, kind, agent in events(sqlite_url) if kind in ("offered", "answered")] == [
        ("offered", "agent1"),
        ("answered", "agent1"),
    ]
    # and its call record, as for any callback the ACD places
    calls = [(c["disposition"], c["path"]) for c in stored_calls(sqlite_url)]
    assert calls == [("completed", ["callback:answered"])]
