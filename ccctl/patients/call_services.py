"""DbCallServices: what a running call flow asks of the database (patients, PINs, voice messages) and of HTTP.

Database work runs one job at a time in a private one-thread pool, PIN hashing in gevent's
threadpool, HTTP on a cooperative socket: the event loop keeps serving the other calls.
"""

from __future__ import annotations

import json
import logging
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, TypeVar

import gevent
from gevent.threadpool import ThreadPool
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from ccctl.acd.callback_requests import DbCallbackRequests
from ccctl.appointments.call_services import DbAppointments
from ccctl.config import DatabaseSettings, Settings
from ccctl.ivr.services import AuthOutcome, LookupFailed, PatientView, Queueing, RecordsUnavailable
from ccctl.patients.pins import PinHasher, PinPolicy, pin_state, record_attempt, settle_pin_check
from ccctl.patients.repository import find_by_code, find_by_member_number, find_by_phone, patient_record
from ccctl.records.audit import record_audit
from ccctl.records.database import database_problem, is_outage, make_engine, safe_url
from ccctl.records.models.base import utc_now
from ccctl.records.models.calls import VoiceMessage
from ccctl.records.models.patients import Patient
from ccctl.surveys.call import DbSurveys

log = logging.getLogger(__name__)
T = TypeVar("T")
HTTP_ANSWER_LIMIT = 1_000_000  # bytes; a hospital system answering more is misbehaving
# a step meeting a locked or unreachable database is tried again after this pause, doubled each time
FIRST_RETRY_PAUSE_SECONDS = 0.25
MAX_RETRY_PAUSE_SECONDS = 2.0


def _view(patient: Patient | None) -> PatientView | None:
    return None if patient is None else patient_record(patient).view()


def _place(url: str) -> str:
    """scheme://host:port/path of a URL, for messages: its query may carry patient data, its user a password."""
    parts = urllib.parse.urlsplit(url)
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname or ''}{port}{parts.path}"


