"""A reminder campaign through the emulator: patients answer and press keys, one never answers, one opted
out; the dialer runs on an injected clock (quiet hours), and a second dialer (a restarted process) calls no one
twice."""

from __future__ import annotations

import dataclasses
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import gevent
from acd_site import wait_until
from campaign_rows import appointment_statuses, query_rows, sms_rows, voice_outcomes
from click.testing import CliRunner
from emulated_site import EmulatedSite, site_settings
from sqlalchemy import select
from sqlalchemy.orm import Session

from ccctl.campaigns.jobs import CampaignDialer
from ccctl.cli import main
from ccctl.records.database import make_engine
from ccctl.records.models.appointments import Appointment, Department, Doctor, Slot
from ccctl.records.models.campaigns import ContactAttempt
from ccctl.records.models.patients import Patient, PatientPhone
from ccctl.serve.controller import build_flow_registry
from ccctl.sim.originate import AgentEndpoint

REPO = Path(__file__).resolve().parents[2]
HOTLINE = """\
flow: main
language: en
start: bye
nodes:
  bye:
    type: hangup
    prompt: "say:Goodbye"
"""
CAMPAIGN = """\
name: reminders
kind: reminder
flow: reminder
targets:
  appointments: {from: 2026-12-09, to: 2026-12-09}
channels:
  voice_attempts: 2
  sms: "City Hospital: please call 7000 about your visit tomorrow."
calling:
  time_zone: Asia/Shanghai
  windows:
    - {days: [mon, tue, wed, thu, fri], from: "09:00", to: "20:00"}
  quiet_hours: ["12:00-14:00"]
retry: {no_answer: 30, busy: 10}
caps: {concurrent: 10, per_second: 10}
"""
# patient code -> (number, how their phone behaves)
PATIENTS = {
    "P1": ("13800000001", AgentEndpoint(answer_after=1, read_keys=["1"])),
    "P2": ("13800000002", AgentEndpoint(answer_after=1, read_keys=["2"])),
    "P3": ("13800000003", AgentEndpoint(answers=False)),
    "P4": ("13800000004", AgentEndpoint(answer_after=1, read_keys=["1"])),
}
MONDAY_LUNCH_SHANGHAI = datetime(2026, 12, 7, 4, 30, tzinfo=UTC)  # 12:30 there: quiet
TUESDAY_10AM_SHANGHAI = datetime(2026, 12, 8, 2, 0, tzinfo=UTC)


class CountingSwitch:
    """The dialer's SwitchApi: forwards to the controller's inbound client and notes every number dialled."""

    def __init__(self, inbound) -> None:
        self.inbound = inbound
        self.dialled: list[str] = []

    def bgapi(self, command: str, timeout: float | None = None) -> str:
        self.dialled.append(command.split("sofia/gateway/trunk/")[1].split(" ")[0])
        return self.inbound.bgapi(command, timeout=timeout)

    def wait_job(self, job_uuid: str, timeout: float | None = None) -> str:
        return self.inbound.wait_job(job_uuid, timeout=timeout)

    def live(self) -> bool:
        return self.inbound.live()


def seed(url: str) -> dict[str, int]:
    """Four patients, each with a visit on Wednesday; their appointment ids by patient code."""
    engine = make_engine(url)
    with Session(engine) as session:
        department = Department(code="cardio", name="Cardiology")
        doctor = Doctor(code="D1", name="Dr Lee", department=department)
        session.add_all([department, doctor])
        session.flush()
        visits = {}
        for hour, (code, (number, _)) in enumerate(PATIENTS.items(), start=1):
            patient = Patient(patient_code=code, given_name="Test", family_name=code)
            patient.phones.append(PatientPhone(number=number, kind="mobile"))
            starts = datetime(2026, 12, 9, hour, tzinfo=UTC)
            slot = Slot(doctor_id=doctor.id, department_id=department.id, starts_at=starts)
            session.add_all([patient, slot])
            session.flush()
            visit = Appointment(patient_id=patient.id, slot_id=slot.id, held_slot_id=slot.id, source="agent")
            session.add(visit)
            session.flush()
            visits[code] = visit.id
        session.commit()
    engine.dispose()
    return visits


