"""FlowRun: a YAML flow as a CallApp, turning AppResults into the next dialplan command.

Answers, then runs the flow's nodes (generators) one command at a time. It holds
the Flow it started with, so a registry reload never changes a call in progress.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from pathlib import Path

from ccctl.callflow import AppResult, CallInfo, Command, Execute, Finish, Steps, StepsApp
from ccctl.ivr.errors import FlowRuntimeError
from ccctl.ivr.flow import Flow
from ccctl.ivr.run_context import RunContext
from ccctl.ivr.services import CallServices

log = logging.getLogger(__name__)


class FlowRun(StepsApp):
    """One call through one flow; implements ccctl.callflow.CallApp."""

    def __init__(
        self,
        flow: Flow,
        services: CallServices,
        clock: Callable[[], dt.datetime] = dt.datetime.now,
        *,
        recordings_dir: str | Path = "recordings",
    ) -> None:
        super().__init__()
        self.flow = flow
        self.services = services
        self.clock = clock
        self.recordings_dir = Path(recordings_dir).resolve()
        self.error = ""  # why the call failed, for CallRecord.error (never caller data)
        self.context: RunContext | None = None

    @property
    def patient_id(self) -> int | None:
        """The patient found or authenticated during the call, for the call record and screen pop."""
        patient = self.context.patient if self.context else None
        return patient.id if patient else None

    def steps(self, call: CallInfo) -> Steps:
        self.context = RunContext(call, self.flow, self.services, self.clock, self.recordings_dir)
        self.path = self.context.path
        yield Execute("answer")
        yield from self.context.speak_in_language()
        yield from self.context.run_flow(self.flow)

    def _advance(self, result: AppResult | None) -> Command:
        if self.context is not None:
            self.context.steps_without_command = 0
        return super()._advance(result)

    def failed(self, exc: Exception) -> Finish:
        if isinstance(exc, FlowRuntimeError):
            return self._fail(str(exc))
        # a service failed: the caller must still be released
        finish = self._fail(f"{type(exc).__name__} in flow {self.flow.name}")
        log.error("flow %s version %s: %s", self.flow.name, self.flow.version, self.error)
        return finish

    def _fail(self, reason: str) -> Finish:
        self.error = reason
        self.context.visit("error")  # type: ignore[union-attr]
        return Finish("failed", "NORMAL_TEMPORARY_FAILURE")
