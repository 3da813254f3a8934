"""The contract between call logic and the wire: commands out, results in.

Call apps (a hotline's flow, a callback, an agent's feature code) are plain objects: given a
call they return an Execute (run one dialplan application) or a Finish; the ESL session runs it
and feeds back an AppResult. Most are written as one generator of steps (StepsApp). No sockets here.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from ccctl.esl.protocol import Event


@dataclass(frozen=True)
class Execute:
    """Run one dialplan application on the call's channel and wait for it to end."""

    app: str
    arg: str = ""
    # text to show instead of arg wherever commands are logged or stored (PIN entry etc.)
    redacted: bool = False
    # wait for the application's own end even when the caller hangs up during it: FreeSWITCH still
    # reports its CHANNEL_EXECUTE_COMPLETE (bridge: who talked and for how long; record: the message)
    until_complete: bool = False

    def describe(self) -> str:
        return f"{self.app}({'<redacted>' if self.redacted else self.arg})"


@dataclass(frozen=True)
class AwaitBridgeEnd:
    """Send nothing; wait until the bridge the switch itself put the call in ends, or the caller hangs up.

    att_xfer ends a warm transfer with switch_ivr_uuid_bridge: the caller's own `bridge` returns while
    the caller talks on (to the new agent, or the first one again). Any command sent now would run
    inside that talk (audio_bridge_thread parses the caller's queued messages), so the app waits.
    """

    def describe(self) -> str:
        return "await-bridge-end"


@dataclass(frozen=True)
class Finish:
    """The call logic is done; hang up (unless already gone) and record the call."""

    disposition: str = "completed"
    hangup_cause: str = "NORMAL_CLEARING"


Command = Execute | AwaitBridgeEnd | Finish


@dataclass
class CallInfo:
    """What the controller knows of a call when it arrives (from CHANNEL_DATA)."""

    uuid: str
    caller_number: str
    destination: str
    hotline: str
    variables: dict[str, str] = field(default_factory=dict)
    node: str = ""  # the switch the channel is on (FreeSWITCH-Switchname)


@dataclass
class AppResult:
    """How an application ended: CHANNEL_EXECUTE_COMPLETE's response and channel variables."""

    app: str
    response: str
    event: Event | None = None
    # the caller hung up while it ran (an until_complete application): nothing more can be played
    caller_gone: bool = False

    def variable(self, name: str, default: str = "") -> str:
        if self.event is None:
            return default
        value = self.event.variable(name)
        return default if value is None else value


class CallApp(Protocol):
    """What the ESL session drives: start, then one resume per finished application."""

    path: list[str]

    def start(self, call: CallInfo) -> Command: ...

    def resume(self, result: AppResult) -> Command: ...


Steps = Generator[Command, AppResult, Any]


class StepsApp:
    """A CallApp written as one generator: `result = yield Execute(...)`, `yield Finish(...)` to end at once.

    Subclasses write steps(call); when the generator returns, finish(value) names the Finish (default:
    completed), and an exception in it goes to failed(exc) (default: the call runner records the failure).
    """

    def __init__(self) -> None:
        self.path: list[str] = []
        self._steps: Steps | None = None
        self._finished: Finish | None = None

    def steps(self, call: CallInfo) -> Steps:
        raise NotImplementedError

    def finish(self, returned: Any) -> Finish:
        return Finish("completed")

    def failed(self, exc: Exception) -> Finish:
        raise exc

    def start(self, call: CallInfo) -> Command:
        self._steps = self.steps(call)
        return self._advance(None)

    def resume(self, result: AppResult) -> Command:
        if self._finished is not None or self._steps is None:
            return self._finished or Finish("failed", "NORMAL_TEMPORARY_FAILURE")
        return self._advance(result)

    def _advance(self, result: AppResult | None) -> Command:
        assert self._steps is not None
        try:
            command = next(self._steps) if result is None else self._steps.send(result)
        except StopIteration as done:
            command = self.finish(done.value)
        except Exception as exc:
            command = self.failed(exc)
        if isinstance(command, Finish):
            self._finished = command
            self._steps.close()
        return command


# the disposition of a call its controller let go while the switch keeps it (a stop with the caller in a
# queue: socket_resume parks them); the controller that takes it back completes the same record
HANDED_OVER = "handed-over"
# a call's row from the moment it reaches a controller until its end is written, so a controller killed
# mid-call (kill -9, power loss) still leaves a row for every call it held
IN_PROGRESS = "in-progress"
# an in-progress call whose channel no switch knows any more and whose controller never wrote its end: it
# stopped without finishing the record; the outcome is unknown (a late end record still replaces it)
INTERRUPTED = "interrupted"
# rows a later record of the same call completes
OPEN_DISPOSITIONS = (HANDED_OVER, IN_PROGRESS, INTERRUPTED)


@dataclass
class CallRecord:
    """What is written when a call ends, whatever way it ended (the CDR of one hotline call)."""

    uuid: str
    hotline: str
    caller_number: str
    destination: str
    started_at: float  # epoch seconds, the controller's clock when the call arrived
    answered_at: float | None = None
    ended_at: float | None = None
    # completed, abandoned (caller hung up), failed (error), or one of OPEN_DISPOSITIONS
    disposition: str = "completed"
    hangup_cause: str = ""
    path: list[str] = field(default_factory=list)  # flow steps taken, never digits a caller keyed for a PIN
    patient_id: int | None = None
    error: str = ""  # why a failed call failed (no patient data)
    node: str = ""  # the switch the call was on (its FreeSWITCH-Switchname); "" when not known
