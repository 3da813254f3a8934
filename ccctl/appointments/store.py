"""The SQL of appointments: every booking, confirmation, cancellation and move goes through here.

Functions take an open Session and work in the caller's transaction. A slot is given once because the
database refuses a second active appointment with the same held_slot_id; `book` inserts inside a SAVEPOINT
so that refusal becomes SlotTaken and the caller's transaction goes on (PostgreSQL would otherwise abort it).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased, joinedload

from ccctl.appointments.errors import AppointmentNotChangeable, AppointmentNotFound, SlotNotBookable, SlotTaken
from ccctl.appointments.model import AppointmentView, SlotView
from ccctl.records.models.appointments import ACTIVE_STATUSES, Appointment, Department, Doctor, Slot
from ccctl.records.models.base import utc_now


def slot_view(slot: Slot) -> SlotView:
    return SlotView(
        id=slot.id,
        department_code=slot.department.code,
        department_name=slot.department.name,
        names=dict(slot.department.names or {}),
        doctor_code=slot.doctor.code,
        doctor_name=slot.doctor.name,
        starts_at=slot.starts_at,
        minutes=slot.minutes,
    )


def appointment_view(appointment: Appointment) -> AppointmentView:
    return AppointmentView(
        id=appointment.id,
        patient_id=appointment.patient_id,
        status=appointment.status,
        slot=slot_view(appointment.slot),
        external_id=appointment.external_id,
        source=appointment.source,
    )


def _appointments_of(patient_id: int) -> Select:
    return (
        select(Appointment)
        .join(Appointment.slot)
        .where(Appointment.patient_id == patient_id)
        .options(
            joinedload(Appointment.slot).joinedload(Slot.department),
            joinedload(Appointment.slot).joinedload(Slot.doctor),
        )
    )


def upcoming(session: Session, patient_id: int, now: datetime, limit: int = 3) -> list[AppointmentView]:
    """The patient's booked or confirmed visits after `now`, soonest first."""
    query = (
        _appointments_of(patient_id)
        .where(Appointment.status.in_(ACTIVE_STATUSES), Slot.starts_at > now)
        .order_by(Slot.starts_at, Appointment.id)
        .limit(limit)
    )
    return [appointment_view(a) for a in session.scalars(query)]


def past(session: Session, patient_id: int, now: datetime, limit: int = 10) -> list[AppointmentView]:
    """The patient's visits whose time has come (any outcome but "moved"), latest first."""
    query = (
        _appointments_of(patient_id)
        .where(Appointment.status != "moved", Slot.starts_at <= now)
        .order_by(Slot.starts_at.desc(), Appointment.id.desc())
        .limit(limit)
    )
    return [appointment_view(a) for a in session.scalars(query)]


def free_slots(
    session: Session, department_code: str, now: datetime, limit: int = 3, doctor_code: str | None = None
) -> list[SlotView]:
    """The department's next slots nobody holds, not blocked, after `now`, soonest first."""
    holder = aliased(Appointment)
    query = (
        select(Slot)
        .join(Slot.department)
        .join(Slot.doctor)
        .outerjoin(holder, holder.held_slot_id == Slot.id)
        .where(
            Department.code == department_code,
            Department.active.is_(True),
            Doctor.active.is_(True),
            Slot.blocked.is_(False),
            Slot.starts_at > now,
            holder.id.is_(None),
        )
        .options(joinedload(Slot.department), joinedload(Slot.doctor))
        .order_by(Slot.starts_at, Slot.id)
        .limit(limit)
    )
    if doctor_code is not None:
        query = query.where(Doctor.code == doctor_code)
    return [slot_view(s) for s in session.scalars(query)]


def get(session: Session, appointment_id: int) -> AppointmentView:
    """One appointment, or AppointmentNotFound."""
    return appointment_view(_appointment(session, appointment_id))


def _appointment(session: Session, appointment_id: int) -> Appointment:
    appointment = session.get(Appointment, appointment_id)
    if appointment is None:
        raise AppointmentNotFound(f"appointment {appointment_id}: no such appointment")
    return appointment


def _active(session: Session, appointment_id: int) -> Appointment:
    appointment = _appointment(session, appointment_id)
    if appointment.status not in ACTIVE_STATUSES:
        raise AppointmentNotChangeable(f"appointment {appointment_id} is {appointment.status}, not booked or confirmed")
    return appointment


def _open_sqlite_transaction(session: Session) -> None:
    """Make SQLite's transaction explicit before a SAVEPOINT.

    Python's sqlite3 begins a transaction only before a write; a SAVEPOINT issued first would become the
    outermost transaction and its RELEASE would commit the caller's work early.
    """
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        return
    dbapi_connection = connection.connection.dbapi_connection
    if dbapi_connection is not None and not dbapi_connection.in_transaction:
        connection.exec_driver_sql("BEGIN")


