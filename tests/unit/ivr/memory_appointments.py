"""An in-memory Appointments for node tests: slots, visits and what the calls changed.

A test double of the Protocol (ccctl.ivr.services.Appointments), keeping what the store would.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from ccctl.ivr.services import SlotOffer, Visit


def slot(slot_id: int, starts_at: dt.datetime, doctor: str = "Dr Wang", code: str = "cardiology") -> SlotOffer:
    return SlotOffer(slot_id, code, "Cardiology", doctor, starts_at, {"zh": "心内科", "pl": "Kardiologia"})


@dataclass
class MemoryAppointments:
    slots: list[SlotOffer] = field(default_factory=list)
    visits: dict[int, list[Visit]] = field(default_factory=dict)  # patient id -> visits
    # slots another caller books while this one listens (taken at their booking attempt)
    taken_meanwhile: set[int] = field(default_factory=set)
    changes: list[tuple[str, int, int, str]] = field(default_factory=list)  # (change, patient, id, call uuid)
    asked_at: list[dt.datetime] = field(default_factory=list)
    timezone: str = "Asia/Shanghai"

    def upcoming_visits(self, patient_id: int, now: dt.datetime, limit: int) -> list[Visit]:
        self.asked_at.append(now)
        mine = [v for v in self.visits.get(patient_id, []) if v.status in ("booked", "confirmed")]
        return [v for v in mine if v.slot.starts_at > now][:limit]

    def free_slots(self, department_code: str, now: dt.datetime, limit: int) -> list[SlotOffer]:
        self.asked_at.append(now)
        held = {v.slot.id for visits in self.visits.values() for v in visits if v.status in ("booked", "confirmed")}
        free = [s for s in self.slots if s.department_code == department_code and s.id not in held]
        return [s for s in free if s.starts_at > now][:limit]

    def book(self, patient_id: int, slot_id: int, call_uuid: str) -> str | None:
        chosen = next(s for s in self.slots if s.id == slot_id)
        if slot_id in self.taken_meanwhile:
            self.taken_meanwhile.discard(slot_id)
            self.visits.setdefault(-1, []).append(Visit(1000 + slot_id, "booked", chosen))
            return "taken"
        visits = self.visits.setdefault(patient_id, [])
        visits.append(Visit(100 + len(visits), "booked", chosen))
        self.changes.append(("booked", patient_id, slot_id, call_uuid))
        return None

    def confirm(self, patient_id: int, appointment_id: int, call_uuid: str) -> str | None:
        return self._change(patient_id, appointment_id, call_uuid, "confirmed")

    def cancel(self, patient_id: int, appointment_id: int, call_uuid: str) -> str | None:
        return self._change(patient_id, appointment_id, call_uuid, "cancelled")

    def move(self, patient_id: int, appointment_id: int, slot_id: int, call_uuid: str) -> str | None:
        chosen = next(s for s in self.slots if s.id == slot_id)
        if slot_id in self.taken_meanwhile:
            self.taken_meanwhile.discard(slot_id)
            self.visits.setdefault(-1, []).append(Visit(1000 + slot_id, "booked", chosen))
            return "taken"
        visits = self.visits.get(patient_id, [])
        for i, visit in enumerate(visits):
            if visit.id == appointment_id and visit.status in ("booked", "confirmed"):
                visits[i] = Visit(visit.id, "moved", visit.slot)
                visits.append(Visit(100 + len(visits), "booked", chosen))
                self.changes.append(("moved", patient_id, appointment_id, call_uuid))
                return None
        return "not_found"

    def _change(self, patient_id: int, appointment_id: int, call_uuid: str, status: str) -> str | None:
        visits = self.visits.get(patient_id, [])
        for i, visit in enumerate(visits):
            if visit.id == appointment_id:
                visits[i] = Visit(visit.id, status, visit.slot)
                self.changes.append((status, patient_id, appointment_id, call_uuid))
                return None
        return "not_found"
