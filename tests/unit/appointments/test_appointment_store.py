"""The appointment store on SQLite and PostgreSQL: booking, one slot one patient, confirm, cancel, move."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from gevent import monkey
from gevent.threadpool import ThreadPool
from schedule_fixtures import add_cardiology, add_patient, session_on, tomorrow_at
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ccctl.appointments import store
from ccctl.appointments.errors import AppointmentNotChangeable, SlotNotBookable, SlotTaken
from ccctl.records.database import make_engine
from ccctl.records.models.appointments import Appointment, Slot
from ccctl.records.models.audit import AuditEntry
from ccctl.records.models.base import utc_now

allocate_lock = monkey.get_original("_thread", "allocate_lock")


def test_booked_slot_is_upcoming_and_no_longer_free(db_url):
    with session_on(db_url) as session:
        slots = add_cardiology(session)
        patient = add_patient(session)
        booked = store.book(session, patient, slots[1], source="agent", booked_by="alice")
    with session_on(db_url) as session:
        now = utc_now()
        assert [a.id for a in store.upcoming(session, patient, now)] == [booked.id]
        visit = store.upcoming(session, patient, now)[0]
        assert (visit.status, visit.source, visit.slot.doctor_code) == ("booked", "agent", "D1")
        assert visit.slot.starts_at == tomorrow_at(9, 15)
        assert visit.slot.department_name_in("zh") == "心内科"
        assert [s.id for s in store.free_slots(session, "CARD", now, limit=10)] == [slots[0], slots[2], slots[3]]


def test_a_taken_slot_raises_slot_taken_and_the_callers_transaction_goes_on(db_url):
    with session_on(db_url) as session:
        slots = add_cardiology(session)
        first, second = add_patient(session, "P-1"), add_patient(session, "P-2", phone="+48600100201")
    with session_on(db_url) as session:
        store.book(session, first, slots[0], source="ivr", booked_by="ivr")
        with pytest.raises(SlotTaken, match=f"slot {slots[0]} was just booked"):
            store.book(session, second, slots[0], source="agent", booked_by="bob")
        # the transaction is still usable: the second patient books another slot in it
        store.book(session, second, slots[1], source="agent", booked_by="bob")
    with session_on(db_url) as session:
        held = session.execute(select(Appointment.patient_id, Appointment.held_slot_id).order_by(Appointment.id))
        assert list(held) == [(first, slots[0]), (second, slots[1])]


def test_a_booking_rolled_back_by_its_caller_leaves_nothing(db_url):
    with session_on(db_url) as session:
        slots = add_cardiology(session, slots=1)
        patient = add_patient(session)
    engine = make_engine(db_url)
    try:
        with Session(engine) as session:
            session.begin()
            store.book(session, patient, slots[0], source="agent", booked_by="a")
            session.rollback()
    finally:
        engine.dispose()
    with session_on(db_url) as session:
        assert session.scalar(select(func.count(Appointment.id))) == 0


def test_blocked_past_and_unknown_slots_are_not_bookable(db_url):
    with session_on(db_url) as session:
        slots = add_cardiology(session, slots=2)
        patient = add_patient(session)
        session.get(Slot, slots[0]).blocked = True
        session.get(Slot, slots[1]).starts_at = datetime.now(UTC) - timedelta(hours=1)
    with session_on(db_url) as session:
        with pytest.raises(SlotNotBookable, match="blocked"):
            store.book(session, patient, slots[0], source="agent", booked_by="a")
        with pytest.raises(SlotNotBookable, match="already started"):
            store.book(session, patient, slots[1], source="agent", booked_by="a")
        with pytest.raises(SlotNotBookable, match="no such slot"):
            store.book(session, patient, 99999, source="agent", booked_by="a")
        assert store.free_slots(session, "CARD", utc_now()) == []


def test_cancel_frees_the_slot_and_a_cancelled_visit_cannot_be_confirmed(db_url):
    with session_on(db_url) as session:
        slots = add_cardiology(session, slots=1)
        patient = add_patient(session)
        booked = store.book(session, patient, slots[0], source="agent", booked_by="a")
        assert store.confirm(session, booked.id, by="a").status == "confirmed"
        assert store.cancel(session, booked.id, by="a", reason="feels better").status == "cancelled"
        assert [s.id for s in store.free_slots(session, "CARD", utc_now())] == slots
        with pytest.raises(AppointmentNotChangeable, match=f"appointment {booked.id} is cancelled"):
            store.confirm(session, booked.id, by="a")
        again = store.book(session, patient, slots[0], source="ivr", booked_by="ivr")
        assert store.upcoming(session, patient, utc_now())[0].id == again.id


def test_move_books_the_new_slot_and_marks_the_old_visit_moved(db_url):
    with session_on(db_url) as session:
        slots = add_cardiology(session, slots=3)
        patient, other = add_patient(session, "P-1"), add_patient(session, "P-2", phone="+48600100201")
        booked = store.book(session, patient, slots[0], source="hl7", booked_by="HIS", external_id="SIU-1")
        store.book(session, other, slots[1], source="agent", booked_by="a")
    with session_on(db_url) as session:
        with pytest.raises(SlotTaken):
            store.move(session, booked.id, slots[1], source="agent", by="a")
        moved = store.move(session, booked.id, slots[2], source="agent", by="a")
    with session_on(db_url) as session:
        assert (moved.slot.id, moved.status, moved.external_id) == (slots[2], "booked", "SIU-1")
        assert store.get(session, booked.id).status == "moved"
        assert [a.id for a in store.upcoming(session, patient, utc_now())] == [moved.id]
        assert [s.id for s in store.free_slots(session, "CARD", utc_now())] == [slots[0]]


def test_past_lists_visits_already_due_latest_first(db_url):
    with session_on(db_url) as session:
        slots = add_cardiology(session, slots=2)
        patient = add_patient(session)
        a = store.book(session, patient, slots[0], source="agent", booked_by="a")
        b = store.book(session, patient, slots[1], source="agent", booked_by="a")
    with session_on(db_url) as session:
        day_after = tomorrow_at(12)
        assert [v.id for v in store.past(session, patient, day_after)] == [b.id, a.id]
        assert store.upcoming(session, patient, day_after) == []


def _book_at_once(url: str, patients: list[int], slot_id: int) -> list[str]:
    """Two native threads, each with its own engine, book the same slot once both have their transaction open."""
    arrived = [allocate_lock(), allocate_lock()]
    for lock in arrived:
        lock.acquire()

    def attempt(me: int) -> str:
        engine = make_engine(url)
        try:
            with Session(engine) as session, session.begin():
                session.scalar(select(func.count(Appointment.id)))
                arrived[me].release()
                arrived[1 - me].acquire()
                try:
                    store.book(session, patients[me], slot_id, source="ivr", booked_by="ivr")
                except SlotTaken:
                    return "taken"
                # the refusal's row stays out, the audit row of the winner goes in with its booking
                session.add(AuditEntry(at=utc_now(), actor="ivr", action="book", patient_id=patients[me], source="t"))
                return "won"
        finally:
            engine.dispose()

    pool = ThreadPool(2)
    try:
        results = [pool.spawn(attempt, 0), pool.spawn(attempt, 1)]
        return sorted(result.get() for result in results)
    finally:
        pool.kill()


def test_two_callers_booking_the_same_slot_at_once_one_wins_the_other_is_told_taken(db_url):
    with session_on(db_url) as session:
        slots = add_cardiology(session, slots=1)
        patients = [add_patient(session, "P-1"), add_patient(session, "P-2", phone="+48600100201")]
    assert _book_at_once(db_url, patients, slots[0]) == ["taken", "won"]
    with session_on(db_url) as session:
        assert session.scalar(select(func.count(Appointment.id))) == 1
        assert session.scalar(select(func.count(AuditEntry.id))) == 1


def test_ensure_slot_finds_the_slot_a_hospital_names_and_makes_what_is_unknown(db_url):
    starts_at = tomorrow_at(9, 15)
    with session_on(db_url) as session:
        slots = add_cardiology(session)
        found = store.ensure_slot(
            session, doctor_code="D1", doctor_name="", starts_at=starts_at, minutes=15, department_code=None
        )
        made = store.ensure_slot(
            session,
            doctor_code="NEURO-7",
            doctor_name="Nowak Anna",
            starts_at=starts_at,
            minutes=20,
            department_code="NEURO",
            department_name="Neurology",
        )
        assert found.id == slots[1]
        assert (made.doctor.code, made.doctor.name, made.department.code, made.minutes) == (
            "NEURO-7", "Nowak Anna", "NEURO", 20,
        )  # fmt: skip
        with pytest.raises(SlotNotBookable, match="doctor NEW-1: no department given and none on file"):
            store.ensure_slot(
                session, doctor_code="NEW-1", doctor_name="", starts_at=starts_at, minutes=15, department_code=None
            )


def test_a_no_show_frees_the_slot_and_cannot_be_marked_twice(db_url):
    with session_on(db_url) as session:
        slots = add_cardiology(session, slots=1)
        patient = add_patient(session)
        booked = store.book(session, patient, slots[0], source="hl7", booked_by="hl7:HIS")
    with session_on(db_url) as session:
        assert store.mark_no_show(session, booked.id, by="hl7:HIS").status == "no_show"
        assert session.get(Appointment, booked.id).held_slot_id is None
        with pytest.raises(AppointmentNotChangeable, match="is no_show, not booked or confirmed"):
            store.mark_no_show(session, booked.id, by="hl7:HIS")
