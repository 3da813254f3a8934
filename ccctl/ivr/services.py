"""What a running flow asks of the rest of the system: patients, PINs, messages, hand-off.

A Protocol, so the interpreter has no database import; the DB-backed implementation
lives in ccctl.patients.call_services and unit tests use a small in-memory one.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Generator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from ccctl.callflow import AppResult, CallInfo, Command
from ccctl.ivr.hold_words import HoldWords


@dataclass(frozen=True)
class PatientView:
    """The part of a patient record a call flow may see (never the PIN hash)."""

    id: int
    patient_code: str
    display_name: str
    member: bool
    specialty: str = ""
    language: str = ""
    # needed to offer "skip straight to the PIN" when the caller's number belongs to a member
    member_number: str | None = None


class AuthOutcome(enum.Enum):
    """Result of one PIN check; lock-out across calls is the service's business."""

    OK = "ok"
    WRONG = "wrong"
    LOCKED = "locked"
    UNKNOWN = "unknown"  # no such member number


class LookupFailed(Exception):
    """An HTTP lookup timed out or failed; the flow takes its fallback branch."""


class RecordsUnavailable(Exception):
    """The database stayed locked or away past the outage bound, or failed; the node takes its failure branch.

    str() is one line without SQL or parameters (they hold patient data)."""


class Queueing(Protocol):
    """What a queue node asks of the ACD (implemented by ccctl.acd.engine.AcdEngine)."""

    def queue_call(
        self,
        queue: str,
        call: CallInfo,
        priority: int,
        patient_id: int | None,
        recordings_dir: str,
        words: HoldWords | None = None,
    ) -> Generator[Command, AppResult, str]:
        """Call-flow steps: hold the caller in `queue` until an agent talked to them; returns answered,
        callback, timeout, overflow, full or refused (no such queue). `words`: the announcements in the
        caller's language (default: English TTS)."""
        ...


class CallbackRequests(Protocol):
    """What a callback_request node asks of the callback worklist (ccctl.acd.callback_requests)."""

    def file_callback(
        self, queue: str, call_uuid: str, number: str, patient_id: int | None, reason: str, opens_in: dt.timedelta
    ) -> int:
        """Put a callback to `number` on the worklist of `queue`, not dialled for `opens_in` (until the hotline
        opens; zero while it is open), due callbacks.deadline_hours after that; its id, 0 when there is no such
        queue. A wait, not a time: a flow's clock may be simulated (`flow simulate --at`, the demo)."""
        ...


@dataclass(frozen=True)
class SlotOffer:
    """A bookable time as a flow speaks it: the department in every language it has, the doctor, the start."""

    id: int
    department_code: str
    department_name: str
    doctor_name: str
    starts_at: dt.datetime  # aware, UTC
    department_names: Mapping[str, str] = field(default_factory=dict)  # {"zh": "心内科"}

    def department_in(self, language: str) -> str:
        return self.department_names.get(language) or self.department_name


@dataclass(frozen=True)
class Visit:
    """One of the caller's booked or confirmed appointments."""

    id: int
    status: str  # booked, confirmed
    slot: SlotOffer


class Appointments(Protocol):
    """What appointment nodes ask of the booking system (implemented in ccctl.appointments.call_services).

    book, confirm, cancel and move return None when done, else why not: "taken" (another booking won the
    slot), "not_bookable" (blocked, started, unknown), "not_found" (not this patient's visit) or
    "not_changeable" (no longer booked or confirmed)."""

    # the site's time zone name (Europe/Warsaw): the switch says visit times in it
    timezone: str

    def upcoming_visits(self, patient_id: int, now: dt.datetime, limit: int) -> list[Visit]: ...

    def free_slots(self, department_code: str, now: dt.datetime, limit: int) -> list[SlotOffer]: ...

    def book(self, patient_id: int, slot_id: int, call_uuid: str) -> str | None: ...

    def confirm(self, patient_id: int, appointment_id: int, call_uuid: str) -> str | None: ...

    def cancel(self, patient_id: int, appointment_id: int, call_uuid: str) -> str | None: ...

    def move(self, patient_id: int, appointment_id: int, slot_id: int, call_uuid: str) -> str | None: ...


class KbAnswers(Protocol):
    """What a kb node asks of the knowledge base (implemented by ccctl.kb.knowledge.KnowledgeBase)."""

    def missing_article(self, slug: str, language: str) -> str | None:
        """Why the article cannot be spoken in this language (absent, past valid_until), or None."""
        ...

    def short_answer(self, slug: str, language: str) -> str | None:
        """The article's answer for the phone; None when it is absent or withheld."""
        ...


class Surveys(Protocol):
    """What a survey node asks of the surveys (implemented by ccctl.surveys.call.DbSurveys)."""

    def has_survey(self, name: str) -> bool: ...

    def run_survey(
        self,
        name: str,
        call_uuid: str,
        caller_number: str,
        patient_id: int | None,
        language: str = "",
        *,
        agent: str = "",
        queue: str = "",
        campaign: str = "",
    ) -> Generator[Command, AppResult, str]:
        """Call-flow steps: ask the survey and store the answers; returns completed, partial or unavailable."""
        ...


class CallServices(Protocol):
    """Everything a flow needs beyond the call itself. Methods may block (gevent-friendly)."""

    # the ACD, when the serve process runs one: queue nodes hand callers to it; None: they bridge
    # to handoff_target's dial string
    queueing: Queueing | None
    # the booking system, when the database has one: appointment nodes take their failure branch without it
    appointments: Appointments | None
    # the site's surveys, for survey nodes (None: they are skipped)
    surveys: Surveys | None
    # the callback worklist, for callback_request nodes (None: they take on_failure)
    callbacks: CallbackRequests | None

    def find_patient_by_phone(self, phone: str) -> PatientView | None: ...

    def find_patient_by_member_number(self, member_number: str) -> PatientView | None: ...

    def find_patient_by_code(self, patient_code: str) -> PatientView | None: ...

    def verify_member_pin(self, member_number: str, pin: str, call_uuid: str) -> AuthOutcome:
        """Check a PIN (hashed), record the attempt without the digits, apply lock-out."""
        ...

    def save_voice_message(self, call_uuid: str, patient_id: int | None, path: str, reason: str) -> int:
        """File a recorded voice message as a ticket-ready record; returns its id."""
        ...

    def http_lookup(self, url: str, params: dict[str, str], timeout: float) -> dict[str, Any] | None:
        """Ask a hospital system; None when it knows nothing, LookupFailed on timeout or error."""
        ...

    def handoff_target(self, skill: str, priority: int, call_uuid: str) -> str | None:
        """A bridge dial string for a call needing this skill when there is no ACD, or None."""
        ...
