"""FlowRun: a YAML flow as a CallApp, turning AppResults into the next dialplan command.

Answers, then runs the flow's nodes (generators) one command at a time. It holds
the Flow it started with, so a registry reload never changes a call in progress.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Generator
from pathlib import Path

from ccctl.callflow import AppResult, CallInfo, Command, Execute, Finish
from ccctl.ivr.errors import FlowRuntimeError
from ccctl.ivr.flow import Flow
from ccctl.ivr.run_context import RunContext
from ccctl.ivr.services import CallServices

log = logging.getLogger(__name__)


class FlowRun:
    """One call through one flow; implements ccctl.callflow.CallApp."""

    def __init__(
        self,
        flow: Flow,
        services: CallServices,
        clock: Callable[[], dt.datetime] = dt.datetime.now,
        *,
        recordings_dir: str | Path = "recordings",
    ) -> None:
        self.flow = flow
        self.services = services
        self.clock = clock
        self.recordings_dir = Path(recordings_dir).resolve()
        self.path: list[str] = []
        self.error = ""  # why the call failed, for CallRecord.error (never caller data)
        self.context: RunContext | None = None
        self._steps: Generator[Command, AppResult, None] | None = None
        self._finished: Finish | None = None

    @property
    def patient_id(self) -> int | None:
        """The patient found or authenticated during the call, for the call record and screen pop."""
        patient = self.context.patient if self.context else None
        return patient.id if patient else None

    def start(self, call: CallInfo) -> Command:
        self.context = RunContext(call, self.flow, self.services, self.clock, self.recordings_dir)
        self.path = self.context.path
        self._steps = self._script(self.context)
        return self._advance(None)

    def resume(self, result: AppResult) -> Command:
        if self._finished is not None or self._steps is None:
            return self._finished or Finish("failed", "NORMAL_TEMPORARY_FAILURE")
        return self._advance(result)

    def _script(self, ctx: RunContext) -> Generator[Command, AppResult, None]:
        yield Execute("answer")
        yield from ctx.run_flow(self.flow)

    def _advance(self, result: AppResult | None) -> Command:
        assert self._steps is not None and self.context is not None
        self.context.steps_without_command = 0
        try:
            command = next(self._steps) if result is None else self._steps.send(result)
        except StopIteration:
            command = Finish("completed")
        except FlowRuntimeError as exc:
            command = self._fail(str(exc))
        except Exception as exc:  # a service failed: the caller must still be released
            command = self._fail(f"{type(exc).__name__} in flow {self.context.flow.name}")
            log.error("flow %s version %s: %s", self.flow.name, self.flow.version, self.error)
        if isinstance(command, Finish):
            self._finished = command
            self._steps.close()
        return command

    def _fail(self, reason: str) -> Finish:
        self.error = reason
        self.context.visit("error")  # type: ignore[union-attr]
        return Finish("failed", "NORMAL_TEMPORARY_FAILURE")