def book(
    session: Session,
    patient_id: int,
    slot_id: int,
    *,
    source: str,
    booked_by: str,
    external_id: str | None = None,
    reason: str = "",
    moved_from_id: int | None = None,
) -> AppointmentView:
    """Book the slot for the patient; SlotTaken when another booking holds it, SlotNotBookable otherwise."""
    slot = session.get(Slot, slot_id)
    if slot is None:
        raise SlotNotBookable(f"slot {slot_id}: no such slot")
    if slot.blocked:
        raise SlotNotBookable(f"slot {slot_id} is blocked by the hospital")
    if slot.starts_at <= utc_now():
        raise SlotNotBookable(f"slot {slot_id} has already started")
    appointment = Appointment(
        patient_id=patient_id,
        slot_id=slot_id,
        held_slot_id=slot_id,
        status="booked",
        source=source,
        booked_by=booked_by,
        external_id=external_id,
        reason=reason,
        moved_from_id=moved_from_id,
    )
    session.flush()
    _open_sqlite_transaction(session)
    try:
        with session.begin_nested():
            session.add(appointment)
    except IntegrityError:
        if session.scalar(select(Appointment.id).where(Appointment.held_slot_id == slot_id)) is not None:
            raise SlotTaken(f"slot {slot_id} was just booked by someone else") from None
        raise SlotNotBookable(f"slot {slot_id}: the booking was refused (external id already used?)") from None
    return appointment_view(appointment)


def confirm(session: Session, appointment_id: int, *, by: str) -> AppointmentView:
    """Mark a booked appointment confirmed (a confirmed one stays so)."""
    appointment = _active(session, appointment_id)
    appointment.status = "confirmed"
    session.flush()
    return appointment_view(appointment)


def cancel(session: Session, appointment_id: int, *, by: str, reason: str = "") -> AppointmentView:
    """Cancel a booked or confirmed appointment; its slot is free again."""
    appointment = _active(session, appointment_id)
    appointment.status = "cancelled"
    appointment.held_slot_id = None
    appointment.cancelled_at = utc_now()
    if reason:
        appointment.reason = reason[:256]
    session.flush()
    return appointment_view(appointment)


def move(session: Session, appointment_id: int, new_slot_id: int, *, source: str, by: str) -> AppointmentView:
    """Book the new slot first (a taken one leaves the old visit as it was), then mark the old one moved.

    The new appointment names the old one (moved_from_id) and takes over its external id.
    """
    old = _active(session, appointment_id)
    if old.slot_id == new_slot_id:
        raise SlotNotBookable(f"slot {new_slot_id} is already this appointment's")
    new = book(
        session, old.patient_id, new_slot_id, source=source, booked_by=by, reason=old.reason, moved_from_id=old.id
    )
    external_id = old.external_id
    old.status = "moved"
    old.held_slot_id = None
    old.cancelled_at = utc_now()
    old.external_id = None
    session.flush()
    moved = _appointment(session, new.id)
    if external_id is not None:
        moved.external_id = external_id
        session.flush()
    return appointment_view(moved)


def ensure_slot(
    session: Session,
    *,
    doctor_code: str,
    doctor_name: str,
    starts_at: datetime,
    minutes: int,
    department_code: str | None,
    department_name: str = "",
) -> Slot:
    """The doctor's slot at `starts_at`; department, doctor and slot are made when unknown.

    This is how the hospital's systems (HL7 SIU, FHIR pull) name a visit: by codes and a time, not by our
    slot ids. With no department code the doctor's own department is used; a new doctor then cannot be made.
    """
    doctor = session.scalars(select(Doctor).where(Doctor.code == doctor_code)).first()
    if department_code is None:
        if doctor is None or doctor.department is None:
            raise SlotNotBookable(f"doctor {doctor_code}: no department given and none on file")
        department = doctor.department
    else:
        department = session.scalars(select(Department).where(Department.code == department_code)).first()
        if department is None:
            department = Department(code=department_code, name=(department_name or department_code)[:128], names={})
            session.add(department)
            session.flush()
    if doctor is None:
        doctor = Doctor(code=doctor_code, name=(doctor_name or doctor_code)[:128], department_id=department.id)
        session.add(doctor)
        session.flush()
    slot = session.scalars(select(Slot).where(Slot.doctor_id == doctor.id, Slot.starts_at == starts_at)).first()
    if slot is None:
        slot = Slot(doctor_id=doctor.id, department_id=department.id, starts_at=starts_at, minutes=minutes)
        session.add(slot)
        session.flush()
    return slot


def mark_no_show(session: Session, appointment_id: int, *, by: str) -> AppointmentView:
    """The patient did not come: the appointment is no_show and its slot (now past) no longer held."""
    appointment = _active(session, appointment_id)
    appointment.status = "no_show"
    appointment.held_slot_id = None
    session.flush()
    return appointment_view(appointment)
