"""`ccctl patients import FILE.csv`: every row checked first, then all stored in one transaction or none.

Each bad row is reported as FILE.csv:LINE: reason; reasons name columns and codes, never
names, phones, member numbers or PINs. A `pin` column is hashed on the way in.
"""

from __future__ import annotations

import csv
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from ccctl.errors import UserError
from ccctl.patients.fields import SpecialtyFields
from ccctl.patients.pins import PinFormatError, PinHasher, check_pin_format, store_pin_hash
from ccctl.patients.repository import PatientData, PatientError, add_patient, check_patient_data
from ccctl.records.audit import record_audit
from ccctl.records.database import database_problem
from ccctl.records.models.base import utc_now
from ccctl.records.models.patients import Patient

PATIENT_COLUMNS = (
    "patient_code",
    "given_name",
    "family_name",
    "phones",
    "member_number",
    "pin",
    "specialty",
    "language",
)
REQUIRED_COLUMNS = ("given_name", "family_name", "phones")
PHONE_SEPARATOR = ";"


@dataclass(frozen=True)
class ImportProblem:
    file: str
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.reason}"


class ImportFailed(UserError):
    """Nothing was imported; `problems` lists every bad row (str() is a one-line summary)."""

    def __init__(self, file: str, problems: list[ImportProblem]) -> None:
        self.file = file
        self.problems = problems
        count = len(problems)
        super().__init__(f"{file}: {count} {'problem' if count == 1 else 'problems'}, nothing imported")


@dataclass
class ImportRow:
    line: int
    data: PatientData
    pin: str | None


def read_csv_records(path: Path) -> list[tuple[int, list[str]]]:
    """(first line number, cells) of every non-blank CSV record, the header first."""
    try:
        # utf-8-sig: spreadsheets put a byte-order mark before the header
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle)
            records, next_line = [], 1
            for cells in reader:
                if any(cell.strip() for cell in cells):
                    records.append((next_line, cells))
                next_line = reader.line_num + 1
            return records
    except OSError as exc:
        raise ImportFailed(str(path), [ImportProblem(str(path), 0, f"cannot read ({exc.strerror})")]) from None
    except (csv.Error, UnicodeDecodeError) as exc:
        reason = "not UTF-8 text" if isinstance(exc, UnicodeDecodeError) else f"not valid CSV ({exc})"
        raise ImportFailed(str(path), [ImportProblem(str(path), 0, reason)]) from None


def _check_header(file: str, header: list[str], specialties: dict[str, SpecialtyFields]) -> list[ImportProblem]:
    names = [name.strip() for name in header]
    field_names = {name for spec in specialties.values() for name in spec.fields}
    problems = [ImportProblem(file, 1, f"missing column '{name}'") for name in REQUIRED_COLUMNS if name not in names]
    for name in names:
        if name not in PATIENT_COLUMNS and name not in field_names:
            problems.append(ImportProblem(file, 1, f"unknown column '{name}' (neither a patient column nor a field)"))
    seen = set()
    for name in names:
        if name in seen:
            problems.append(ImportProblem(file, 1, f"column '{name}' appears twice"))
        seen.add(name)
    return problems


def _parse_row(header: list[str], cells: list[str], specialties: dict[str, SpecialtyFields]) -> ImportRow | str:
    """The row as patient data, or the reason it is bad."""
    if len(cells) < len(header):
        return f"missing column '{header[len(cells)]}' (the row has {len(cells)} of {len(header)} cells)"
    if len(cells) > len(header):
        return f"{len(cells)} cells but the header has {len(header)} columns"
    row = {name: cell.strip() for name, cell in zip(header, cells, strict=True)}
    fields = {name: value for name, value in row.items() if name not in PATIENT_COLUMNS and value}
    data = PatientData(
        given_name=row["given_name"],
        family_name=row["family_name"],
        phones=[number for number in row["phones"].split(PHONE_SEPARATOR) if number.strip()],
        patient_code=row.get("patient_code") or None,
        member_number=row.get("member_number") or None,
        specialty=row.get("specialty", ""),
        language=row.get("language", ""),
        custom_fields=fields,
    )
    pin = row.get("pin") or None
    try:
        clean = check_patient_data(data, specialties)
        if pin is not None:
            check_pin_format(pin)
    except PinFormatError as exc:
        return f"pin: {exc}"
    except PatientError as exc:
        return str(exc)
    if pin is not None and clean.member_number is None:
        return "pin: only a member (with a member number) has a PIN"
    return ImportRow(line=0, data=clean, pin=pin)


