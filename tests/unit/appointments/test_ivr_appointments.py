"""The booking system as call flows use it (DbAppointments over the store): views, audit, refusals, notices."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from schedule_fixtures import add_cardiology, add_patient, session_on
from sqlalchemy import select

from ccctl.config import AppointmentsSettings, Settings
from ccctl.patients.call_services import DbCallServices
from ccctl.records.models.appointments import Appointment
from ccctl.records.models.audit import AuditEntry
from ccctl.records.models.channels import SmsMessage

CALL = "5b0e2c1a-7d3f-4c55-9a61-2b8d3e4f5a60"
OTHER_CALL = "9c1d3e2f-0a4b-4c6d-8e7f-1a2b3c4d5e6f"
# no confirmation channel: nothing leaves the machine in a unit test (the notice itself is the store's)
QUIET = Settings(appointments=AppointmentsSettings(timezone="Asia/Shanghai", confirm_by=[]))


def test_a_caller_books_hears_and_cancels_through_the_call_services(sqlite_url):
    with session_on(sqlite_url) as session:
        slot_ids = add_cardiology(session, slots=3)
        patient = add_patient(session, language="zh")
        other = add_patient(session, "P-2", phone="+48600100999")
    services = DbCallServices(sqlite_url, QUIET)
    try:
        booking = services.appointments
        assert booking.timezone == "Asia/Shanghai"
        now = datetime.now(UTC)
        offered = booking.free_slots("CARD", now, 2)
        assert [s.id for s in offered] == slot_ids[:2]
        assert offered[0].department_in("zh") == "心内科" and offered[0].department_in("en") == "Cardiology"
        assert booking.book(patient, slot_ids[0], CALL) is None
        assert booking.book(other, slot_ids[0], OTHER_CALL) == "taken"
        assert [s.id for s in booking.free_slots("CARD", now, 2)] == slot_ids[1:]
        [visit] = booking.upcoming_visits(patient, now, 3)
        assert (visit.slot.id, visit.status, visit.slot.doctor_name) == (slot_ids[0], "booked", "Dr Novak D1")
        assert booking.cancel(other, visit.id, OTHER_CALL) == "not_found"  # never another patient's visit
        assert booking.confirm(patient, visit.id, CALL) is None
        assert booking.cancel(patient, visit.id, CALL) is None
        assert booking.cancel(patient, visit.id, CALL) == "not_changeable"
        assert booking.upcoming_visits(patient, now + timedelta(days=30), 3) == []
    finally:
        services.close()
    with session_on(sqlite_url) as session:
        row = session.scalars(select(Appointment)).one()
        assert (row.status, row.source, row.booked_by, row.held_slot_id) == ("cancelled", "ivr", f"ivr:{CALL}", None)
        audit = session.execute(select(AuditEntry.actor, AuditEntry.action, AuditEntry.detail)).all()
        assert ("ivr", "appointment_booked", f"appointment {row.id} booked by phone, call {CALL}") in audit
        assert ("ivr", "appointment_cancelled", f"appointment {row.id} cancelled by phone, call {CALL}") in audit
        assert ("ivr", "appointments", "1 upcoming") in audit
        assert session.scalars(select(SmsMessage)).all() == []
