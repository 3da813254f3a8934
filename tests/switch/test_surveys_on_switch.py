"""A post-call survey on the real switch: the agent hangs up, the patient keys the queue's survey (RFC 2833).

The hotline finds the patient by the number they call from, queues them to cardio (`survey: after-call`),
SIPp agent ann answers and hangs up after a few seconds; FreeSWITCH keeps the patient on the line
(hangup_after_bridge=false), ccctl asks the shipped survey by TTS and the patient presses 1, 2, 2. What a
supervisor reads back: the answers for that patient and call (`ccctl surveys report`, `ccctl patients
show`), and the complaint ticket the low score opened (`ccctl tickets list`).
"""

from __future__ import annotations

import json
from pathlib import Path

import sipp
from sqlalchemy import select
from sqlalchemy.orm import Session
from switch_site import SwitchSite, add_cardio_queue

from ccctl.records.database import make_engine
from ccctl.records.models.patients import Patient, PatientPhone
from ccctl.records.models.surveys import SurveyResponse

REPO = Path(__file__).resolve().parents[2]
CALLER = "0612345678"
HOTLINE = """\
flow: main
description: the patient found by their number, then the cardio queue
language: en
start: find
nodes:
  find:
    type: lookup
    by: caller_number
    found: hello
    not_found: hello
  hello:
    type: play
    prompt: "say:Hello"
    next: to_agent
  to_agent:
    type: queue
    skill: cardio
    on_failure: bye
  bye:
    type: hangup
    prompt: "say:Nobody could take your call"
"""
AGENT_TALK_MS = 4000
# the patient's clock starts at the answer: hello, ann rings and talks 4 s, then the survey's intro (about
# 4 s of TTS); each key ends its question at once, and the next question waits its prompt plus 6 s
FIRST_KEY_AFTER_MS = 16000
KEY_GAP_MS = 4000


def seed_patient(url: str) -> int:
    engine = make_engine(url)
    with Session(engine) as session:
        patient = Patient(patient_code="P7", given_name="Test", family_name="Survey", language="en")
        patient.phones.append(PatientPhone(number=CALLER, kind="mobile"))
        session.add(patient)
        session.commit()
        patient_id = patient.id
    engine.dispose()
    return patient_id


def stored_responses(url: str) -> list[tuple[str, int | None]]:
    """(call uuid, patient id) of every stored survey response."""
    engine = make_engine(url)
    with Session(engine) as session:
        rows = session.execute(select(SurveyResponse.call_uuid, SurveyResponse.patient_id)).all()
    engine.dispose()
    return [tuple(row) for row in rows]


def keys(digits: str, folder: Path) -> list[sipp.Step]:
    return [sipp.wait(FIRST_KEY_AFTER_MS), *sipp.keypad_rfc2833(digits, folder, gap_ms=KEY_GAP_MS)]


def test_after_the_agent_hangs_up_the_patients_keys_answer_the_survey_and_a_low_score_opens_a_ticket(tmp_path):
    flows = {"main.yaml": HOTLINE, "surveys/after-call.yaml": (REPO / "ivr_flows/surveys/after-call.yaml").read_text()}
    with SwitchSite(tmp_path, flows) as site:
        url = site._settings()["database"]["url"]
        patient_id = seed_patient(url)
        add_cardio_queue(site, no_answer_timeout=6, survey="after-call")
        site.ccctl("agents", "login", "ann")
        phone = site.agent_phone("1001", talk_ms=AGENT_TALK_MS)
        patient = site.patient(
            [*keys("122", site.voice_dir), sipp.until_switch_hangs_up()], caller=CALLER, telephone_event=True
        )
        assert patient.wait(90) == 0, patient.errors()
        assert phone.wait(10) == 0, phone.errors()
        [call] = site.wait_for_calls(1)
        report = json.loads(site.ccctl("surveys", "report", "after-call", "--by", "agent", "--json").stdout)
        tickets = json.loads(site.ccctl("tickets", "list", "--json").stdout)
        record = json.loads(site.ccctl("patients", "show", "P7", "--json", "--as", "switch-test").stdout)
        log = site.freeswitch_log()

    assert call["disposition"] == "completed", call
    assert stored_responses(url) == [(call["uuid"], patient_id)]
    assert report["responses"] == 1, report
    answered = {row["question"]: (row["group"], row["answers"], row["spread"]) for row in report["rows"]}
    assert answered == {
        "score": ("ann", 1, {"1": 1}),
        "resolved": ("ann", 1, {"0": 1}),
        "call_me": ("ann", 1, {"0": 1}),
    }, report
    [response] = record["surveys"]
    assert (response["survey"], response["agent"], response["queue"], response["completed"]) == (
        "after-call",
        "ann",
        "cardio",
        True,
    ), response
    assert response["answers"] == {"score": 1, "resolved": 0, "call_me": 0}, response
    [ticket] = tickets
    assert (ticket["category"], ticket["patient"]) == ("complaint", "P7"), ticket
    assert response["escalated"] == f"ticket:{ticket['id']}", response
    assert "RECV DTMF" not in log  # the patient's keys stay out of FreeSWITCH's log
