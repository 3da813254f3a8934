"""`ccctl schedule import FILE.csv`: departments, doctors and their slots, all rows checked, then all or nothing.

One row is one doctor's session on one day, cut into slots of `slot_minutes`; times are the site's local time
(appointments.timezone) and stored in UTC. Importing the same file again adds nothing. A slot on a day of the
flows' holiday calendar is imported blocked and reported as a warning. Bad rows are FILE:LINE: column: reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from ccctl.ivr.holidays import HolidayCalendar
from ccctl.patients.csv_import import ImportFailed, ImportProblem, read_csv_records
from ccctl.records.models.appointments import Department, Doctor, Slot

REQUIRED_COLUMNS = (
    "department_code",
    "department_name",
    "doctor_code",
    "doctor_name",
    "date",
    "start",
    "end",
    "slot_minutes",
)
# department_name_zh, department_name_pl...: the department's name in that language
NAME_COLUMN_PREFIX = "department_name_"
OPTIONAL_COLUMNS = ("expert",)
MAX_CODE_CHARS = 32
MAX_NAME_CHARS = 128
TRUE_WORDS = ("yes", "true", "1", "y")
FALSE_WORDS = ("no", "false", "0", "n", "")


@dataclass
class SessionRow:
    """One doctor's session on one day, as the row gives it."""

    line: int
    department_code: str
    department_name: str
    names: dict[str, str]
    doctor_code: str
    doctor_name: str
    expert: bool
    day: date
    starts: list[datetime]  # UTC
    minutes: int


@dataclass
class ImportSummary:
    departments_added: int = 0
    doctors_added: int = 0
    slots_added: int = 0
    slots_already_there: int = 0
    slots_blocked: int = 0
    warnings: list[str] = field(default_factory=list)


def _check_header(file: str, header: list[str]) -> list[ImportProblem]:
    problems = [ImportProblem(file, 1, f"missing column '{name}'") for name in REQUIRED_COLUMNS if name not in header]
    for name in header:
        known = name in REQUIRED_COLUMNS or name in OPTIONAL_COLUMNS or name.startswith(NAME_COLUMN_PREFIX)
        if not known:
            problems.append(ImportProblem(file, 1, f"unknown column '{name}'"))
    if len(set(header)) != len(header):
        problems.append(ImportProblem(file, 1, "a column appears twice"))
    return problems


def _clock(row: dict[str, str], column: str) -> time:
    try:
        return time.fromisoformat(row[column])
    except ValueError:
        raise ValueError(f"column '{column}': expected a time HH:MM, got {row[column]!r}") from None


def _local_to_utc(day: date, at: time, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, at, tzinfo=zone).astimezone(ZoneInfo("UTC"))


def _parse_row(line: int, header: list[str], cells: list[str], zone: ZoneInfo) -> SessionRow:
    """The row's session, or ValueError naming the column."""
    if len(cells) != len(header):
        raise ValueError(f"{len(cells)} cells but the header has {len(header)} columns")
    row = {name: cell.strip() for name, cell in zip(header, cells, strict=True)}
    for name in REQUIRED_COLUMNS:
        if not row[name]:
            raise ValueError(f"column '{name}' is empty")
    for name in ("department_code", "doctor_code"):
        if len(row[name]) > MAX_CODE_CHARS:
            raise ValueError(f"column '{name}': longer than {MAX_CODE_CHARS} characters")
    for name in header:
        if name.endswith("_name") or name.startswith(NAME_COLUMN_PREFIX):
            if len(row[name]) > MAX_NAME_CHARS:
                raise ValueError(f"column '{name}': longer than {MAX_NAME_CHARS} characters")
    try:
        day = date.fromisoformat(row["date"])
    except ValueError:
        raise ValueError(f"column 'date': expected a date YYYY-MM-DD, got {row['date']!r}") from None
    start, end = _clock(row, "start"), _clock(row, "end")
    if not row["slot_minutes"].isdigit() or not 5 <= int(row["slot_minutes"]) <= 480:
        raise ValueError(f"column 'slot_minutes': expected whole minutes 5-480, got {row['slot_minutes']!r}")
    minutes = int(row["slot_minutes"])
    first, last = datetime.combine(day, start), datetime.combine(day, end)
    if last <= first:
        raise ValueError(f"column 'end': {row['end']} is not after start {row['start']}")
    count = int((last - first) / timedelta(minutes=minutes))
    if count == 0:
        raise ValueError(
            f"column 'slot_minutes': no {minutes}-minute slot fits between {row['start']} and {row['end']}"
        )
    expert = row.get("expert", "").lower()
    if expert not in TRUE_WORDS + FALSE_WORDS:
        raise ValueError(f"column 'expert': expected yes or no, got {row['expert']!r}")
    starts = [_local_to_utc(day, (first + n * timedelta(minutes=minutes)).time(), zone) for n in range(count)]
    names = {
        name[len(NAME_COLUMN_PREFIX) :]: row[name]
        for name in header
        if name.startswith(NAME_COLUMN_PREFIX) and row[name]
    }
    return SessionRow(
        line=line,
        department_code=row["department_code"],
        department_name=row["department_name"],
        names=names,
        doctor_code=row["doctor_code"],
        doctor_name=row["doctor_name"],
        expert=expert in TRUE_WORDS,
        day=day,
        starts=starts,
        minutes=minutes,
    )


