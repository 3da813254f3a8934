"""Runs one call: the ESL session on one side, the call app (IVR flow) on the other.

Whatever way the call ends (finish, caller hang-up, broken connection, bug in the
flow) one CallRecord goes to the record sink and the live counters move once.
"""

from __future__ import annotations

import logging
import re
import time
import traceback
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from gevent import GreenletExit

from ccctl.callflow import HANDED_OVER, IN_PROGRESS, AwaitBridgeEnd, CallApp, CallInfo, CallRecord, Execute, Finish
from ccctl.esl.outbound import CallerHangup, CommandRefused, OutboundSession, SessionTimeout
from ccctl.esl.protocol import ConnectionClosed, ProtocolError

log = logging.getLogger("ccctl.calls")

AppFactory = Callable[[CallInfo], CallApp]
RecordSink = Callable[[CallRecord], None]

# a failed call is hung up with this cause so the caller is not left in silence
FAILURE_CAUSE = "NORMAL_TEMPORARY_FAILURE"
# hangup causes that mean the switch or the network lost the call, not that the caller left it
# (switch_channel.h causes; the media ones come from a failed answer or dead RTP)
SWITCH_FAILURE_CAUSES = frozenset(
    {
        "INCOMPATIBLE_DESTINATION",
        "MEDIA_TIMEOUT",
        "DESTINATION_OUT_OF_ORDER",
        "NORMAL_TEMPORARY_FAILURE",
        "SWITCH_CONGESTION",
        "NETWORK_OUT_OF_ORDER",
        "BEARERCAPABILITY_NOTAVAIL",
        "BEARERCAPABILITY_NOTIMPL",
        "SERVICE_NOT_IMPLEMENTED",
        "RECOVERY_ON_TIMER_EXPIRE",
        "SYSTEM_SHUTDOWN",
        "CRASH",
    }
)
FAILURE_HANGUP_SECONDS = 2.0
CPS_WINDOW_SECONDS = 10
ROUND_TRIPS_KEPT = 2048
_QUOTED = re.compile(r"['\"]")


class RateWindow:
    """Events per second over the last N seconds, in N one-second buckets (bounded memory)."""

    def __init__(self, seconds: int = CPS_WINDOW_SECONDS) -> None:
        self._seconds = seconds
        self._stamps = [-1] * seconds
        self._counts = [0] * seconds

    def add(self, now: float) -> None:
        second = int(now)
        slot = second % self._seconds
        if self._stamps[slot] != second:
            self._stamps[slot] = second
            self._counts[slot] = 0
        self._counts[slot] += 1

    def rate(self, now: float) -> float:
        second = int(now)
        recent = sum(c for s, c in zip(self._stamps, self._counts, strict=True) if second - self._seconds < s <= second)
        return recent / self._seconds


@dataclass
class CallStats:
    """Live counters for `ccctl status` and the wallboard; round trips feed the benchmarks."""

    active: int = 0
    completed: int = 0
    abandoned: int = 0
    failed: int = 0
    dropped: int = 0  # connections lost before the switch said which call they carry
    total: int = 0
    round_trips: deque = field(default_factory=lambda: deque(maxlen=ROUND_TRIPS_KEPT))
    arrivals: RateWindow = field(default_factory=RateWindow)

    def call_arrived(self) -> None:
        self.active += 1
        self.total += 1
        self.arrivals.add(time.monotonic())

    def call_ended(self, disposition: str) -> None:
        self.active -= 1
        if disposition == "abandoned":
            self.abandoned += 1
        elif disposition == "failed":
            self.failed += 1
        else:
            self.completed += 1

    def cps(self) -> float:
        return self.arrivals.rate(time.monotonic())

    def calls(self) -> dict[str, int]:
        return {
            "active": self.active,
            "completed": self.completed,
            "abandoned": self.abandoned,
            "failed": self.failed,
            "dropped": self.dropped,
            "total": self.total,
        }


class CallHandedOver(GreenletExit):
    """Raised into a call's greenlet by a stopping controller when the switch keeps the call (socket_resume)
    for the next controller: the call is recorded as handed over, not failed, and its socket just closes."""


@dataclass
class _Outcome:
    disposition: str = "completed"
    hangup_cause: str = ""
    error: str = ""
    connection_usable: bool = True


def run_call(
    session: OutboundSession,
    app_factory: AppFactory,
    record_sink: RecordSink,
    clock: Callable[[], float] = time.time,
    stats: CallStats | None = None,
    start_sink: RecordSink | None = None,
) -> CallRecord | None:
    """Drive one call to its end and hand its CallRecord to record_sink (None if no call arrived);
    start_sink, when given, gets the call's in-progress record as soon as the call is known."""
    stats = stats if stats is not None else CallStats()
    started_at = clock()
    try:
        call = session.connect()
    except BaseException as exc:
        if isinstance(exc, CallerHangup) and session.uuid:
            # the caller hung up before our `connect` was read: the switch's disconnect notice still names the call
            call = CallInfo(uuid=session.uuid, caller_number="", destination="", hotline="")
            stats.call_arrived()
            outcome = _Outcome(disposition="abandoned", hangup_cause=exc.cause, connection_usable=False)
            return _close_and_record(session, call, None, outcome, started_at, clock, record_sink, stats)
        stats.dropped += 1
        session.close()
        why = "the caller hung up" if isinstance(exc, CallerHangup) else _reason(exc)
        log.warning("outbound connection dropped before the call was known: %s", why)
        if not isinstance(exc, Exception):
            raise
        return None
    stats.call_arrived()
    if start_sink is not None:
        _record_start(call, started_at, start_sink)
    outcome = _Outcome()
    app: CallApp | None = None
    try:
        session.myevents()
        session.linger()
        app = app_factory(call)
        _drive(session, app, call, outcome)
    except BaseException as exc:
        _note_failure(session, exc, outcome)
        if not isinstance(exc, Exception):
            _close_and_record(session, call, app, outcome, started_at, clock, record_sink, stats)
            raise  # GreenletExit / KeyboardInterrupt: recorded, then let it stop us
    return _close_and_record(session, call, app, outcome, started_at, clock, record_sink, stats)


