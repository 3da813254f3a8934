"""An in-memory CallServices for interpreter tests: a few patients, PIN checks with lock-out, saved messages.

A test double of the services protocol (not of the interpreter): it keeps what a
database would, so tests can assert what got stored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ccctl.ivr.services import AuthOutcome, LookupFailed, PatientView


@dataclass
class Member:
    patient: PatientView
    phone: str
    pin: str


@dataclass
class MemoryServices:
    members: list[Member] = field(default_factory=list)
    others: dict[str, PatientView] = field(default_factory=dict)  # phone -> non-member patient
    lock_after: int = 5  # failures across calls before the member is locked
    agents: dict[str, str] = field(default_factory=dict)  # skill -> dial string
    http_answers: dict[str, dict[str, Any] | None] = field(default_factory=dict)
    failures: dict[str, int] = field(default_factory=dict)
    attempts: list[tuple[str, str, str]] = field(default_factory=list)  # (member number, call uuid, outcome)
    messages: list[tuple[str, int | None, str, str]] = field(default_factory=list)
    http_calls: list[tuple[str, dict[str, str], float]] = field(default_factory=list)
    queueing: None = None  # no ACD: queue nodes bridge to `agents`
    appointments: Any = None  # a booking system (tests/unit/ivr/memory_appointments.py) or none
    surveys: Any = None  # survey nodes are skipped
    callbacks: Any = None  # a callback worklist (MemoryCallbacks) or none: callback_request nodes fail over

    def find_patient_by_phone(self, phone: str) -> PatientView | None:
        member = next((m for m in self.members if m.phone == phone), None)
        return member.patient if member else self.others.get(phone)

    def find_patient_by_member_number(self, member_number: str) -> PatientView | None:
        member = self._member(member_number)
        return member.patient if member else None

    def find_patient_by_code(self, patient_code: str) -> PatientView | None:
        candidates = [m.patient for m in self.members] + list(self.others.values())
        return next((p for p in candidates if p.patient_code == patient_code), None)

    def verify_member_pin(self, member_number: str, pin: str, call_uuid: str) -> AuthOutcome:
        member = self._member(member_number)
        if member is None:
            outcome = AuthOutcome.UNKNOWN
        elif self.failures.get(member_number, 0) >= self.lock_after:
            outcome = AuthOutcome.LOCKED
        elif pin == member.pin:
            self.failures[member_number] = 0
            outcome = AuthOutcome.OK
        else:
            self.failures[member_number] = self.failures.get(member_number, 0) + 1
            locked = self.failures[member_number] >= self.lock_after
            outcome = AuthOutcome.LOCKED if locked else AuthOutcome.WRONG
        self.attempts.append((member_number, call_uuid, outcome.value))
        return outcome

    def save_voice_message(self, call_uuid: str, patient_id: int | None, path: str, reason: str) -> int:
        self.messages.append((call_uuid, patient_id, path, reason))
        return len(self.messages)

    def http_lookup(self, url: str, params: dict[str, str], timeout: float) -> dict[str, Any] | None:
        self.http_calls.append((url, params, timeout))
        if url not in self.http_answers:
            raise LookupFailed(url)
        return self.http_answers[url]

    def handoff_target(self, skill: str, priority: int, call_uuid: str) -> str | None:
        return self.agents.get(skill)

    def _member(self, member_number: str) -> Member | None:
        return next((m for m in self.members if m.patient.member_number == member_number), None)


@dataclass
class MemoryCallbacks:
    """The callback worklist: each filed callback as (queue, call uuid, number, patient id, reason, opens_in)."""

    filed: list[tuple] = field(default_factory=list)
    queues: tuple[str, ...] = ("operator",)

    def file_callback(self, queue, call_uuid, number, patient_id, reason, opens_in) -> int:
        if queue not in self.queues:
            return 0
        self.filed.append((queue, call_uuid, number, patient_id, reason, opens_in))
        return len(self.filed)
