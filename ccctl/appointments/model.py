"""The views of slots and appointments the store hands out: frozen, no ORM object leaves store.py."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class SlotView:
    id: int
    department_code: str
    department_name: str
    # the department's name in other languages: {"zh": "心内科", "pl": "Kardiologia"}
    names: dict = field(hash=False, compare=False)
    doctor_code: str
    doctor_name: str
    starts_at: datetime  # aware, UTC
    minutes: int

    def department_name_in(self, language: str) -> str:
        """The department's name in `language`, else its main name."""
        return self.names.get(language) or self.department_name


@dataclass(frozen=True)
class AppointmentView:
    id: int
    patient_id: int
    status: str  # booked, confirmed, cancelled, moved, no_show, attended
    slot: SlotView
    external_id: str | None
    source: str  # ivr, agent, hl7, fhir, campaign, import

    @property
    def active(self) -> bool:
        """Booked or confirmed: the appointment holds its slot."""
        return self.status in ("booked", "confirmed")