def _call_record(call: CallInfo, started_at: float, **fields) -> CallRecord:
    return CallRecord(
        uuid=call.uuid,
        hotline=call.hotline,
        caller_number=call.caller_number,
        destination=call.destination,
        started_at=started_at,
        node=call.node,
        **fields,
    )


def _record_start(call: CallInfo, started_at: float, start_sink: RecordSink) -> None:
    record = _call_record(call, started_at, disposition=IN_PROGRESS)
    try:
        start_sink(record)
    except Exception as exc:  # the end record still comes; only a crash before it would lose the call
        log.error("call %s: in-progress record not queued (%s)", call.uuid, type(exc).__name__)


def _drive(session: OutboundSession, app: CallApp, call: CallInfo, outcome: _Outcome) -> None:
    command = app.start(call)
    while isinstance(command, (Execute, AwaitBridgeEnd)):
        if isinstance(command, AwaitBridgeEnd):
            result = session.await_bridge_end()
        else:
            result = session.execute(command.app, command.arg, until_complete=command.until_complete)
        command = app.resume(result)
    if not isinstance(command, Finish):
        raise TypeError(f"call app returned {type(command).__name__}, not Execute or Finish")
    if command.hangup_cause:
        session.hangup(command.hangup_cause)
    # an empty cause means the flow handed the channel on (transfer): the switch keeps the call
    outcome.disposition = command.disposition
    outcome.hangup_cause = command.hangup_cause


def _note_failure(session: OutboundSession, exc: BaseException, outcome: _Outcome) -> None:
    if isinstance(exc, CallHandedOver):
        outcome.disposition = HANDED_OVER
        outcome.connection_usable = False  # no hangup, no linger: closing the socket lets the switch park it
        return
    if isinstance(exc, CallerHangup):
        outcome.hangup_cause = exc.cause
        if exc.cause in SWITCH_FAILURE_CAUSES:  # the caller did not abandon: the call was lost under them
            outcome.disposition = "failed"
            outcome.error = f"the switch hung up the call ({exc.cause})"
            log.warning("call %s failed: %s", session.uuid, outcome.error)
        else:
            outcome.disposition = "abandoned"
        return
    outcome.disposition = "failed"
    outcome.error = _reason(exc)
    if isinstance(exc, (ProtocolError, ConnectionClosed, OSError, SessionTimeout)) or not isinstance(exc, Exception):
        outcome.connection_usable = False
    log.warning("call %s failed: %s", session.uuid, outcome.error)
    if outcome.connection_usable and not session.caller_gone:
        try:
            session.hangup(FAILURE_CAUSE, timeout=FAILURE_HANGUP_SECONDS)
            outcome.hangup_cause = FAILURE_CAUSE
        except Exception as hangup_exc:  # the call already failed; this only decides whether we can linger
            outcome.connection_usable = False
            log.warning("call %s: hangup after failure did not complete: %s", session.uuid, _reason(hangup_exc))


def _close_and_record(
    session: OutboundSession,
    call: CallInfo,
    app: CallApp | None,
    outcome: _Outcome,
    started_at: float,
    clock: Callable[[], float],
    record_sink: RecordSink,
    stats: CallStats,
) -> CallRecord:
    if outcome.connection_usable:
        try:
            session.finish()
        except Exception as exc:  # the lingering events are a bonus; the call is over either way
            log.info("call %s: lingering events lost: %s", call.uuid, _reason(exc))
    session.close()
    record = _call_record(
        call,
        started_at,
        answered_at=session.answered_at,
        ended_at=session.ended_at or clock(),
        disposition=outcome.disposition,
        hangup_cause=session.hangup_cause or outcome.hangup_cause,
        path=list(app.path) if app is not None else [],
        patient_id=getattr(app, "patient_id", None),
        error=outcome.error or getattr(app, "error", "") or "",
    )
    stats.call_ended(record.disposition)
    log.info(
        "call %s hotline=%s disposition=%s duration=%.1fs",
        record.uuid,
        record.hotline or "-",
        record.disposition,
        max(0.0, record.ended_at - record.started_at),
    )
    try:
        record_sink(record)
    except Exception as exc:
        # str(exc) of a database error carries the row's values (caller number): name the type only
        log.error("call %s: record not stored (%s)", record.uuid, type(exc).__name__)
    return record


def _reason(exc: BaseException) -> str:
    """A short reason for logs and CallRecord.error: our own messages, never a flow's exception text."""
    if isinstance(exc, ProtocolError):
        # drop any quoted piece of the bad frame: it may be a caller's number
        return "ProtocolError: " + _QUOTED.split(str(exc), maxsplit=1)[0].rstrip(" :")
    if isinstance(exc, (SessionTimeout, CommandRefused)):
        return f"{type(exc).__name__}: {exc}"
    if isinstance(exc, ConnectionClosed):
        return "connection closed by the switch"
    if isinstance(exc, OSError):
        return f"socket error: {exc.strerror or type(exc).__name__}"
    if not isinstance(exc, Exception):
        return f"interrupted ({type(exc).__name__})"
    # an exception in call logic may quote a caller's digits: keep only its type and where it was raised
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" at {frames[-1].filename.rsplit('/', 1)[-1]}:{frames[-1].lineno}" if frames else ""
    return f"{type(exc).__name__} in call logic{where}"