@dataclass(frozen=True)
class RowKeys:
    """The codes a row claims, read from its cells whether or not the rest of the row is good."""

    line: int
    code: str | None
    member_number: str | None


def _row_keys(header: list[str], line: int, cells: list[str]) -> RowKeys:
    row = {name: cell.strip() for name, cell in zip(header, cells, strict=False)}
    return RowKeys(line, row.get("patient_code") or None, row.get("member_number") or None)


def _check_duplicates(file: str, keys: list[RowKeys], session: Session) -> list[ImportProblem]:
    """Codes and member numbers used twice in the file or already stored."""
    problems = []
    codes: dict[str, int] = {}
    members: dict[str, int] = {}
    for row in keys:
        if row.code is not None:
            if row.code in codes:
                problems.append(
                    ImportProblem(file, row.line, f"patient code '{row.code}' also on line {codes[row.code]}")
                )
            codes.setdefault(row.code, row.line)
        if row.member_number is not None:
            if row.member_number in members:
                problems.append(
                    ImportProblem(file, row.line, f"member number also on line {members[row.member_number]}")
                )
            members.setdefault(row.member_number, row.line)
    stored_codes = set(session.scalars(select(Patient.patient_code).where(Patient.patient_code.in_(list(codes)))))
    stored_members = set(session.scalars(select(Patient.member_number).where(Patient.member_number.in_(list(members)))))
    for code in sorted(stored_codes):
        problems.append(ImportProblem(file, codes[code], f"patient code '{code}' already stored"))
    for member_number in stored_members:
        problems.append(ImportProblem(file, members[member_number], "member number already stored for another patient"))
    return problems


def check_file(
    path: str | Path, specialties: dict[str, SpecialtyFields], session: Session
) -> tuple[list[ImportRow], list[ImportProblem]]:
    """Every row of the file checked (format, fields, duplicates); nothing written."""
    file = str(path)
    records = read_csv_records(Path(path))
    if not records:
        return [], [ImportProblem(file, 1, "empty file (expected a header line)")]
    header = [name.strip() for name in records[0][1]]
    problems = _check_header(file, header, specialties)
    if problems:
        return [], problems
    rows = []
    for line, cells in records[1:]:
        parsed = _parse_row(header, cells, specialties)
        if isinstance(parsed, str):
            problems.append(ImportProblem(file, line, parsed))
        else:
            parsed.line = line
            rows.append(parsed)
    keys = [_row_keys(header, line, cells) for line, cells in records[1:]]
    problems.extend(_check_duplicates(file, keys, session))
    # by line (a stable sort: on one line the row's own fault, then codes, then member numbers)
    problems.sort(key=lambda problem: problem.line)
    return rows, problems


def _hash_pins(rows: list[ImportRow], hasher: PinHasher) -> dict[int, str]:
    """line -> PIN hash, hashed on all cores (argon2 releases the GIL)."""
    with_pin = [row for row in rows if row.pin is not None]
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        hashes = list(pool.map(lambda row: hasher.hash(row.pin), with_pin))
    return {row.line: pin_hash for row, pin_hash in zip(with_pin, hashes, strict=True)}


def import_patients(
    engine: Engine, path: str | Path, specialties: dict[str, SpecialtyFields], hasher: PinHasher, actor: str
) -> list[str]:
    """Store every patient of the CSV file in one transaction; their codes. ImportFailed: nothing stored."""
    file = str(path)
    with Session(engine) as session, session.begin():
        rows, problems = check_file(path, specialties, session)
        if problems:
            raise ImportFailed(file, problems)
        hashes = _hash_pins(rows, hasher)
        codes = []
        now = utc_now()
        try:
            for row in rows:
                patient = add_patient(session, row.data, specialties)
                if row.line in hashes:
                    store_pin_hash(patient, hashes[row.line], now)
                record_audit(session, actor, "import", patient.id, "cli", detail=f"{Path(file).name}:{row.line}")
                codes.append(patient.patient_code)
        except PatientError as exc:
            # another writer stored the same code or member number meanwhile
            raise ImportFailed(file, [ImportProblem(file, row.line, str(exc))]) from None
        except DBAPIError as exc:
            raise ImportFailed(file, [ImportProblem(file, row.line, database_problem(exc))]) from None
    return codes
