"""The state of one call running a flow: variables, patient, language, path.

Nodes read and change it; it turns prompts into playback targets and renders
templates with the call's variables. PIN digits never enter it.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Generator
from pathlib import Path
from typing import Any, TypeVar

import gevent

from ccctl.callflow import AppResult, CallInfo, Command, Execute
from ccctl.ivr.errors import FlowRuntimeError
from ccctl.ivr.flow import Flow
from ccctl.ivr.fs_args import SILENCE, say, tts_safe
from ccctl.ivr.prompts import PromptSet, language_voice
from ccctl.ivr.services import CallServices, PatientView, RecordsUnavailable
from ccctl.ivr.templates import evaluate, render

# names the call provides; a set node may not overwrite them (language excepted)
RESERVED_NAMES = frozenset({"caller_number", "destination", "hotline", "patient", "now", "channel", "call_uuid"})
# a flow that visits this many nodes without one command is looping (set/branch/goto cycles)
MAX_STEPS_WITHOUT_COMMAND = 200
MAX_SUBFLOW_DEPTH = 8
# a database step still running after this long (a locked or restarting database) plays the hold
# prompt, again and again, until the step is done or the call services give up; shorter, and a PIN check
# (argon2) on a busy machine would already put callers on hold
HOLD_AFTER_SECONDS = 2.0
HOLD_PROMPT_KEY = "records_hold"  # in each prompt set; a flow without one hears a soft tone
HOLD_TONE = "tone_stream://%(200,1800,440);loops=2"
# the fields a node routes to when its database step cannot be done
FAILURE_FIELDS = ("on_failure", "on_error")
log = logging.getLogger(__name__)
T = TypeVar("T")


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
        # the voice the channel arrived with (freeswitch.tts_engine/tts_voice, set by the dialplan or the
        # originate), and the one it speaks with now: every `say:` on the channel uses it, the ACD's too
        self.site_voice = (call.variables.get("tts_engine", ""), call.variables.get("tts_voice", ""))
        self.voice = self.site_voice
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

    def speak_in_language(self) -> Generator[Command, AppResult, None]:
        """Set the channel's tts_engine and tts_voice to the current language's voice, where they differ."""
        wanted = language_voice(self.language, *self.site_voice, self.prompt_set)
        for index, variable in enumerate(("tts_engine", "tts_voice")):
            value = tts_safe(wanted[index])
            if value and value != self.voice[index]:
                yield Execute("set", f"{variable}={value}")
                self.voice = (value, self.voice[1]) if index == 0 else (self.voice[0], value)

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

    def records(self, step: Callable[..., T], *args: Any) -> Generator[Command, AppResult, T]:
        """step(*args), a database step of the call services; the caller hears the hold prompt while it waits.

        The services wait out a short outage themselves and raise RecordsUnavailable past it:
        run_flow then takes the node's failure branch.
        """
        job = gevent.spawn(step, *args)
        job.join(HOLD_AFTER_SECONDS)
        if not job.ready():
            self.visit("hold")
        while not job.ready():
            yield Execute("playback", self._hold_prompt())
        return job.get()

    def _hold_prompt(self) -> str:
        prompt_set = self.prompt_set
        if prompt_set is None or (
            HOLD_PROMPT_KEY not in prompt_set.recorded and HOLD_PROMPT_KEY not in prompt_set.texts
        ):
            return HOLD_TONE
        return self.playback(f"text:{HOLD_PROMPT_KEY}")

    def _failure_branch(self, node: Any, problem: RecordsUnavailable) -> str | None:
        """Where a node goes when its records cannot be reached; a node without a failure field fails the call."""
        field = next((name for name in FAILURE_FIELDS if name in node.fields), None)
        if field is None:
            raise problem
        log.warning("flow %s node %s: %s; taking its %s branch", self.flow.name, node.name, problem, field)
        self.visit(f"{node.name}:records_unavailable")
        return node.get(field)

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
                node = flow.nodes[name]
                try:
                    name = yield from node.run(self)
                except RecordsUnavailable as problem:
                    name = self._failure_branch(node, problem)
        finally:
            self.flow = outer
            self._depth -= 1
