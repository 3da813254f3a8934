"""DbAppointments: the booking system as a call flow sees it (ccctl.ivr.services.Appointments) over the store.

Each step is one short transaction run by the call services' database thread; a change is audited
under the call's UUID, booked by "ivr:<call uuid>", and the patient's SMS or e-mail, prepared in the
change's transaction, is sent once it is committed by a greenlet of its own: the caller goes on while
the gateway answers (a failed send leaves the change made and the message's status kept). Not on a
native thread: the gateway's sockets are gevent's, and a hub in a second thread does not survive exit.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from gevent.pool import Group
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from ccctl.appointments import store
from ccctl.appointments.errors import AppointmentError, SlotNotBookable, SlotTaken
from ccctl.appointments.model import AppointmentView, SlotView
from ccctl.appointments.notify import Notice, deliver, notify_change
from ccctl.config import Settings
from ccctl.ivr.services import SlotOffer, Visit
from ccctl.records.audit import record_audit

log = logging.getLogger(__name__)
T = TypeVar("T")
InTransaction = Callable[[Callable[[Session], T]], T]
SOURCE = "ivr"
SEND_GRACE_SECONDS = 5.0


def offer_of(slot: SlotView) -> SlotOffer:
    return SlotOffer(
        id=slot.id,
        department_code=slot.department_code,
        department_name=slot.department_name,
        doctor_name=slot.doctor_name,
        starts_at=slot.starts_at,
        department_names=dict(slot.names or {}),
    )


def visit_of(appointment: AppointmentView) -> Visit:
    return Visit(id=appointment.id, status=appointment.status, slot=offer_of(appointment.slot))


def booked_by(call_uuid: str) -> str:
    return f"{SOURCE}:{call_uuid}"


class DbAppointments:
    """Implements ccctl.ivr.services.Appointments; `in_transaction` runs work in one committed session."""

    def __init__(self, in_transaction: InTransaction, engine: Engine, settings: Settings | None = None) -> None:
        self._in_transaction = in_transaction
        self.engine = engine
        self.settings = settings or Settings()
        self.timezone = self.settings.appointments.timezone
        self._sending = Group()

    def close(self) -> None:
        """Let the messages on their way go out (for a while), then stop; one not sent stays in its table."""
        self._sending.join(timeout=SEND_GRACE_SECONDS)
        self._sending.kill()

    def upcoming_visits(self, patient_id: int, now: datetime, limit: int) -> list[Visit]:
        def work(session: Session) -> list[Visit]:
            found = store.upcoming(session, patient_id, now, limit=limit)
            record_audit(session, "ivr", "appointments", patient_id, "ivr", detail=f"{len(found)} upcoming")
            return [visit_of(appointment) for appointment in found]

        return self._in_transaction(work)

    def free_slots(self, department_code: str, now: datetime, limit: int) -> list[SlotOffer]:
        return self._in_transaction(
            lambda session: [offer_of(slot) for slot in store.free_slots(session, department_code, now, limit=limit)]
        )

    def book(self, patient_id: int, slot_id: int, call_uuid: str) -> str | None:
        def work(session: Session) -> Notice | str:
            try:
                booked = store.book(session, patient_id, slot_id, source=SOURCE, booked_by=booked_by(call_uuid))
            except SlotTaken:
                return "taken"
            except SlotNotBookable:
                return "not_bookable"
            return self._changed(session, booked, "booked", call_uuid)

        return self._send(self._in_transaction(work))

    def confirm(self, patient_id: int, appointment_id: int, call_uuid: str) -> str | None:
        return self._change(patient_id, appointment_id, call_uuid, "confirmed")

    def cancel(self, patient_id: int, appointment_id: int, call_uuid: str) -> str | None:
        return self._change(patient_id, appointment_id, call_uuid, "cancelled")

    def move(self, patient_id: int, appointment_id: int, slot_id: int, call_uuid: str) -> str | None:
        def work(session: Session) -> Notice | str:
            try:
                if store.get(session, appointment_id).patient_id != patient_id:
                    return "not_found"
                moved = store.move(session, appointment_id, slot_id, source=SOURCE, by=booked_by(call_uuid))
            except SlotTaken:
                return "taken"
            except SlotNotBookable:
                return "not_bookable"
            except AppointmentError:
                return "not_changeable"
            return self._changed(session, moved, "moved", call_uuid)

        return self._send(self._in_transaction(work))

    def _change(self, patient_id: int, appointment_id: int, call_uuid: str, change: str) -> str | None:
        def work(session: Session) -> Notice | str:
            try:
                if store.get(session, appointment_id).patient_id != patient_id:
                    return "not_found"  # never another patient's visit, whatever id a flow passes
                if change == "confirmed":
                    changed = store.confirm(session, appointment_id, by=booked_by(call_uuid))
                else:
                    changed = store.cancel(session, appointment_id, by=booked_by(call_uuid), reason="by phone")
            except AppointmentError:
                return "not_changeable"
            return self._changed(session, changed, change, call_uuid)

        return self._send(self._in_transaction(work))

    def _changed(self, session: Session, appointment: AppointmentView, change: str, call_uuid: str) -> Notice:
        detail = f"appointment {appointment.id} {change} by phone, call {call_uuid}"
        record_audit(session, "ivr", f"appointment_{change}", appointment.patient_id, "ivr", detail=detail)
        return notify_change(session, appointment, change, self.settings)

    def _send(self, outcome: Notice | str) -> str | None:
        """A refusal's reason as it is; a committed change's message on its way (None: the change is made)."""
        if isinstance(outcome, str):
            return outcome
        if outcome.channel:
            self._sending.spawn(self._deliver, outcome)
        return None

    def _deliver(self, notice: Notice) -> None:
        try:
            # deliver commits as it goes (the row is "sending" before the gateway is asked)
            with Session(self.engine, expire_on_commit=False) as session:
                deliver(session, self.settings, notice)
        except Exception as exc:  # the change stands; the message keeps the status it reached
            log.warning("appointment message by %s not sent: %s", notice.channel, type(exc).__name__)