class DbCallServices:
    """The database-backed CallServices of `ccctl serve`.

    `handoff` maps a skill to a bridge dial string (key "*" for any other skill), for queue nodes
    when no ACD runs (acd.enabled false). `clock` gives the aware current time (tests move it). Give it an engine
    of its own: all its database work goes through one thread, which keeps SQLAlchemy's
    pool from being shared across native threads.
    """

    @staticmethod
    def _policy_from(settings: Settings | None) -> PinPolicy:
        if settings is None:
            return PinPolicy()
        pins = settings.pins
        return PinPolicy(pins.max_failures, pins.window_seconds, pins.lock_seconds)

    def __init__(
        self,
        url_or_engine: str | Engine,
        settings: Settings | None = None,
        *,
        policy: PinPolicy | None = None,
        hasher: PinHasher | None = None,
        handoff: Mapping[str, str] | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        echo = settings.database.echo if settings is not None else False
        self._owns_engine = not isinstance(url_or_engine, Engine)
        self.engine = make_engine(url_or_engine, echo=echo) if self._owns_engine else url_or_engine
        self.policy = policy or self._policy_from(settings)
        self.hasher = hasher or PinHasher()
        self.handoff = dict(handoff or {})
        self.clock = clock
        self.outage_seconds = (settings.database if settings is not None else DatabaseSettings()).outage_seconds
        # the database's problem while a step waits out an outage ("" when the last step went through):
        # the wallboard's database alarm
        self.outage = ""
        # the ACD the Controller attaches (ccctl.acd.engine.AcdEngine); queue nodes hand calls to it
        self.queueing: Queueing | None = None
        self._db_pool = ThreadPool(1)
        # appointment nodes book through the same database thread, one short transaction per step
        self.appointments: DbAppointments | None = DbAppointments(self._in_transaction, self.engine, settings)
        # survey nodes ask the site's surveys (flows_dir/surveys) and store the answers in this database
        self.surveys: DbSurveys | None = (
            DbSurveys(settings, self.engine, self._in_transaction) if settings is not None else None
        )
        # callback_request nodes put callbacks on the worklist (any serve's ACD dials them when it may)
        self.callbacks = DbCallbackRequests(self._in_transaction, settings, clock)

    def close(self) -> None:
        if self.appointments is not None:
            self.appointments.close()
        self._db_pool.kill()
        if self._owns_engine:
            self.engine.dispose()

    def _in_transaction(self, work: Callable[[Session], T]) -> T:
        """Run one step in its own transaction; a locked or unreachable database is tried again.

        Up to `database.outage_seconds` (the flow plays its hold prompt meanwhile), each try again
        a little later; past that, or for any other database error, RecordsUnavailable.
        """

        def job() -> tuple[T | None, SQLAlchemyError | None]:
            # the error comes back as a value: raised in the pool, gevent would print each failed try
            try:
                with Session(self.engine, expire_on_commit=False) as session, session.begin():
                    return work(session), None
            except SQLAlchemyError as exc:
                return None, exc

        deadline = time.monotonic() + self.outage_seconds
        pause = FIRST_RETRY_PAUSE_SECONDS
        while True:
            done, exc = self._db_pool.apply(job)
            if exc is None:
                self.outage = ""
                return done  # type: ignore[return-value]
            problem = f"database {safe_url(self.engine.url)}: {database_problem(exc)}"
            if not is_outage(exc):
                raise RecordsUnavailable(problem)
            if not self.outage:
                log.warning("%s; flow steps wait for it up to %g s", problem, self.outage_seconds)
            self.outage = problem
            if time.monotonic() + pause > deadline:
                raise RecordsUnavailable(problem)
            gevent.sleep(pause)
            pause = min(pause * 2, MAX_RETRY_PAUSE_SECONDS)

    def _off_loop(self, work: Callable[..., T], *args: Any) -> T:
        return gevent.get_hub().threadpool.apply(work, args)

    def _find(self, finder: Callable[[Session, str], Patient | None], key: str, how: str) -> PatientView | None:
        def work(session: Session) -> PatientView | None:
            patient = finder(session, key)
            if patient is not None:
                record_audit(session, "ivr", "lookup", patient.id, "ivr", detail=f"by {how}")
            return _view(patient)

        return self._in_transaction(work)

    def find_patient_by_phone(self, phone: str) -> PatientView | None:
        return self._find(find_by_phone, phone, "caller number")

    def find_patient_by_member_number(self, member_number: str) -> PatientView | None:
        return self._find(find_by_member_number, member_number, "member number")

    def find_patient_by_code(self, patient_code: str) -> PatientView | None:
        return self._find(find_by_code, patient_code, "patient code")

    def verify_member_pin(self, member_number: str, pin: str, call_uuid: str) -> AuthOutcome:
        """Check a keyed-in PIN; every outcome is recorded in pin_attempts (never the digits)."""
        now = self.clock()
        state = self._in_transaction(lambda session: pin_state(session, member_number, now))
        if state is None or state.locked:
            if state is None:
                # as slow as a real check: the answer's timing must not tell members from non-members
                self._off_loop(self.hasher.spend_time, pin)
            outcome = AuthOutcome.UNKNOWN if state is None else AuthOutcome.LOCKED
            patient_id = None if state is None else state.patient_id
            self._in_transaction(lambda session: record_attempt(session, patient_id, call_uuid, outcome, now))
            return outcome
        matched = self._off_loop(self.hasher.matches, state.pin_hash, pin)
        outcome = self._in_transaction(
            lambda session: settle_pin_check(session, state.patient_id, matched, call_uuid, self.policy, now)
        )
        if outcome is AuthOutcome.OK and state.pin_hash and self.hasher.needs_rehash(state.pin_hash):
            self._rehash(state.patient_id, pin)
        if outcome is AuthOutcome.LOCKED:
            log.warning("patient id %d locked out after %d wrong PINs", state.patient_id, self.policy.max_failures)
        return outcome

    def _rehash(self, patient_id: int, pin: str) -> None:
        """Store the PIN again under the current hash parameters (only possible right after a right PIN)."""
        new_hash = self._off_loop(self.hasher.hash, pin)

        def work(session: Session) -> None:
            patient = session.get(Patient, patient_id)
            if patient is not None:
                patient.pin_hash = new_hash

        self._in_transaction(work)

    def save_voice_message(self, call_uuid: str, patient_id: int | None, path: str, reason: str) -> int:
        def work(session: Session) -> int:
            message = VoiceMessage(call_uuid=call_uuid, patient_id=patient_id, path=path, reason=reason)
            session.add(message)
            session.flush()
            return message.id

        return self._in_transaction(work)

    def http_lookup(self, url: str, params: dict[str, str], timeout: float) -> dict[str, Any] | None:
        """GET url?params, a JSON object back; None for 404 or an empty answer; LookupFailed otherwise."""
        query = urllib.parse.urlencode(params)
        full_url = f"{url}{'&' if '?' in url else '?'}{query}" if query else url
        request = urllib.request.Request(full_url, headers={"Accept": "application/json"})
        try:
            with gevent.Timeout(timeout, LookupFailed(f"{_place(url)}: no answer within {timeout:g}s")):
                return self._fetch_json(request, timeout)
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                return None
            raise LookupFailed(f"{_place(url)}: HTTP {exc.code}") from None
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", None) or str(exc) or type(exc).__name__
            raise LookupFailed(f"{_place(url)}: {reason}") from None

    def _fetch_json(self, request: urllib.request.Request, timeout: float) -> dict[str, Any] | None:
        # the socket timeout as well: without gevent's patches the Timeout above cannot interrupt
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - URLs come from flows
            body = response.read(HTTP_ANSWER_LIMIT + 1)
        if len(body) > HTTP_ANSWER_LIMIT:
            raise ValueError("answer too large")
        if not body.strip():
            return None
        answer = json.loads(body)
        if answer is None or answer == {}:
            return None
        if not isinstance(answer, dict):
            raise ValueError("answer is not a JSON object")
        return answer

    def handoff_target(self, skill: str, priority: int, call_uuid: str) -> str | None:
        return self.handoff.get(skill) or self.handoff.get("*")
