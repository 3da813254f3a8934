"""Surveys through the emulator: after an agent hangs up the caller answers the queue's survey (a low score
opens a ticket holding the answers), and a survey campaign's call stores the patient's answers."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

from acd_site import AcdSite, acd_settings, add_agents, queue, wait_until
from click.testing import CliRunner
from emulated_site import EmulatedSite, site_settings
from sqlalchemy import select
from sqlalchemy.orm import Session

from ccctl.campaigns.jobs import CampaignDialer
from ccctl.cli import main
from ccctl.records.database import make_engine
from ccctl.records.models.inbox import Ticket
from ccctl.records.models.patients import Patient, PatientPhone
from ccctl.records.models.surveys import SurveyAnswer, SurveyResponse
from ccctl.serve.controller import build_flow_registry
from ccctl.sim.callers import CallerScript
from ccctl.sim.originate import AgentEndpoint

REPO = Path(__file__).resolve().parents[2]
SURVEY = REPO / "ivr_flows" / "surveys" / "after-call.yaml"
HOTLINE = """\
flow: main
language: en
start: bye
nodes:
  bye:
    type: hangup
"""
CAMPAIGN = """\
name: follow-up
kind: survey
flow: survey
targets:
  csv: follow-up.csv
channels:
  voice_attempts: 1
calling:
  time_zone: Asia/Shanghai
  windows:
    - {days: [mon, tue, wed, thu, fri], from: "09:00", to: "20:00"}
caps: {concurrent: 5, per_second: 5}
"""
TUESDAY_10AM_SHANGHAI = datetime(2026, 12, 8, 2, 0, tzinfo=UTC)


def responses(url: str) -> list[tuple[SurveyResponse, dict[str, int]]]:
    engine = make_engine(url)
    try:
        with Session(engine, expire_on_commit=False) as session:
            rows = list(session.scalars(select(SurveyResponse).order_by(SurveyResponse.id)))
            found = []
            for row in rows:
                answers = session.scalars(select(SurveyAnswer).where(SurveyAnswer.response_id == row.id))
                found.append((row, {a.question: a.value for a in answers}))
            return found
    finally:
        engine.dispose()


def tickets(url: str) -> list[Ticket]:
    engine = make_engine(url)
    try:
        with Session(engine, expire_on_commit=False) as session:
            return list(session.scalars(select(Ticket)))
    finally:
        engine.dispose()


def cli(settings_file: Path, *args: str) -> str:
    result = CliRunner().invoke(main, ["--config", str(settings_file), *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_after_the_agent_hangs_up_the_caller_answers_the_survey_and_a_low_score_opens_a_ticket(db_url, tmp_path):
    settings = acd_settings(db_url, tmp_path)
    (tmp_path / "flows" / "surveys").mkdir()
    shutil.copy(SURVEY, tmp_path / "flows" / "surveys")
    add_agents(db_url, {"bob": ("1002", "cardio")})
    queue(db_url, survey="after-call", callback_key="1")
    phones = {"1002": AgentEndpoint(answer_after=1, talk_seconds=5)}  # bob hangs up first
    caller = CallerScript("13800000001", "7000", ["1", "2", "2"], context="public")
    with AcdSite(settings, phones) as site:
        outcome = site.switch.place_call(caller).wait(60)
        site.wait_idle()
    assert outcome.answered
    # the queue's callback key (1) stops being a playback terminator once the talk is over: a 1 pressed during
    # the survey's introduction would otherwise cut it and be lost to the first question
    after_talk = outcome.apps[[app for app, _ in outcome.apps].index("bridge") + 1 :]
    assert ("unset", "playback_terminators") in after_talk
    assert after_talk.index(("unset", "playback_terminators")) < [app for app, _ in after_talk].index("playback")
    [(response, answers)] = responses(db_url)
    assert (response.survey, response.call_uuid, response.agent, response.queue) == (
        "after-call",
        outcome.uuid,
        "bob",
        "cardio",
    )
    assert answers == {"score": 1, "resolved": 0, "call_me": 0} and response.completed
    [ticket] = tickets(db_url)
    assert ticket.category == "complaint"
    assert ticket.description == (
        "survey after-call (agent bob, queue cardio): score=1, resolved=no, call_me=no; rule 'score <= 2' crossed"
    )
    assert response.escalated == f"ticket:{ticket.id}"

    settings_file = tmp_path / "ccctl.yaml"
    settings_file.write_text(f"database: {{url: '{db_url}'}}\nflows_dir: '{tmp_path / 'flows'}'\n")
    report = cli(settings_file, "surveys", "report", "after-call", "--by", "agent", "--csv", str(tmp_path / "r.csv"))
    assert "survey after-call: 1 responses" in report
    assert "bob" in report.splitlines()[2] and "1.00" in report.splitlines()[2]
    assert (tmp_path / "r.csv").read_text().splitlines()[1].startswith("bob,score,scale,1,1.00,1,0")


def test_a_survey_campaign_stores_the_answers_of_the_patient_it_called(sqlite_url, tmp_path):
    flows = tmp_path / "flows"
    (flows / "campaigns" / "flows").mkdir(parents=True)
    (flows / "surveys").mkdir()
    (flows / "main.yaml").write_text(HOTLINE)
    shutil.copy(REPO / "ivr_flows" / "campaigns" / "flows" / "survey.yaml", flows / "campaigns" / "flows")
    shutil.copy(SURVEY, flows / "surveys")
    (flows / "campaigns" / "follow-up.yaml").write_text(CAMPAIGN)
    (flows / "campaigns" / "follow-up.csv").write_text("patient_code\nP1\n")
    settings = site_settings(sqlite_url, tmp_path, flows_dir=str(flows))
    engine = make_engine(sqlite_url)
    with Session(engine) as session:
        patient = Patient(patient_code="P1", given_name="Test", family_name="One", language="zh")
        patient.phones.append(PatientPhone(number="13800000009", kind="mobile"))
        session.add(patient)
        session.commit()
        patient_id = patient.id
    engine.dispose()
    settings_file = tmp_path / "ccctl.yaml"
    settings_file.write_text(f"database: {{url: '{sqlite_url}'}}\nflows_dir: '{flows}'\n")
    cli(settings_file, "campaigns", "add", str(flows / "campaigns" / "follow-up.yaml"))
    cli(settings_file, "campaigns", "start", "follow-up")

    with EmulatedSite(settings, registry=build_flow_registry(settings), time_factor=20) as site:
        # a key for each question, once it is asked (keys pressed during the greeting or the intro are lost)
        site.switch.remotes["13800000009"] = AgentEndpoint(answer_after=1, read_keys=["4", "1", "2"])
        assert site.controller.inbound.wait_connected(timeout=10)
        address = lambda: site.controller.outbound_address_text  # noqa: E731
        dialer = CampaignDialer(site.settings, site.controller.inbound, address, clock=lambda: TUESDAY_10AM_SHANGHAI)
        dialer.attach_events(site.controller.inbound)
        assert dialer.tick() == 1
        assert wait_until(lambda: bool(responses(sqlite_url)), timeout=30)
        site.wait_idle()
        dialer.stop()

    [(response, answers)] = responses(sqlite_url)
    assert (response.campaign, response.patient_id, response.language) == ("follow-up", patient_id, "zh")
    assert answers == {"score": 4, "resolved": 1, "call_me": 0}
    assert tickets(sqlite_url) == []  # a 4 crosses no rule
    record = cli(settings_file, "patients", "show", "P1", "--as", "nurse")
    assert any("(campaign follow-up): score=4, resolved=1, call_me=0" in line for line in record.splitlines())
