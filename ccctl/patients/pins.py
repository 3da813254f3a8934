"""Member PINs: argon2id hashes, the lock-out policy, and every keypad attempt recorded without its digits.

Hashing is slow on purpose; callers in `ccctl serve` run PinHasher methods in gevent's
threadpool. The functions taking a Session do the database half of a PIN check.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import Argon2Error, InvalidHashError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ccctl.errors import UserError
from ccctl.ivr.services import AuthOutcome
from ccctl.records.models.patients import Patient, PinAttempt

PIN_FORMAT = re.compile(r"[0-9]{4,8}")
# OWASP's argon2id minimum (19 MiB, 2 passes, 1 lane): ~20 ms a check, and ten
# checks at once (gevent's threadpool) stay under 200 MiB
TIME_COST = 2
MEMORY_COST_KIB = 19 * 1024
PARALLELISM = 1


class PinFormatError(UserError, ValueError):
    """A PIN that is not 4 to 8 digits. The message never holds the PIN."""

    def __init__(self) -> None:
        super().__init__("a PIN is 4 to 8 digits")


def check_pin_format(pin: str) -> None:
    """PinFormatError unless the PIN is 4 to 8 digits."""
    if not isinstance(pin, str) or not PIN_FORMAT.fullmatch(pin):
        raise PinFormatError()


@dataclass(frozen=True)
class PinPolicy:
    """Lock-out: `max_failures` wrong PINs (across calls) within `window_seconds` lock for `lock_seconds`."""

    max_failures: int = 5
    window_seconds: float = 900
    lock_seconds: float = 1800


class PinHasher:
    """argon2id hashing and checking; every method is CPU-bound (run it off the event loop)."""

    def __init__(
        self, time_cost: int = TIME_COST, memory_cost_kib: int = MEMORY_COST_KIB, parallelism: int = PARALLELISM
    ) -> None:
        self._hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_cost_kib, parallelism=parallelism)
        # checked when the member number is unknown, so that answer takes as long as a real check
        self._dummy_hash = self._hasher.hash("0000")

    def hash(self, pin: str) -> str:
        """A salted argon2id hash of a well-formed PIN (PinFormatError otherwise)."""
        check_pin_format(pin)
        return self._hasher.hash(pin)

    def matches(self, pin_hash: str | None, pin: str) -> bool:
        """Whether the PIN fits the hash; a missing or damaged hash costs the same time and never matches."""
        if not pin_hash:
            self.spend_time(pin)
            return False
        try:
            return self._hasher.verify(pin_hash, pin)
        except InvalidHashError:
            self.spend_time(pin)
            return False
        except Argon2Error:
            # VerifyMismatchError and friends: their messages never hold the PIN, but do not pass them on
            return False

    def spend_time(self, pin: str) -> None:
        """Check the PIN against a hash it cannot match: the time of a real check, no answer."""
        try:
            self._hasher.verify(self._dummy_hash, pin + "x")
        except Argon2Error:
            pass

    def needs_rehash(self, pin_hash: str) -> bool:
        """The hash was made with other parameters than these (rehash it after a right PIN)."""
        try:
            return self._hasher.check_needs_rehash(pin_hash)
        except (InvalidHashError, ValueError):
            return True


@dataclass(frozen=True)
class PinState:
    """What a PIN check needs to know before hashing: whose hash, and whether the member is locked."""

    patient_id: int
    pin_hash: str | None
    locked: bool


def pin_state(session: Session, member_number: str, now: datetime) -> PinState | None:
    """The member's hash and lock state; None when no member has this number."""
    patient = session.scalars(
        select(Patient).where(Patient.member_number == member_number, Patient.is_member.is_(True))
    ).first()
    if patient is None:
        return None
    locked = patient.locked_until is not None and patient.locked_until > now
    return PinState(patient_id=patient.id, pin_hash=patient.pin_hash, locked=locked)


def record_attempt(
    session: Session, patient_id: int | None, call_uuid: str, outcome: AuthOutcome, now: datetime
) -> None:
    """One pin_attempts row: who, which call, when, the outcome (never the digits)."""
    session.add(PinAttempt(patient_id=patient_id, call_uuid=call_uuid, at=now, outcome=outcome.value))


def _failures_in_window(session: Session, patient: Patient, policy: PinPolicy, now: datetime) -> int:
    since = now - timedelta(seconds=policy.window_seconds)
    if patient.pin_failures_since is not None and patient.pin_failures_since > since:
        since = patient.pin_failures_since
    query = select(func.count(PinAttempt.id)).where(
        PinAttempt.patient_id == patient.id, PinAttempt.outcome == AuthOutcome.WRONG.value, PinAttempt.at > since
    )
    return session.scalar(query) or 0


def settle_pin_check(
    session: Session, patient_id: int, matched: bool, call_uuid: str, policy: PinPolicy, now: datetime
) -> AuthOutcome:
    """Record a checked PIN and apply the policy: OK resets the count, the last allowed WRONG locks.

    The patient row is locked (SELECT ... FOR UPDATE on PostgreSQL) so checks from several
    calls and several `ccctl serve` processes count every failure once.
    """
    patient = session.scalars(select(Patient).where(Patient.id == patient_id).with_for_update()).one()
    if patient.locked_until is not None and patient.locked_until > now:
        # another call locked the member while this PIN was being hashed
        record_attempt(session, patient.id, call_uuid, AuthOutcome.LOCKED, now)
        return AuthOutcome.LOCKED
    if matched:
        record_attempt(session, patient.id, call_uuid, AuthOutcome.OK, now)
        patient.pin_failures = 0
        patient.pin_failures_since = now
        patient.locked_until = None
        return AuthOutcome.OK
    record_attempt(session, patient.id, call_uuid, AuthOutcome.WRONG, now)
    session.flush()
    patient.pin_failures = _failures_in_window(session, patient, policy, now)
    if patient.pin_failures < policy.max_failures:
        return AuthOutcome.WRONG
    patient.locked_until = now + timedelta(seconds=policy.lock_seconds)
    # after the lock-out ends the member starts again with a clean count
    patient.pin_failures_since = now
    return AuthOutcome.LOCKED


def store_pin_hash(patient: Patient, pin_hash: str, now: datetime) -> None:
    """Give a member a new PIN hash: failures and any lock-out are cleared."""
    patient.pin_hash = pin_hash
    unlock_patient(patient, now)


def unlock_patient(patient: Patient, now: datetime) -> None:
    """End a lock-out and start counting wrong PINs afresh."""
    patient.locked_until = None
    patient.pin_failures = 0
    patient.pin_failures_since = now
