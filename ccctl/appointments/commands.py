"""The work behind `ccctl schedule ...` and `ccctl appointments ...`, and the staff changes the console shares.

A staff change (book, move, cancel, confirm) is one transaction: the store's change, an audit row, the
patient's message prepared; the message is sent once that transaction is committed. Every read of a
patient's visits by staff leaves an audit row too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from ccctl.appointments import store
from ccctl.appointments.errors import AppointmentError
from ccctl.appointments.model import AppointmentView, SlotView
from ccctl.appointments.notify import Notice, deliver, notify_change
from ccctl.appointments.schedule_import import ImportSummary, import_schedule
from ccctl.config import Settings
from ccctl.errors import UserError
from ccctl.ivr.holidays import HolidayCalendar, load_calendar
from ccctl.patients.repository import get_patient
from ccctl.records.audit import record_audit
from ccctl.records.database import command_engine, in_transaction
from ccctl.records.models.appointments import Department, Doctor
from ccctl.records.models.base import utc_now

T = TypeVar("T")
STAFF_SOURCE = "agent"  # how the store records a booking made by staff (CLI or console)
HOLIDAYS_FILE = Path("calendars") / "holidays.yaml"  # under the flows dir, as the flows name it


@dataclass(frozen=True)
class Visits:
    upcoming: list[AppointmentView]
    past: list[AppointmentView]


@dataclass(frozen=True)
class Change:
    appointment: AppointmentView
    notice: Notice


def _in_transaction(url: str, work: Callable[[Session], T]) -> T:
    return in_transaction(url, AppointmentError, work)


def zone_of(settings: Settings) -> ZoneInfo:
    return ZoneInfo(settings.appointments.timezone)


# ----- staff changes, in the caller's session (CLI and console)


def read_visits(session: Session, patient_id: int, actor: str, source: str, now: datetime | None = None) -> Visits:
    """The patient's upcoming and past visits; the read is audited."""
    now = now or utc_now()
    visits = Visits(store.upcoming(session, patient_id, now, limit=20), store.past(session, patient_id, now, limit=20))
    detail = f"{len(visits.upcoming)} upcoming, {len(visits.past)} past"
    record_audit(session, actor, "appointments read", patient_id, source, detail=detail)
    return visits


def _audited(
    session: Session,
    settings: Settings,
    appointment: AppointmentView,
    change: str,
    actor: str,
    source: str,
    detail: str,
) -> Change:
    record_audit(session, actor, f"appointment {change}", appointment.patient_id, source, detail=detail)
    return Change(appointment, notify_change(session, appointment, change, settings))


def staff_book(session: Session, settings: Settings, patient_id: int, slot_id: int, actor: str, source: str) -> Change:
    booked = store.book(session, patient_id, slot_id, source=STAFF_SOURCE, booked_by=actor)
    return _audited(session, settings, booked, "booked", actor, source, f"appointment {booked.id} slot {slot_id}")


def _owned(session: Session, appointment_id: int, patient_id: int | None) -> AppointmentView:
    found = store.get(session, appointment_id)
    if patient_id is not None and found.patient_id != patient_id:
        raise AppointmentError(f"appointment {appointment_id} is not this patient's")
    return found


def staff_change(
    session: Session,
    settings: Settings,
    appointment_id: int,
    change: str,
    actor: str,
    source: str,
    *,
    slot_id: int | None = None,
    patient_id: int | None = None,
) -> Change:
    """cancel, confirm or move (to slot_id) an appointment; with patient_id, only that patient's."""
    old = _owned(session, appointment_id, patient_id)
    if change == "cancelled":
        changed = store.cancel(session, appointment_id, by=actor, reason=f"by {source}")
    elif change == "confirmed":
        changed = store.confirm(session, appointment_id, by=actor)
    elif change == "moved" and slot_id is not None:
        changed = store.move(session, appointment_id, slot_id, source=STAFF_SOURCE, by=actor)
    else:
        raise ValueError(f"unknown change {change!r}")
    detail = f"appointment {appointment_id} slot {old.slot.id}"
    if change == "moved":
        detail += f" -> appointment {changed.id} slot {changed.slot.id}"
    return _audited(session, settings, changed, change, actor, source, detail)


def send_notice(url: str, settings: Settings, notice: Notice) -> str:
    """Send a committed change's message; its status. A gateway that fails leaves the change as it is."""
    with command_engine(url, AppointmentError) as engine, Session(engine, expire_on_commit=False) as session:
        return deliver(session, settings, notice)


# ----- `ccctl appointments ...`


def patient_visits(settings: Settings, code: str, actor: str) -> Visits:
    return _in_transaction(settings.database.url, lambda s: read_visits(s, get_patient(s, code).id, actor, "cli"))