def _check_consistency(file: str, rows: list[SessionRow]) -> list[ImportProblem]:
    """A doctor works in one department throughout the file (a re-import may move them to another)."""
    problems = []
    seen: dict[str, tuple[str, int]] = {}
    for row in rows:
        department, first_line = seen.setdefault(row.doctor_code, (row.department_code, row.line))
        if department != row.department_code:
            problems.append(
                ImportProblem(
                    file,
                    row.line,
                    f"column 'department_code': doctor {row.doctor_code} is in {department} on line {first_line}",
                )
            )
    return problems


def check_file(path: str | Path, zone: ZoneInfo, session: Session) -> tuple[list[SessionRow], list[ImportProblem]]:
    """Every row checked; nothing written."""
    file = str(path)
    records = read_csv_records(Path(path))
    if not records:
        return [], [ImportProblem(file, 1, "empty file (expected a header line)")]
    header = [name.strip() for name in records[0][1]]
    problems = _check_header(file, header)
    if problems:
        return [], problems
    rows = []
    for line, cells in records[1:]:
        try:
            rows.append(_parse_row(line, header, cells, zone))
        except ValueError as exc:
            problems.append(ImportProblem(file, line, str(exc)))
    problems.extend(_check_consistency(file, rows))
    problems.sort(key=lambda problem: problem.line)
    return rows, problems


def _department(session: Session, row: SessionRow, summary: ImportSummary) -> Department:
    department = session.scalars(select(Department).where(Department.code == row.department_code)).first()
    if department is None:
        department = Department(code=row.department_code, name=row.department_name, names={})
        session.add(department)
        summary.departments_added += 1
    department.name = row.department_name
    if row.names and {**(department.names or {}), **row.names} != department.names:
        department.names = {**(department.names or {}), **row.names}
    return department


def _doctor(session: Session, row: SessionRow, department: Department, summary: ImportSummary) -> Doctor:
    doctor = session.scalars(select(Doctor).where(Doctor.code == row.doctor_code)).first()
    if doctor is None:
        doctor = Doctor(code=row.doctor_code, name=row.doctor_name)
        session.add(doctor)
        summary.doctors_added += 1
    doctor.name, doctor.department, doctor.is_expert = row.doctor_name, department, row.expert
    return doctor


def store_rows(session: Session, file: str, rows: list[SessionRow], calendar: HolidayCalendar | None) -> ImportSummary:
    """Add what the rows describe and is not stored yet (a slot is its doctor and start time)."""
    summary = ImportSummary()
    for row in rows:
        department = _department(session, row, summary)
        doctor = _doctor(session, row, department, summary)
        session.flush()
        stored = set(
            session.scalars(select(Slot.starts_at).where(Slot.doctor_id == doctor.id, Slot.starts_at.in_(row.starts)))
        )
        holiday = calendar.holiday_on(row.day) if calendar else None
        added = 0
        for starts_at in row.starts:
            if starts_at in stored:
                summary.slots_already_there += 1
                continue
            session.add(
                Slot(
                    doctor=doctor,
                    department=department,
                    starts_at=starts_at,
                    minutes=row.minutes,
                    blocked=holiday is not None,
                )
            )
            added += 1
        summary.slots_added += added
        if holiday is not None and added:
            summary.slots_blocked += added
            summary.warnings.append(
                f"{file}:{row.line}: {row.day} is a holiday ({holiday.name}): {added} slots imported blocked"
            )
    session.flush()
    return summary


def import_schedule(
    session: Session, path: str | Path, zone: ZoneInfo, calendar: HolidayCalendar | None
) -> ImportSummary:
    """Check the whole file, then store it in the caller's transaction; ImportFailed: nothing stored."""
    rows, problems = check_file(path, zone, session)
    if problems:
        raise ImportFailed(str(path), problems)
    return store_rows(session, str(path), rows, calendar)
