"""A voice complaint handled to the end through `ccctl tickets`, with a real SMTP server:
ticket from the voice message, escalation when overdue, outcome e-mailed to the patient, report.
"""

# ruff: noqa: F811 - the mail server fixtures are imported from email_servers by name

import json
from datetime import timedelta

import pytest
from email_servers import ccctl_runner, smtp_server, smtp_settings  # noqa: F401 (fixture)
from sqlalchemy.orm import Session

from ccctl.channels.inbox import add_patient_email
from ccctl.patients.repository import PatientData, add_patient
from ccctl.records.database import make_engine
from ccctl.records.models.base import utc_now
from ccctl.records.models.calls import VoiceMessage


@pytest.fixture
def ccctl(db_url, tmp_path, monkeypatch, smtp_server):
    settings = tmp_path / "ccctl.yaml"
    settings.write_text(
        f"database:\n  url: {db_url}\n"
        + smtp_settings(smtp_server)
        + "inbox:\n  escalation_address: head-of-service@hospital.example\n"
        "  ticket_categories:\n"
        "    - {name: complaint, department: patient-relations, sla_hours: 72}\n"
    )
    return ccctl_runner(settings, monkeypatch)


@pytest.fixture
def voice_complaint(db_url) -> str:
    """Ann (with an e-mail address) left a complaint on the IVR four days ago; her patient code."""
    engine = make_engine(db_url)
    try:
        with Session(engine) as session, session.begin():
            ann = add_patient(session, PatientData("Ann", "Lee", ["+48600100200"]), {})
            add_patient_email(session, ann, "ann.lee@example.org")
            session.add(
                VoiceMessage(
                    call_uuid="c0ffee00-0000-4000-8000-000000000001",
                    patient_id=ann.id,
                    path="recordings/voice/complaint-1.wav",
                    reason="complaint",
                    created_at=utc_now() - timedelta(days=4),
                )
            )
            return ann.patient_code
    finally:
        engine.dispose()


def test_a_voice_complaint_escalates_when_overdue_and_the_patient_hears_the_outcome(
    ccctl,
    smtp_server,
    voice_complaint,
):
    assert ccctl("tickets", "from-voice") == "filed 1 voice message(s) in the inbox: items 1\n"
    assert ccctl("tickets", "from-voice") == "filed 0 voice message(s) in the inbox\n"
    assert ccctl("tickets", "list") == "no tickets\n"  # a person decides whether a message is a ticket
    assert ccctl("tickets", "add", "--from-item", "1", "--category", "complaint", "--text", "") == "ticket 1 opened\n"
    listing = ccctl("tickets", "list", "--state", "open")
    assert "complaint" in listing and "patient-relations" in listing and "OVERDUE" in listing

    assert ccctl("tickets", "escalate") == "escalated 1 ticket(s): 1\n"
    assert ccctl("tickets", "escalate") == "escalated 0 ticket(s)\n"
    (escalation,) = smtp_server.messages()
    assert escalation["To"] == "head-of-service@hospital.example"
    text = escalation.get_content()
    assert "#1 complaint (patient-relations), new, owner nobody" in text
    assert voice_complaint not in text and "Ann" not in text  # no patient data by mail

    ccctl("tickets", "assign", "1", "maria", "--as", "maria")
    ccctl("tickets", "move", "1", "in-progress", "--as", "maria")
    resolved = ccctl("tickets", "resolve", "1", "--outcome", "We have added evening hours.", "--as", "maria")
    assert resolved == "ticket 1 resolved; sent by email\n"
    notice = smtp_server.messages()[1]
    assert (notice["To"], notice["Subject"]) == ("ann.lee@example.org", "Your complaint (ticket 1)")
    assert notice.get_content().strip() == "We have added evening hours."

    ccctl("tickets", "close", "1")
    refused = ccctl("tickets", "move", "1", "in-progress", fails=True)
    assert refused == "ccctl: ticket 1 is closed: it can move to nothing (closed is final), not in-progress\n"
    history = ccctl("tickets", "show", "1", "--as", "maria").split("history:\n")[1]
    actions = [line.split()[3] for line in history.splitlines()]
    assert actions == ["opened", "escalated", "assigned", "state", "state", "notice", "state"]
    (row,) = json.loads(ccctl("tickets", "report", "--json"))
    assert (row["category"], row["department"], row["opened"], row["closed"], row["escalated"]) == (
        "complaint",
        "patient-relations",
        1,
        1,
        1,
    )
    assert row["median_hours_to_close"] >= 96
