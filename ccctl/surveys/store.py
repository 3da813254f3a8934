"""SQL for surveys (takes an open Session): a response and its answers, what its rules open, reports.

A crossed rule opens a ticket (ccctl.tickets.service) or puts the patient on the callback worklist (a
waiting queue entry with a callback number, which the ACD dials when an agent of that queue is free).
Its text holds the survey's answers and where the call came from, never the patient's number or name.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ccctl.acd import store as acd_store
from ccctl.config import InboxSettings
from ccctl.records.models.acd import QueueEntry
from ccctl.records.models.base import utc_now
from ccctl.records.models.patients import PatientPhone
from ccctl.records.models.surveys import SurveyAnswer, SurveyResponse
from ccctl.surveys.model import Response, Rule, Survey
from ccctl.tickets.service import open_ticket


@dataclass(frozen=True)
class StoredAnswer:
    response_id: int
    survey: str
    answered_at: datetime
    agent: str
    queue: str
    campaign: str
    patient_id: int | None
    question: str
    value: int


def save_response(
    session: Session,
    survey: Survey,
    response: Response,
    *,
    caller_number: str = "",
    inbox: InboxSettings | None = None,
    now: datetime | None = None,
) -> int:
    """Store the response and its answers, open what its crossed rules ask for; the response's id."""
    now = now or utc_now()
    row = SurveyResponse(
        survey=response.survey,
        call_uuid=response.call_uuid,
        patient_id=response.patient_id,
        agent=response.agent[:64],
        queue=response.queue[:64],
        campaign=response.campaign[:64],
        language=response.language[:8],
        answered_at=now,
        completed=response.completed,
        escalated="",
    )
    session.add(row)
    session.flush()
    for question, value in response.answers.items():
        session.add(SurveyAnswer(response_id=row.id, question=question, value=value))
    opened = [
        _escalate(session, survey, response, rule, row.id, caller_number, inbox, now)
        for rule in survey.crossed(response.answers)
    ]
    row.escalated = ",".join(item for item in opened if item)[:200]
    return row.id


def answers_text(survey: Survey, response: Response) -> str:
    """One line for a ticket: the survey, where the call came from, every answer as pressed."""
    where = [f"agent {response.agent}" if response.agent else "", f"queue {response.queue}" if response.queue else ""]
    if response.campaign:
        where.append(f"campaign {response.campaign}")
    origin = ", ".join(part for part in where if part)
    shown = []
    for question in survey.questions:
        if question.name not in response.answers:
            shown.append(f"{question.name}=-")
            continue
        value = response.answers[question.name]
        shown.append(f"{question.name}={value}" if question.kind == "scale" else f"{question.name}={_yes(value)}")
    return f"survey {survey.name}" + (f" ({origin})" if origin else "") + ": " + ", ".join(shown)


def _yes(value: int) -> str:
    return "yes" if value == 1 else "no"


def _escalate(
    session: Session,
    survey: Survey,
    response: Response,
    rule: Rule,
    response_id: int,
    caller_number: str,
    inbox: InboxSettings | None,
    now: datetime,
) -> str:
    text = f"{answers_text(survey, response)}; rule '{rule.when}' crossed"
    if rule.action == "ticket":
        ticket_id = open_ticket(
            session,
            "voice",
            response.patient_id,
            rule.category,
            text,
            settings=inbox,
            actor=f"survey:{survey.name}",
            now=now,
        )
        return f"ticket:{ticket_id}"
    number = _patient_number(session, response.patient_id) or caller_number
    if not number:
        return ""  # nobody to call back: the response row still shows the rule crossed answers
    entry = QueueEntry(
        queue=rule.queue,
        call_uuid=f"survey-{response_id}",
        patient_id=response.patient_id,
        entered_at=now,
        status="waiting",
        callback_number=number[:32],
        updated_at=now,
    )
    session.add(entry)
    session.flush()
    acd_store.add_event(session, entry, "entered", now, detail=f"survey {survey.name}")
    acd_store.add_event(session, entry, "callback_requested", now, detail=f"survey {survey.name}: {rule.when}")
    return f"callback:{entry.id}"


def _patient_number(session: Session, patient_id: int | None) -> str:
    if patient_id is None:
        return ""
    return session.scalar(select(PatientPhone.number).where(PatientPhone.patient_id == patient_id).limit(1)) or ""


def answers_between(
    session: Session, survey: str, since: datetime | None, until: datetime | None
) -> list[StoredAnswer]:
    """Every answer to `survey` given in [since, until), oldest first."""
    query = (
        select(SurveyResponse, SurveyAnswer)
        .join(SurveyAnswer, SurveyAnswer.response_id == SurveyResponse.id)
        .where(SurveyResponse.survey == survey)
        .order_by(SurveyResponse.answered_at, SurveyResponse.id, SurveyAnswer.id)
    )
    return [
        StoredAnswer(r.id, r.survey, r.answered_at, r.agent, r.queue, r.campaign, r.patient_id, a.question, a.value)
        for r, a in session.execute(_in_period(query, since, until))
    ]


def _in_period(query, since: datetime | None, until: datetime | None):
    if since is not None:
        query = query.where(SurveyResponse.answered_at >= since)
    if until is not None:
        query = query.where(SurveyResponse.answered_at < until)
    return query


def response_count(session: Session, survey: str, since: datetime | None, until: datetime | None) -> int:
    """How many patients answered `survey` in [since, until) (a response with at least one answer)."""
    query = select(func.count()).select_from(SurveyResponse).where(SurveyResponse.survey == survey)
    return session.scalar(_in_period(query, since, until)) or 0


def escalated_between(
    session: Session, survey: str, since: datetime | None, until: datetime | None, limit: int = 200
) -> list[tuple[SurveyResponse, dict[str, int]]]:
    """The responses to `survey` in [since, until) whose answers crossed a rule, newest first, with their answers."""
    query = (
        select(SurveyResponse)
        .where(SurveyResponse.survey == survey, SurveyResponse.escalated != "")
        .order_by(SurveyResponse.answered_at.desc(), SurveyResponse.id.desc())
        .limit(limit)
    )
    return _with_answers(session, list(session.scalars(_in_period(query, since, until))))


def responses_of_patient(session: Session, patient_id: int, limit: int = 20) -> list[tuple[SurveyResponse, dict]]:
    """The patient's latest responses with their answers (question -> value), newest first."""
    rows = list(
        session.scalars(
            select(SurveyResponse)
            .where(SurveyResponse.patient_id == patient_id)
            .order_by(SurveyResponse.answered_at.desc(), SurveyResponse.id.desc())
            .limit(limit)
        )
    )
    return _with_answers(session, rows)


def _with_answers(session: Session, rows: list[SurveyResponse]) -> list[tuple[SurveyResponse, dict[str, int]]]:
    answers: dict[int, dict[str, int]] = {row.id: {} for row in rows}
    if rows:
        for answer in session.scalars(select(SurveyAnswer).where(SurveyAnswer.response_id.in_(list(answers)))):
            answers[answer.response_id][answer.question] = answer.value
    return [(row, answers[row.id]) for row in rows]
