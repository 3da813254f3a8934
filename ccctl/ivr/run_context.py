"""The state of one call running a flow: variables, patient, language, path.

Nodes read and change it; it turns prompts into playback targets and renders
templates with the call's variables. PIN digits never enter it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Generator
from pathlib import Path
from typing import Any

from ccctl.callflow import AppResult, CallInfo, Command
from ccctl.ivr.errors import FlowRuntimeError
from ccctl.ivr.flow import Flow
from ccctl.ivr.fs_args import SILENCE, say
from ccctl.ivr.prompts import PromptSet
from ccctl.ivr.services import CallServices, PatientView
from ccctl.ivr.templates import evaluate, render

# names the call provides; a set node may not overwrite them (language excepted)
RESERVED_NAMES = frozenset({"caller_number", "destination", "hotline", "patient", "now", "channel", "call_uuid"})
# a flow that visits this many nodes without one command is looping (set/branch/goto cycles)
MAX_STEPS_WITHOUT_COMMAND = 200
MAX_SUBFLOW_DEPTH = 8


class RunContext:
    """What the nodes of one call share."""

    def __init__(
        self,
        call: CallInfo,
        flow: Flow,
        services: CallServices,
        clock: Callable[[], dt.datetime],
        recordings_dir: Path,
    ) -> None:
        self.call = call
        self.flow = flow  # the flow (or sub-flow) running now
        self.services = services
        self.clock = clock
        self.recordings_dir = recordings_dir
        self.path: list[str] = []
        self.variables: dict[str, Any] = {}
        self.patient: PatientView | None = None
        catalog = flow.catalog
        self.prompt_sets = dict(catalog.prompt_sets) if catalog else {}
        self.prompts_dir = catalog.prompts_dir if catalog else Path(".")
        wanted = call.variables.get("cc_language", "") or flow.language
        self.language = wanted if wanted in self.prompt_sets else flow.language
        self.steps_without_command = 0
        self._depth = 0

    def visit(self, label: str) -> None:
        """Record a step in the call's path (node names and outcomes, never keyed digits)."""
        self.path.append(label)

    def now(self) -> dt.datetime:
        return self.clock()

    def template_variables(self) -> dict[str, Any]:
        values = dict(self.variables)
        values.update(
            caller_number=self.call.caller_number,
            destination=self.call.destination,
            hotline=self.call.hotline,
            call_uuid=self.call.uuid,
            channel=dict(self.call.variables),
            patient=self.patient,
            language=self.language,
            now=self.now(),
        )
        return values

    def render(self, source: str) -> str:
        return render(source, self.template_variables())

    def is_true(self, expression: str) -> bool:
        return evaluate(expression, self.template_variables())

    @property
    def prompt_set(self) -> PromptSet | None:
        return self.prompt_sets.get(self.language)

    def playback(self, spec: str | None) -> str:
        """The playback target of a prompt as the flow wrote it (see ccctl.ivr.prompts)."""
        if not spec:
            return SILENCE
        if spec.startswith("say:"):
            return say(self.render(spec[4:]))
        if spec.startswith("text:"):
            key = spec[5:].strip()
            prompt_set = self.prompt_set
            if prompt_set is None:
                return SILENCE
            audio = prompt_set.audio_file(key)
            if audio:
                return audio
            return say(self.render(prompt_set.texts.get(key, "")))
        if "://" in spec:
            return spec
        return str((self.prompts_dir / spec).resolve())

    def run_flow(self, flow: Flow) -> Generator[Command, AppResult, None]:
        """Run a flow's nodes from its start until one leads nowhere (a sub-flow then returns)."""
        if self._depth >= MAX_SUBFLOW_DEPTH:
            raise FlowRuntimeError(f"sub-flows nested deeper than {MAX_SUBFLOW_DEPTH} at {flow.name}")
        outer, self.flow = self.flow, flow
        self._depth += 1
        prefix = f"{flow.name.rsplit('/', 1)[-1]}." if self._depth > 1 else ""
        try:
            name: str | None = flow.start
            while name is not None:
                self.steps_without_command += 1
                if self.steps_without_command > MAX_STEPS_WITHOUT_COMMAND:
                    raise FlowRuntimeError(f"flow {flow.name} looped through {name} without talking to the caller")
                self.visit(prefix + name)
                name = yield from flow.nodes[name].run(self)
        finally:
            self.flow = outer
            self._depth -= 1