def cli(settings_file: Path, *args: str) -> str:
    result = CliRunner().invoke(main, ["--config", str(settings_file), *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_reminder_campaign_confirms_cancels_texts_skips_and_survives_a_restart(sqlite_url, tmp_path):
    flows = tmp_path / "flows"
    (flows / "campaigns" / "flows").mkdir(parents=True)
    (flows / "main.yaml").write_text(HOTLINE)
    shutil.copy(REPO / "ivr_flows" / "campaigns" / "flows" / "reminder.yaml", flows / "campaigns" / "flows")
    (flows / "campaigns" / "reminders.yaml").write_text(CAMPAIGN)
    settings = site_settings(sqlite_url, tmp_path, flows_dir=str(flows))
    settings = dataclasses.replace(settings, sms=dataclasses.replace(settings.sms, sendsms_url=""))
    settings_file = tmp_path / "ccctl.yaml"
    settings_file.write_text(f"database: {{url: '{sqlite_url}'}}\nflows_dir: '{flows}'\n")
    visits = seed(sqlite_url)

    assert "campaign 'reminders' OK" in cli(
        settings_file, "campaigns", "check", str(flows / "campaigns/reminders.yaml")
    )
    added = cli(settings_file, "campaigns", "add", str(flows / "campaigns" / "reminders.yaml"))
    assert "with 4 patients" in added
    cli(settings_file, "campaigns", "opt-out", "P4", "--channel", "voice")
    cli(settings_file, "campaigns", "opt-out", "P4", "--channel", "sms")  # as if they had sent STOP
    cli(settings_file, "campaigns", "start", "reminders")

    now = [MONDAY_LUNCH_SHANGHAI]
    with EmulatedSite(settings, registry=build_flow_registry(settings), time_factor=20) as site:
        site.switch.remotes.update({number: phone for number, phone in PATIENTS.values()})
        assert site.controller.inbound.wait_connected(timeout=10)
        switch = CountingSwitch(site.controller.inbound)
        address = lambda: site.controller.outbound_address_text  # noqa: E731
        dialer = CampaignDialer(site.settings, switch, address, clock=lambda: now[0])
        dialer.attach_events(site.controller.inbound)
        assert dialer.tick() == 0  # quiet hours in Shanghai: nobody is called
        assert switch.dialled == []

        now[0] = TUESDAY_10AM_SHANGHAI
        assert dialer.tick() == 3  # P1, P2, P3; P4 opted out of calls
        restarted = CampaignDialer(site.settings, switch, address, clock=lambda: now[0])
        assert restarted.tick() == 0  # a second process finds every due patient claimed
        assert wait_until(lambda: voice_outcomes(sqlite_url).get("P3") == ["no_answer"], timeout=20)
        assert wait_until(lambda: finished(sqlite_url, "P1", "P2"), timeout=20)

        now[0] += timedelta(minutes=31)  # P3's retry is due
        assert restarted.tick() == 1
        assert wait_until(lambda: voice_outcomes(sqlite_url).get("P3") == ["no_answer", "no_answer"], timeout=20)
        now[0] += timedelta(minutes=1)
        assert restarted.tick() == 0  # P3's calls are used up: the SMS instead
        site.wait_idle()
        dialer.stop()
        restarted.stop()
        gevent.sleep(0)

    assert sorted(switch.dialled) == ["13800000001", "13800000002", "13800000003", "13800000003"]
    assert appointment_statuses(sqlite_url) == {
        visits["P1"]: "confirmed",
        visits["P2"]: "cancelled",
        visits["P3"]: "booked",
        visits["P4"]: "booked",
    }
    assert sms_rows(sqlite_url) == [
        ("13800000003", "queued", "City Hospital: please call 7000 about your visit tomorrow.")
    ]
    found = voice_outcomes(sqlite_url)
    assert found["P1"] == ["confirmed"] and found["P2"] == ["cancelled"]
    assert found["P4"] == ["opted_out"]  # recorded with its reason, never dialled, and no SMS either
    assert sms_outcomes(sqlite_url) == {"P3": "queued", "P4": "opted_out"}
    report = cli(settings_file, "campaigns", "report", "reminders")
    assert "confirmed" in report and "cancelled" in report and "queued" in report


def finished(url: str, *codes: str) -> bool:
    found = voice_outcomes(url)
    return all(found.get(code) and found[code][-1] in ("confirmed", "cancelled") for code in codes)


def sms_outcomes(url: str) -> dict[str, str]:
    return dict(
        query_rows(
            url,
            select(Patient.patient_code, ContactAttempt.outcome)
            .join(Patient, Patient.id == ContactAttempt.patient_id)
            .where(ContactAttempt.channel == "sms"),
        )
    )
