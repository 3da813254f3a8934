"""The work behind `ccctl surveys`: check the survey files (and the flows' survey nodes), report results."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session

from ccctl.config import Settings
from ccctl.errors import UserError
from ccctl.records.audit import record_audit
from ccctl.records.database import make_engine
from ccctl.surveys.model import Survey
from ccctl.surveys.report import GROUPINGS, ReportRow, build_report
from ccctl.surveys.spec import SurveyFileError, load_survey, load_surveys, survey_files


class SurveyReportError(UserError, ValueError):
    """A report that cannot be made; str() names the survey or option at fault."""


def check(settings: Settings, files: list[str]) -> list[Survey]:
    """The surveys in `files` (default: every file under flows_dir/surveys); SurveyFileError lists every problem."""
    paths = [Path(f) for f in files] or survey_files(settings.flows_dir)
    if not paths:
        raise SurveyFileError([f"{Path(settings.flows_dir) / 'surveys'}: no survey files (<name>.yaml)"])
    surveys, errors = [], []
    for path in paths:
        try:
            surveys.append(load_survey(path))
        except SurveyFileError as exc:
            errors += exc.errors
    if errors:
        raise SurveyFileError(errors)
    return surveys


def report(
    settings: Settings, name: str, since: datetime | None, until: datetime | None, by: str
) -> tuple[int, list[ReportRow]]:
    """(responses in the period, rows) for survey `name`."""
    from ccctl.surveys.store import answers_between, response_count

    if by not in GROUPINGS:
        raise SurveyReportError(f"--by {by}: one of {', '.join(GROUPINGS)}")
    surveys, _ = load_surveys(settings.flows_dir)
    engine = make_engine(settings.database.url)
    try:
        with Session(engine) as session:
            answers = answers_between(session, name, since, until)
            responses = response_count(session, name, since, until)
    finally:
        engine.dispose()
    if not answers and name not in surveys:
        raise SurveyReportError(f"survey '{name}': no such file under {settings.flows_dir}/surveys and no answers")
    return responses, build_report(name, answers, by, surveys.get(name))


def export_detail(name: str, since: object, until: object, by: str, rows: int) -> str:
    """What an audit row of a report's CSV export says: the survey, the period, the grouping (counts only)."""
    return f"survey {name} {since or '-'}..{until or '-'} by {by}, {rows} rows"


def record_export(url: str, actor: str, detail: str) -> None:
    """The audit row of `ccctl surveys report --csv` (the console's export writes the same one)."""
    engine = make_engine(url)
    try:
        with Session(engine) as session, session.begin():
            record_audit(session, actor, "survey report export", None, "cli", detail)
    finally:
        engine.dispose()


def patient_surveys(url: str, patient_id: int, limit: int = 10) -> list[dict]:
    """The patient's latest survey responses for their record (the record's read is audited by its caller)."""
    from ccctl.surveys.store import responses_of_patient

    engine = make_engine(url)
    try:
        with Session(engine) as session:
            found = responses_of_patient(session, patient_id, limit)
    finally:
        engine.dispose()
    return [
        {
            "survey": row.survey,
            "answered_at": row.answered_at,
            "agent": row.agent,
            "queue": row.queue,
            "campaign": row.campaign,
            "completed": row.completed,
            "answers": answers,
            "escalated": row.escalated,
        }
        for row, answers in found
    ]


def surveys_lines(responses: list[dict]) -> list[str]:
    """`survey after-call 2026-12-08 10:00 (agent bob, queue cardio): score=1, resolved=0 -> ticket:3`."""
    lines = []
    for item in responses:
        when = item["answered_at"].strftime("%Y-%m-%d %H:%M")
        origin = ", ".join(f"{key} {item[key]}" for key in ("agent", "queue", "campaign") if item[key])
        answers = ", ".join(f"{q}={v}" for q, v in item["answers"].items())
        ending = "" if item["completed"] else " (not completed)"
        opened = f" -> {item['escalated']}" if item["escalated"] else ""
        lines.append(
            f"survey {item['survey']} {when}" + (f" ({origin})" if origin else "") + f": {answers}{ending}{opened}"
        )
    return lines
