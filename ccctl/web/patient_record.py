"""What the console shows of one patient: the record, its specialty's fields, last calls, tickets, messages,
survey answers and campaign contacts.

Tickets and messages come from other features' tables and are shown only once those tables exist.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from ccctl.campaigns.outcomes import patient_contacts, patient_results
from ccctl.patients.commands import record_json
from ccctl.patients.fields import SpecialtyFields
from ccctl.patients.repository import patient_record
from ccctl.records.models.base import Base
from ccctl.records.models.calls import Call
from ccctl.records.models.patients import Patient
from ccctl.records.models.web import CallWrapUp
from ccctl.surveys.store import responses_of_patient

LAST_CALLS = 10
# columns worth showing when another feature's table has them (its schema is not ours to know in full)
TICKET_COLUMNS = ("id", "category", "status", "source", "description", "created_at")
MESSAGE_COLUMNS = ("id", "channel", "subject", "status", "received_at", "created_at")
TICKET_TABLES = ("tickets",)
MESSAGE_TABLES = ("inbox_items", "messages")
CLOSED = ("closed", "resolved", "done")


def _json_value(value: Any) -> Any:
    return value.isoformat(timespec="seconds") if isinstance(value, datetime) else value


def _other_rows(db: Session, names: tuple[str, ...], columns: tuple[str, ...], patient_id: int, open_only: bool):
    for name in names:
        table: Table | None = Base.metadata.tables.get(name)
        if table is None or "patient_id" not in table.c:
            continue
        shown = [table.c[c] for c in columns if c in table.c]
        query = select(*shown).where(table.c.patient_id == patient_id)
        if open_only and "status" in table.c:
            query = query.where(table.c.status.not_in(CLOSED))
        order = table.c.get("created_at") if "created_at" in table.c else table.c.get("id")
        if order is not None:
            query = query.order_by(order.desc())
        rows = db.execute(query.limit(LAST_CALLS)).mappings()
        return [{k: _json_value(v) for k, v in row.items()} for row in rows]
    return None  # the table does not exist (yet): the page says nothing rather than "none"


def _last_calls(db: Session, patient_id: int) -> list[dict]:
    calls = db.scalars(select(Call).where(Call.patient_id == patient_id).order_by(Call.started_at.desc()).limit(10))
    rows = []
    for call in calls:
        wrapup = db.scalar(
            select(CallWrapUp).where(CallWrapUp.call_uuid == call.uuid).order_by(CallWrapUp.id.desc()).limit(1)
        )
        rows.append(
            {
                "uuid": call.uuid,
                "hotline": call.hotline,
                "started_at": _json_value(call.started_at),
                "disposition": call.disposition,
                "wrapup_code": wrapup.code if wrapup else "",
            }
        )
    return rows


def field_labels(specialties: dict[str, SpecialtyFields], specialty: str) -> dict[str, str]:
    spec = specialties.get(specialty)
    return {name: f.label or name for name, f in spec.fields.items()} if spec else {}


def patient_detail(db: Session, patient_id: int, specialties: dict[str, SpecialtyFields]) -> dict | None:
    """The patient as the console shows it (sensitive fields left out), or None when there is no such id."""
    patient = db.get(Patient, patient_id)
    if patient is None:
        return None
    record = patient_record(patient)
    data = record_json(record, specialties)
    data["display_name"] = record.display_name
    # which sensitive fields hold a value (names only): the edit form says they are kept
    data["hidden_fields"] = sorted(set(record.custom_fields) - set(data["custom_fields"]))
    data["field_labels"] = field_labels(specialties, record.specialty)
    data["last_calls"] = _last_calls(db, patient_id)
    data["open_tickets"] = _other_rows(db, TICKET_TABLES, TICKET_COLUMNS, patient_id, open_only=True)
    data["recent_messages"] = _other_rows(db, MESSAGE_TABLES, MESSAGE_COLUMNS, patient_id, open_only=False)
    data["surveys"] = _surveys(db, patient_id)
    data["campaign_results"] = patient_results(db, patient_id, LAST_CALLS)
    data["campaign_contacts"] = [
        {**item, "at": _json_value(item["at"])} for item in patient_contacts(db, patient_id, LAST_CALLS)
    ]
    return data


def _surveys(db: Session, patient_id: int) -> list[dict]:
    """The patient's latest survey answers: survey, when, where the call came from, the keys, what they opened."""
    rows = []
    for response, answers in responses_of_patient(db, patient_id, LAST_CALLS):
        rows.append(
            {
                "survey": response.survey,
                "answered_at": _json_value(response.answered_at),
                "agent": response.agent,
                "queue": response.queue,
                "campaign": response.campaign,
                "completed": response.completed,
                "answers": answers,
                "escalated": response.escalated,
            }
        )
    return rows
