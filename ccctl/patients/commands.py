"""The work behind `ccctl patients ...`: one transaction per command, reads audited, one-line errors.

cli.py parses and prints; these functions open the database, call the repository and
turn database failures into PatientError lines without SQL or patient data.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from ccctl.patients.csv_import import import_patients
from ccctl.patients.fields import FieldDefinitionError, SpecialtyFields, load_specialties
from ccctl.patients.pins import PinHasher, store_pin_hash, unlock_patient
from ccctl.patients.repository import (
    PatientData,
    PatientError,
    PatientFilter,
    PatientRecord,
    add_patient,
    check_filter,
    get_patient,
    list_patients,
    patient_record,
)
from ccctl.records.audit import record_audit
from ccctl.records.database import command_engine, in_transaction
from ccctl.records.models.base import utc_now

T = TypeVar("T")
SOURCE = "cli"


def specialties_from(fields_dir: str | Path | None) -> dict[str, SpecialtyFields]:
    """The field definitions, or PatientError naming the file and line at fault."""
    try:
        return load_specialties(fields_dir)
    except FieldDefinitionError as exc:
        raise PatientError(str(exc)) from None


def _in_transaction(url: str, work: Callable[[Session], T]) -> T:
    return in_transaction(url, PatientError, work)


def add(url: str, data: PatientData, fields_dir: str | Path | None, actor: str) -> str:
    """Add one patient; its code."""
    specialties = specialties_from(fields_dir)

    def work(session: Session) -> str:
        patient = add_patient(session, data, specialties)
        record_audit(session, actor, "add", patient.id, SOURCE)
        return patient.patient_code

    return _in_transaction(url, work)


def show(url: str, code: str, actor: str, with_sensitive: bool) -> PatientRecord:
    """One patient's record (never the PIN hash); the read is written to the audit log."""

    def work(session: Session) -> PatientRecord:
        patient = get_patient(session, code)
        record_audit(
            session, actor, "show", patient.id, SOURCE, detail="with sensitive fields" if with_sensitive else ""
        )
        return patient_record(patient)

    return _in_transaction(url, work)


def set_pin(url: str, code: str, pin: str, actor: str, hasher: PinHasher | None = None) -> None:
    """Give a member a new PIN (hashed; the digits go nowhere else); clears failures and lock-out."""
    pin_hash = (hasher or PinHasher()).hash(pin)

    def work(session: Session) -> None:
        patient = get_patient(session, code)
        if not patient.is_member:
            raise PatientError(f"patient '{code}' is not a member (only members have a PIN)")
        store_pin_hash(patient, pin_hash, utc_now())
        record_audit(session, actor, "set_pin", patient.id, SOURCE)

    _in_transaction(url, work)


def unlock(url: str, code: str, actor: str) -> bool:
    """End a member's lock-out; whether the member was locked."""

    def work(session: Session) -> bool:
        patient = get_patient(session, code)
        now = utc_now()
        was_locked = patient.locked_until is not None and patient.locked_until > now
        unlock_patient(patient, now)
        record_audit(session, actor, "unlock", patient.id, SOURCE)
        return was_locked

    return _in_transaction(url, work)


def list_records(url: str, filters: PatientFilter, actor: str) -> list[PatientRecord]:
    """Patients matching the filters; the listing is audited (one row: the filters, the patients shown)."""
    check_filter(filters)  # an oversized search is refused before the database is opened

    def work(session: Session) -> list[PatientRecord]:
        records = [patient_record(patient) for patient in list_patients(session, filters)]
        record_audit(session, actor, "list", None, SOURCE, detail=listing_detail(filters, records))
        return records

    return _in_transaction(url, work)


