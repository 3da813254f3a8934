"""Answering machines on campaign calls through the emulator: mod_avmd's beep on a voicemail greeting makes
the attempt `machine`; a leave_message campaign speaks its message after the beep and is done, a hang_up
campaign hangs up and tries again later (here: its SMS, the voice attempts being used); a person answering
the same campaign is not disturbed."""

from __future__ import annotations

import dataclasses
import shutil
from datetime import UTC, datetime
from pathlib import Path

import gevent
from acd_site import wait_until
from campaign_rows import query_rows
from click.testing import CliRunner
from emulated_site import EmulatedSite, site_settings
from sqlalchemy import select
from sqlalchemy.orm import Session

from ccctl.campaigns.jobs import CampaignDialer
from ccctl.cli import main
from ccctl.records.database import make_engine
from ccctl.records.models.campaigns import CampaignTarget, ContactAttempt
from ccctl.records.models.channels import SmsMessage
from ccctl.records.models.patients import Patient, PatientPhone
from ccctl.serve.controller import build_flow_registry
from ccctl.sim.originate import AgentEndpoint

REPO = Path(__file__).resolve().parents[2]
HOTLINE = 'flow: main\nlanguage: en\nstart: bye\nnodes:\n  bye:\n    type: hangup\n    prompt: "say:Goodbye"\n'
MESSAGE = "City Hospital calling about your visit. Please call us on 7000."
CAMPAIGN = """\
name: {name}
kind: reminder
flow: reminder
targets: {{csv: {name}.csv}}
channels:
  voice_attempts: 1
  sms: "City Hospital: please call 7000."
calling:
  windows: [{{days: [mon, tue, wed, thu, fri, sat, sun], from: "00:00", to: "24:00"}}]
caps: {{concurrent: 10, per_second: 10}}
machine: {machine}
"""
PATIENTS = {
    "P1": ("13900000001", AgentEndpoint(answer_after=1, beep_after=3)),  # voicemail, leave_message campaign
    "P2": ("13900000002", AgentEndpoint(answer_after=1, read_keys=["1"])),  # a person, leave_message campaign
    "P3": ("13900000003", AgentEndpoint(answer_after=1, beep_after=3)),  # voicemail, hang_up campaign
}
MONDAY_NOON = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def write_campaigns(flows: Path) -> None:
    (flows / "campaigns" / "flows").mkdir(parents=True)
    (flows / "main.yaml").write_text(HOTLINE)
    shutil.copy(REPO / "ivr_flows" / "campaigns" / "flows" / "reminder.yaml", flows / "campaigns" / "flows")
    leave = CAMPAIGN.format(name="leave", machine="leave_message") + f'machine_message: "say:{MESSAGE}"\n'
    (flows / "campaigns" / "leave.yaml").write_text(leave)
    (flows / "campaigns" / "leave.csv").write_text("patient_code\nP1\nP2\n")
    (flows / "campaigns" / "hangup.yaml").write_text(CAMPAIGN.format(name="hangup", machine="hang_up"))
    (flows / "campaigns" / "hangup.csv").write_text("patient_code\nP3\n")


def seed(url: str) -> None:
    engine = make_engine(url)
    with Session(engine) as session:
        for code, (number, _) in PATIENTS.items():
            patient = Patient(patient_code=code, given_name="Test", family_name=code)
            patient.phones.append(PatientPhone(number=number, kind="mobile"))
            session.add(patient)
        session.commit()
    engine.dispose()


def cli(settings_file: Path, *args: str) -> str:
    result = CliRunner().invoke(main, ["--config", str(settings_file), *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_a_voicemail_greeting_gets_the_message_or_a_hangup_and_a_person_the_reminder(sqlite_url, tmp_path):
    flows = tmp_path / "flows"
    write_campaigns(flows)
    settings = site_settings(sqlite_url, tmp_path, flows_dir=str(flows))
    settings = dataclasses.replace(settings, sms=dataclasses.replace(settings.sms, sendsms_url=""))
    settings_file = tmp_path / "ccctl.yaml"
    settings_file.write_text(f"database: {{url: '{sqlite_url}'}}\nflows_dir: '{flows}'\n")
    seed(sqlite_url)
    for name in ("leave", "hangup"):
        assert "with" in cli(settings_file, "campaigns", "add", str(flows / "campaigns" / f"{name}.yaml"))
        cli(settings_file, "campaigns", "start", name)

    executed: list[tuple[str, str, str]] = []
    with EmulatedSite(settings, registry=build_flow_registry(settings), time_factor=20) as site:
        site.switch.remotes.update({number: phone for number, phone in PATIENTS.values()})
        inbound = site.controller.inbound
        assert inbound.wait_connected(timeout=10)
        inbound.subscribe(["CHANNEL_EXECUTE"])
        inbound.on(
            "CHANNEL_EXECUTE",
            lambda e: executed.append((e.get("Unique-ID"), e.get("Application"), e.get("Application-Data") or "")),
        )
        address = lambda: site.controller.outbound_address_text  # noqa: E731
        dialer = CampaignDialer(site.settings, inbound, address, clock=lambda: MONDAY_NOON)
        dialer.attach_events(inbound)
        assert dialer.tick() == 3
        assert wait_until(lambda: outcomes(sqlite_url) == {"P1": "machine", "P2": "confirmed", "P3": "machine"}, 30), (
            outcomes(sqlite_url),
            executed,
        )
        assert dialer.tick() == 0  # every voice attempt is used: the hang_up campaign's machine gets its SMS
        assert wait_until(lambda: len(sms_rows(sqlite_url)) == 1, 10)
        site.wait_idle()
        dialer.stop()
        gevent.sleep(0)

    calls = attempt_calls(sqlite_url)
    apps = {code: [(app, data) for uuid, app, data in executed if uuid == calls[code]] for code in PATIENTS}
    assert all(("avmd_start", "") in apps[code] for code in PATIENTS), apps
    assert ("playback", f"say:{MESSAGE}") in apps["P1"], apps["P1"]
    assert not any(MESSAGE in data for _, data in apps["P2"] + apps["P3"])
    assert states(sqlite_url) == {"P1": "done", "P2": "done", "P3": "done"}
    assert sms_rows(sqlite_url) == [("13900000003", "queued")]  # only the hang_up campaign's machine


def voice_attempts(url: str, column) -> dict[str, str]:
    """patient code -> `column` of their voice attempt."""
    return dict(
        query_rows(
            url,
            select(Patient.patient_code, column)
            .join(Patient, Patient.id == ContactAttempt.patient_id)
            .where(ContactAttempt.channel == "voice"),
        )
    )


def outcomes(url: str) -> dict[str, str]:
    return voice_attempts(url, ContactAttempt.outcome)


def attempt_calls(url: str) -> dict[str, str]:
    return voice_attempts(url, ContactAttempt.call_uuid)


def states(url: str) -> dict[str, str]:
    query = select(Patient.patient_code, CampaignTarget.state).join(Patient, Patient.id == CampaignTarget.patient_id)
    return dict(query_rows(url, query))


def sms_rows(url: str) -> list[tuple[str, str]]:
    return query_rows(url, select(SmsMessage.recipient, SmsMessage.status))
