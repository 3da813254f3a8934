"""Survey answers on SQLite and PostgreSQL: a response is stored with its origin, a low score opens a ticket
holding the answers, "call me" puts the patient on the callback worklist, and the report counts them."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from click.testing import CliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session

from ccctl.cli import main
from ccctl.patients.erase import erase
from ccctl.records.database import make_engine
from ccctl.records.models.acd import QueueEntry, QueueEvent
from ccctl.records.models.audit import AuditEntry
from ccctl.records.models.inbox import Ticket
from ccctl.records.models.patients import Patient, PatientPhone
from ccctl.records.models.surveys import SurveyAnswer, SurveyResponse
from ccctl.surveys.model import Question, Response, Rule, Survey
from ccctl.surveys.report import build_report
from ccctl.surveys.store import answers_between, responses_of_patient, save_response

NOW = datetime(2026, 12, 8, 10, 0, tzinfo=UTC)
SURVEY = Survey(
    name="after-call",
    languages=["en"],
    questions=[
        Question("score", "scale", {"en": "Rate us"}),
        Question("resolved", "yes_no", {"en": "Resolved?"}),
        Question("call_me", "call_me", {"en": "Call you?"}),
    ],
    rules=[
        Rule("score <= 2", "score", "<=", 2, "ticket", category="complaint"),
        Rule("call_me", "call_me", "==", 1, "callback", queue="nursing"),
    ],
)


def patient(session: Session) -> int:
    row = Patient(patient_code="P1", given_name="Ann", family_name="Example")
    row.phones.append(PatientPhone(number="+48600000001", kind="mobile"))
    session.add(row)
    session.flush()
    return row.id


def test_a_low_score_opens_a_ticket_with_the_answers_and_call_me_a_callback(db_url):
    engine = make_engine(db_url)
    with Session(engine) as session:
        patient_id = patient(session)
        answers = {"score": 1, "resolved": 0, "call_me": 1}
        response = Response("after-call", "call-1", patient_id, answers, "en", agent="bob", queue="cardio")
        response_id = save_response(session, SURVEY, response, now=NOW)
        session.commit()
        stored = session.get(SurveyResponse, response_id)
        ticket = session.scalar(select(Ticket))
        entry = session.scalar(select(QueueEntry))
        kinds = list(session.scalars(select(QueueEvent.kind).order_by(QueueEvent.id)))
        answered = {a.question: a.value for a in session.scalars(select(SurveyAnswer))}
    engine.dispose()
    assert (stored.agent, stored.queue, stored.completed) == ("bob", "cardio", True)
    assert answered == answers
    assert stored.escalated == f"ticket:{ticket.id},callback:{entry.id}"
    assert (ticket.category, ticket.patient_id, ticket.source) == ("complaint", patient_id, "voice")
    assert ticket.description == (
        "survey after-call (agent bob, queue cardio): score=1, resolved=no, call_me=yes; rule 'score <= 2' crossed"
    )
    assert "Ann" not in ticket.description and "+48" not in ticket.description
    assert (entry.queue, entry.status, entry.callback_number, entry.patient_id) == (
        "nursing",
        "waiting",
        "+48600000001",
        patient_id,
    )
    assert kinds == ["entered", "callback_requested"]


def test_a_good_score_opens_nothing_and_the_patient_record_lists_the_response(db_url):
    engine = make_engine(db_url)
    with Session(engine) as session:
        patient_id = patient(session)
        response = Response("after-call", "call-2", patient_id, {"score": 5, "call_me": 0}, "en", completed=False)
        save_response(session, SURVEY, response, now=NOW)
        session.commit()
        assert session.scalar(select(Ticket)) is None and session.scalar(select(QueueEntry)) is None
        [(row, answers)] = responses_of_patient(session, patient_id)
    engine.dispose()
    assert (row.survey, row.completed, row.escalated, answers) == ("after-call", False, "", {"score": 5, "call_me": 0})


def test_the_report_averages_scores_per_agent_within_the_period(db_url):
    engine = make_engine(db_url)
    with Session(engine) as session:
        for uuid, agent, score, at in (
            ("c1", "ann", 5, NOW),
            ("c2", "ann", 3, NOW + timedelta(hours=1)),
            ("c3", "bob", 2, NOW + timedelta(hours=2)),
            ("c4", "bob", 1, NOW - timedelta(days=2)),  # before the period
        ):
            response = Response("after-call", uuid, None, {"score": score, "resolved": 1}, "en", agent=agent)
            save_response(session, SURVEY, response, now=at)
        session.commit()
        answers = answers_between(session, "after-call", NOW - timedelta(hours=1), NOW + timedelta(days=1))
    engine.dispose()
    rows = build_report("after-call", answers, "agent", SURVEY)
    assert [(r.group, r.question, r.answers, r.average, r.low, r.yes) for r in rows] == [
        ("ann", "score", 2, 4.0, 0, 0),
        ("ann", "resolved", 2, None, 0, 2),
        ("bob", "score", 1, 2.0, 1, 0),
        ("bob", "resolved", 1, None, 0, 1),
    ]


def test_erasing_the_patient_keeps_the_answers_counted_but_no_longer_theirs(db_url):
    engine = make_engine(db_url)
    with Session(engine) as session:
        patient_id = patient(session)
        save_response(session, SURVEY, Response("after-call", "call-3", patient_id, {"score": 4}, "en"), now=NOW)
        session.commit()
    engine.dispose()
    erasure = erase(db_url, "P1", "P1", "patient asked", "dpo", "cli")
    assert erasure.counts["survey response(s)"] == 1
    engine = make_engine(db_url)
    with Session(engine) as session:
        assert responses_of_patient(session, patient_id) == []
        assert len(answers_between(session, "after-call", None, None)) == 1
    engine.dispose()


def test_surveys_report_prints_json_by_queue(sqlite_url, tmp_path):
    engine = make_engine(sqlite_url)
    with Session(engine) as session:
        for uuid, queue, score in (("c1", "cardio", 5), ("c2", "cardio", 1), ("c3", "derma", 4)):
            save_response(session, SURVEY, Response("after-call", uuid, None, {"score": score}, "en", queue=queue))
        session.commit()
    engine.dispose()
    settings = tmp_path / "ccctl.yaml"
    settings.write_text(f"database: {{url: '{sqlite_url}'}}\nflows_dir: '{tmp_path}'\n")
    result = CliRunner().invoke(
        main, ["-c", str(settings), "surveys", "report", "after-call", "--by", "queue", "--json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert (data["responses"], data["by"]) == (3, "queue")
    assert [(r["group"], r["answers"], r["average"], r["low"], r["spread"]) for r in data["rows"]] == [
        ("cardio", 2, 3.0, 1, {"1": 1, "5": 1}),
        ("derma", 1, 4.0, 0, {"4": 1}),
    ]
    unknown = CliRunner().invoke(main, ["-c", str(settings), "surveys", "report", "nothing"])
    assert unknown.exit_code == 1 and "survey 'nothing': no such file" in unknown.output


def test_a_csv_export_of_the_report_is_audited_with_who_and_what(sqlite_url, tmp_path):
    engine = make_engine(sqlite_url)
    with Session(engine) as session:
        save_response(session, SURVEY, Response("after-call", "c1", None, {"score": 2}, "en", agent="bob"), now=NOW)
        session.commit()
    settings = tmp_path / "ccctl.yaml"
    settings.write_text(f"database: {{url: '{sqlite_url}'}}\nflows_dir: '{tmp_path}'\n")
    args = ["-c", str(settings), "surveys", "report", "after-call", "--from", "2026-12-01", "--to", "2026-12-08"]
    result = CliRunner().invoke(main, [*args, "--by", "agent", "--csv", str(tmp_path / "r.csv"), "--as", "nurse"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "r.csv").read_text().splitlines()[1].startswith("bob,score,scale,1,2.00,1,0")
    assert CliRunner().invoke(main, args).exit_code == 0  # a report on screen only is no export
    with Session(engine) as session:
        rows = session.execute(select(AuditEntry.actor, AuditEntry.action, AuditEntry.detail)).all()
    engine.dispose()
    assert rows == [("nurse", "survey report export", "survey after-call 2026-12-01..2026-12-08 by agent, 1 rows")]