def listing_detail(filters: PatientFilter, records: list[PatientRecord]) -> str:
    """The audit detail of a listing or search: what was asked for (the search as typed), which patients were shown.

    "search 'kowal', members, limit 100: 2 patients P000001, P000007". The audit log is where a
    hospital finds who looked for whom, so the search text is kept here and nowhere else.
    """
    asked = [f"search {filters.search.strip()!r}"] if (filters.search or "").strip() else []
    if filters.member is not None:
        asked.append("members" if filters.member else "non-members")
    if filters.specialty:
        asked.append(f"specialty {filters.specialty}")
    asked.append(f"limit {filters.limit}")
    codes = ", ".join(record.patient_code for record in records)
    count = f"{len(records)} {'patient' if len(records) == 1 else 'patients'}"
    return f"{', '.join(asked)}: {count}{' ' + codes if codes else ''}"


def import_csv(
    url: str, path: str, fields_dir: str | Path | None, actor: str, hasher: PinHasher | None = None
) -> list[str]:
    """Import a CSV file all-or-nothing; the codes stored (ImportFailed lists every bad row)."""
    specialties = specialties_from(fields_dir)
    with command_engine(url, PatientError) as engine:
        return import_patients(engine, path, specialties, hasher or PinHasher(), actor)


def _value_text(value: Any) -> str:
    return ("yes" if value else "no") if isinstance(value, bool) else str(value)


def _fields_text(record: PatientRecord, specialties: dict[str, SpecialtyFields], with_sensitive: bool) -> list[str]:
    spec_fields = specialties.get(record.specialty)
    lines = []
    for name, value in record.custom_fields.items():
        spec = spec_fields.fields.get(name) if spec_fields else None
        hidden = spec is not None and spec.sensitive and not with_sensitive
        shown = "(sensitive: add --sensitive)" if hidden else _value_text(value)
        lines.append(f"  {name}: {shown}")
    return lines


def record_json(
    record: PatientRecord, specialties: dict[str, SpecialtyFields], with_sensitive: bool = False
) -> dict[str, Any]:
    """JSON-ready dict of a record (ISO times; sensitive fields left out unless asked for)."""
    data = asdict(record)
    spec_fields = specialties.get(record.specialty)
    if spec_fields and not with_sensitive:
        data["custom_fields"] = {
            name: value
            for name, value in record.custom_fields.items()
            if not (name in spec_fields.fields and spec_fields.fields[name].sensitive)
        }
    for key in ("locked_until", "created_at", "updated_at"):
        data[key] = None if data[key] is None else data[key].isoformat()
    return data


def format_record(record: PatientRecord, specialties: dict[str, SpecialtyFields], with_sensitive: bool) -> str:
    """The text of `ccctl patients show`."""
    locked = record.locked_until.isoformat() if record.locked_until and record.locked_until > utc_now() else "no"
    lines = [
        f"code:          {record.patient_code}",
        f"name:          {record.display_name}",
        f"member:        {'yes, number ' + str(record.member_number) if record.member else 'no'}",
        f"phones:        {', '.join(record.phones) or '-'}",
        f"specialty:     {record.specialty or '-'}",
        f"language:      {record.language or '-'}",
    ]
    if record.member:
        lines.append(f"PIN:           {'set' if record.has_pin else 'not set'}")
        lines.append(f"wrong PINs:    {record.pin_failures}")
        lines.append(f"locked until:  {locked}")
    lines.append(f"created:       {record.created_at.isoformat(timespec='seconds')}")
    if record.custom_fields:
        lines.append("fields:")
        lines.extend(_fields_text(record, specialties, with_sensitive))
    return "\n".join(lines)


COLUMNS = ("CODE", "NAME", "MEMBER", "SPECIALTY", "PHONES")


def format_records(records: list[PatientRecord]) -> str:
    """An aligned table of `ccctl patients list`; 'no patients' when empty."""
    if not records:
        return "no patients"
    rows = [COLUMNS] + [
        (r.patient_code, r.display_name, "yes" if r.member else "no", r.specialty or "-", ", ".join(r.phones) or "-")
        for r in records
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows
    )
