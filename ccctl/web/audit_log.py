"""The audit log page's query: filters (who, action, patient code, from, to) and pages of rows, each row with
the patient's code instead of the database's row number.

The filters come by POST (a patient code never lands in a URL); dates are the server's local days.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ccctl.patients.repository import find_by_code
from ccctl.records.models.audit import AuditEntry
from ccctl.records.models.patients import Patient

PAGE_ROWS = 50


@dataclass
class AuditFilter:
    actor: str = ""
    action: str = ""
    patient_code: str = ""
    since: date | None = None  # local day, included
    until: date | None = None  # local day, included
    page: int = 1


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time()).astimezone()


def parse_filter(form) -> AuditFilter:
    """The filter a form asks for; a date that does not parse is left out (the date picker sends ISO dates)."""

    def day(key: str) -> date | None:
        try:
            return date.fromisoformat(form.get(key, ""))
        except ValueError:
            return None

    page = form.get("page", "1")
    return AuditFilter(
        actor=form.get("actor", "").strip()[:128],
        action=form.get("action", "").strip()[:64],
        patient_code=form.get("patient_code", "").strip()[:64],
        since=day("since"),
        until=day("until"),
        page=max(1, int(page)) if page.isdigit() else 1,
    )


@dataclass
class AuditPage:
    rows: list[dict]
    total: int
    page: int
    pages: int
    unknown_patient: bool = False


def audit_page(db: Session, wanted: AuditFilter) -> AuditPage:
    query = select(AuditEntry)
    if wanted.actor:
        query = query.where(AuditEntry.actor == wanted.actor)
    if wanted.action:
        query = query.where(AuditEntry.action == wanted.action)
    if wanted.patient_code:
        patient = find_by_code(db, wanted.patient_code)
        if patient is None:
            return AuditPage([], 0, 1, 1, unknown_patient=True)
        query = query.where(AuditEntry.patient_id == patient.id)
    if wanted.since:
        query = query.where(AuditEntry.at >= _day_start(wanted.since))
    if wanted.until:
        query = query.where(AuditEntry.at < _day_start(wanted.until + timedelta(days=1)))
    total = db.scalar(select(func.count()).select_from(query.subquery())) or 0
    pages = max(1, -(-total // PAGE_ROWS))
    page = min(wanted.page, pages)
    entries = db.scalars(query.order_by(AuditEntry.id.desc()).offset((page - 1) * PAGE_ROWS).limit(PAGE_ROWS)).all()
    ids = {e.patient_id for e in entries if e.patient_id is not None}
    codes = dict(db.execute(select(Patient.id, Patient.patient_code).where(Patient.id.in_(ids))).all()) if ids else {}
    rows = [
        {
            "at": f"{(e.at if e.at.tzinfo else e.at.replace(tzinfo=UTC)).astimezone():%Y-%m-%d %H:%M:%S}",
            "actor": e.actor,
            "action": e.action,
            # a patient erased since keeps their rows, with the number that was theirs
            "patient": codes.get(e.patient_id, f"#{e.patient_id}") if e.patient_id is not None else "",
            "source": e.source,
            "detail": e.detail,
        }
        for e in entries
    ]
    return AuditPage(rows, total, page, pages)
