"""The supervisor's survey page: one survey's answers in a period by question, agent and queue, the answers
that crossed a rule with what they opened, and the report's CSV (the rows of `ccctl surveys report`).

The figures are counts; the crossed answers name their patients by code, so each view of them is one
audit row naming the codes shown, and each CSV export is audited too.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta

from flask import Blueprint, Response, g, render_template, request
from sqlalchemy import select

from ccctl.records.audit import record_audit
from ccctl.records.models.surveys import SurveyResponse
from ccctl.surveys.commands import export_detail
from ccctl.surveys.model import Survey
from ccctl.surveys.report import GROUPINGS, ReportRow, build_report, report_csv
from ccctl.surveys.spec import load_surveys
from ccctl.surveys.store import answers_between, escalated_between, response_count
from ccctl.surveys.web_words import survey_words
from ccctl.tickets.inbox_web import audit_listing, local_time, patient_codes
from ccctl.web.context import audit_source, require_role, web
from ccctl.web.reports_views import RangeError, date_range

blueprint = Blueprint("surveys", __name__, template_folder="templates")
SUPERVISORS = ("admin", "supervisor")
ESCALATED_SHOWN = 100
SCALE_KEYS = (1, 2, 3, 4, 5)
FILE_NAME_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


def _bounds(since: date, until: date) -> tuple[datetime, datetime]:
    """The local days since..until as [start, end)."""
    zone = datetime.now().astimezone().tzinfo
    return datetime.combine(since, time(0), zone), datetime.combine(until + timedelta(days=1), time(0), zone)


def _survey_names(db, surveys: dict[str, Survey]) -> list[str]:
    """The surveys on file and those with stored answers (a survey file removed since still has its answers)."""
    stored = set(db.scalars(select(SurveyResponse.survey).distinct()))
    return sorted(set(surveys) | stored)


def _bars(row: ReportRow) -> list[dict]:
    """One bar per answer value: scale keys 1-5, or yes then no; how many and their share of the answers."""
    values = [(str(v), v) for v in SCALE_KEYS] if row.kind == "scale" else [("yes", 1), ("no", 0)]
    return [
        {"label": label, "value": value, "count": row.spread.get(value, 0), "of": row.answers}
        for label, value in values
    ]


def _opened(escalated: str) -> list[dict]:
    """`ticket:12,callback:34` as [{kind: ticket, id: 12}, ...]."""
    found = []
    for item in escalated.split(","):
        kind, _, number = item.partition(":")
        if kind in ("ticket", "callback") and number.isdigit():
            found.append({"kind": kind, "id": int(number)})
    return found


def _period_or_error() -> tuple[tuple[date, date] | tuple[None, None], str]:
    try:
        return date_range(request.args), ""
    except RangeError as exc:
        return (None, None), str(exc)


@blueprint.get("/surveys")
@require_role(*SUPERVISORS)
def page():
    w = survey_words(g.user.language)
    (since, until), problem = _period_or_error()
    if problem:
        return render_template("message.html", message=problem), 400
    start, end = _bounds(since, until)
    surveys, _ = load_surveys(web().settings.flows_dir)
    with web().transaction() as db:
        names = _survey_names(db, surveys)
        name = request.args.get("survey") or (names[0] if names else "")
        answers = answers_between(db, name, start, end) if name else []
        responses = response_count(db, name, start, end) if name else 0
        crossed = escalated_between(db, name, start, end, ESCALATED_SHOWN) if name else []
        codes = patient_codes(db, {row.patient_id for row, _ in crossed})
        audit_listing(db, f"survey report {name}", list(codes.values()))
    survey = surveys.get(name)
    questions = build_report(name, answers, "question", survey)
    escalated = [
        {
            "at": local_time(row.answered_at),
            "patient": codes.get(row.patient_id, ""),
            "agent": row.agent,
            "queue": row.queue,
            "campaign": row.campaign,
            "answers": list(given.items()),
            "completed": row.completed,
            "opened": _opened(row.escalated),
        }
        for row, given in crossed
    ]
    return render_template(
        "surveys_page.html",
        w=w,
        names=names,
        name=name,
        since=since,
        until=until,
        responses=responses,
        questions=[(row, _bars(row)) for row in questions],
        by_agent=build_report(name, answers, "agent", survey),
        by_queue=build_report(name, answers, "queue", survey),
        escalated=escalated,
        groupings=GROUPINGS,
    )


@blueprint.get("/surveys/report.csv")
@require_role(*SUPERVISORS)
def export():
    """The report's rows as `ccctl surveys report NAME --by BY --csv` writes them: counts, no patient data."""
    w = survey_words(g.user.language)
    (since, until), problem = _period_or_error()
    name, by = request.args.get("survey", ""), request.args.get("by", "question")
    if problem or by not in GROUPINGS or not name:
        return render_template("message.html", message=problem or w("bad_export")), 400
    start, end = _bounds(since, until)
    surveys, _ = load_surveys(web().settings.flows_dir)
    with web().transaction() as db:
        rows = build_report(name, answers_between(db, name, start, end), by, surveys.get(name))
        detail = export_detail(name, since.isoformat(), until.isoformat(), by, len(rows))
        record_audit(db, g.user.name, "survey report export", None, audit_source(), detail)
    filename = f"survey-{FILE_NAME_UNSAFE.sub('_', name)}-{since.isoformat()}-{until.isoformat()}-by-{by}.csv"
    return Response(
        report_csv(by, rows),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