def book(settings: Settings, code: str, slot_id: int, actor: str) -> tuple[Change, str]:
    url = settings.database.url
    change = _in_transaction(url, lambda s: staff_book(s, settings, get_patient(s, code).id, slot_id, actor, "cli"))
    return change, send_notice(url, settings, change.notice)


def change(
    settings: Settings, appointment_id: int, what: str, actor: str, slot_id: int | None = None
) -> tuple[Change, str]:
    url = settings.database.url
    done = _in_transaction(
        url, lambda s: staff_change(s, settings, appointment_id, what, actor, "cli", slot_id=slot_id)
    )
    return done, send_notice(url, settings, done.notice)


# ----- `ccctl schedule ...`


def holiday_calendar(settings: Settings, path: str | Path | None) -> HolidayCalendar | None:
    """The flows' holiday calendar (or the file given); None when the default one does not exist."""
    file = Path(path) if path else Path(settings.flows_dir) / HOLIDAYS_FILE
    if not path and not file.is_file():
        return None
    calendar, errors = load_calendar(file, str(file))
    if errors:
        raise UserError(str(errors[0]))
    return calendar


def import_csv(settings: Settings, file: str | Path, holidays: str | Path | None) -> ImportSummary:
    calendar = holiday_calendar(settings, holidays)
    zone = zone_of(settings)
    return _in_transaction(settings.database.url, lambda s: import_schedule(s, file, zone, calendar))


@dataclass(frozen=True)
class DepartmentRow:
    code: str
    name: str
    doctors: int
    free_slots: int


@dataclass(frozen=True)
class DoctorRow:
    code: str
    name: str
    department_code: str
    expert: bool


@dataclass(frozen=True)
class DayRow:
    day: date
    department_code: str
    doctor_code: str
    free_slots: int
    first: str  # local HH:MM of the first free slot


@dataclass(frozen=True)
class Schedule:
    departments: list[DepartmentRow]
    doctors: list[DoctorRow]
    days: list[DayRow]


def departments(session: Session) -> list[tuple[str, str]]:
    """(code, name) of every active department, by name."""
    query = select(Department.code, Department.name).where(Department.active.is_(True)).order_by(Department.name)
    return [(code, name) for code, name in session.execute(query)]


def doctors_of(session: Session, department_code: str) -> list[tuple[str, str]]:
    """(code, name) of the department's active doctors, by name."""
    query = (
        select(Doctor.code, Doctor.name)
        .join(Doctor.department)
        .where(Department.code == department_code, Doctor.active.is_(True))
        .order_by(Doctor.name)
    )
    return [(code, name) for code, name in session.execute(query)]


def free_slots_ahead(
    session: Session, settings: Settings, department_code: str, doctor_code: str | None = None, limit: int = 500
) -> list[SlotView]:
    """Free slots of the department (and doctor) from now to appointments.lookahead_days ahead."""
    now = utc_now()
    until = now + timedelta(days=settings.appointments.lookahead_days)
    found = store.free_slots(session, department_code, now, limit=limit, doctor_code=doctor_code)
    return [slot for slot in found if slot.starts_at < until]


def free_slots_listing(
    settings: Settings, department_code: str, doctor_code: str | None = None, limit: int = 50
) -> list[SlotView]:
    return _in_transaction(
        settings.database.url,
        lambda session: free_slots_ahead(session, settings, department_code, doctor_code, limit=limit),
    )


def schedule(settings: Settings, department_code: str | None = None) -> Schedule:
    zone = zone_of(settings)

    def work(session: Session) -> Schedule:
        codes = [code for code, _ in departments(session) if department_code in (None, code)]
        doctor_rows = session.execute(
            select(Doctor.code, Doctor.name, Department.code, Doctor.is_expert)
            .join(Doctor.department)
            .where(Doctor.active.is_(True), Department.code.in_(codes))
            .order_by(Department.code, Doctor.name)
        )
        doctors = [DoctorRow(*row) for row in doctor_rows]
        per_day: dict[tuple[date, str, str], list[SlotView]] = {}
        dept_rows = []
        for code, name in departments(session):
            if code not in codes:
                continue
            free = free_slots_ahead(session, settings, code)
            for slot in free:
                per_day.setdefault((slot.starts_at.astimezone(zone).date(), code, slot.doctor_code), []).append(slot)
            count = sum(1 for d in doctors if d.department_code == code)
            dept_rows.append(DepartmentRow(code, name, count, len(free)))
        days = [
            DayRow(day, dept, doctor, len(slots), f"{slots[0].starts_at.astimezone(zone):%H:%M}")
            for (day, dept, doctor), slots in sorted(per_day.items())
        ]
        return Schedule(dept_rows, doctors, days)

    return _in_transaction(settings.database.url, work)
