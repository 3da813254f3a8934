"""Nodes that hand the caller on: queue (to an agent with a skill) and transfer (to an extension).

With an ACD (services.queueing) the caller waits in the ACD queue named `queue` (default: the skill);
without one, or for a queue the ACD does not know, it bridges to the dial string the services give.
"""

from __future__ import annotations

from collections.abc import Mapping

from ccctl.callflow import Execute, Finish
from ccctl.ivr.fs_args import UNSAFE_PATH_CHARS, say
from ccctl.ivr.hold_words import HoldWords
from ccctl.ivr.nodes.base import CheckEnv, Field, Node, Report, Steps
from ccctl.ivr.run_context import RunContext
from ccctl.ivr.templates import render

SKILL_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789_-")


class QueueNode(Node):
    """Hand the call to an agent with `skill`; `on_failure` when nobody can take it."""

    type_name = "queue"
    ends_call = True
    fields = {
        "skill": Field("text", required=True),
        "queue": Field("text"),
        "priority": Field("int", default=0),
        "prompt": Field("prompt"),
        "on_failure": Field("node"),
    }

    def check_syntax(self, report: Report) -> None:
        super().check_syntax(report)
        skill = str(self.values.get("skill", "x"))
        if not skill or not set(skill) <= SKILL_CHARS:
            report(self.line_of("skill"), f"'skill' must be lower-case letters, digits, _ or -, got {skill!r}")

    def check_references(self, env: CheckEnv, report: Report) -> None:
        super().check_references(env, report)
        if env.queues is None:
            return
        queue = str(self.values.get("queue") or self.values.get("skill") or "")
        if queue and queue not in env.queues.names:
            known = ", ".join(sorted(env.queues.names)) or "none"
            report(
                self.line_of("queue" if "queue" in self.values else "skill"),
                f"queue '{queue}' does not exist in {env.queues.source} (queues: {known}; ccctl queues add)",
            )

    def describe(self) -> str:
        return f"queue skill={self.get('skill')} priority={self.get('priority')}"

    def run(self, ctx: RunContext) -> Steps:
        skill = str(self.get("skill"))
        if "prompt" in self.values:
            yield Execute("playback", ctx.playback(self.get("prompt")))
        queueing = ctx.services.queueing
        if queueing is not None:
            queue = str(self.get("queue") or skill)
            patient_id = ctx.patient.id if ctx.patient is not None else None
            recordings = str(ctx.recordings_dir or "")
            words = hold_words(ctx)
            outcome = yield from queueing.queue_call(
                queue, ctx.call, self.get("priority"), patient_id, recordings, words
            )
            if outcome in ("answered", "callback"):
                ctx.visit(f"{self.name}:{outcome}")
                yield Finish("completed" if outcome == "answered" else "callback")
                return None
            if outcome != "refused":
                ctx.visit(f"{self.name}:{outcome}")
                return self.get("on_failure")
        target = ctx.services.handoff_target(skill, self.get("priority"), ctx.call.uuid)
        if target:
            # continue_on_fail: a target that is busy, absent or not registered (USER_NOT_REGISTERED)
            # must lead to on_failure; without it switch_channel_handle_cause hangs the patient up
            yield Execute("multiset", f"^^|cc_skill={skill}|continue_on_fail=true")
            result = yield Execute("bridge", target, until_complete=True)
            disposition = result.variable("originate_disposition").upper()
            if result.variable("bridge_hangup_cause") or disposition in ("SUCCESS", "ANSWER"):
                ctx.visit(f"{self.name}:answered")
                yield Finish("completed")
                return None
        ctx.visit(f"{self.name}:failed")
        return self.get("on_failure")


def hold_words(ctx: RunContext) -> HoldWords:
    """The hold announcements from the caller's prompt set: a recorded or built file, else its text by TTS."""
    prompt_set = ctx.prompt_set

    def speak(key: str, values: Mapping[str, object]) -> str:
        if prompt_set is None:
            return ""
        audio = prompt_set.audio_file(key)
        if audio:
            return audio
        text = prompt_set.texts.get(key)
        return say(render(text, {**ctx.template_variables(), **values})) if text else ""

    return HoldWords(speak)


class TransferNode(Node):
    """Send the call to a dialplan extension; the call leaves this flow."""

    type_name = "transfer"
    ends_call = True
    fields = {
        "destination": Field("text", required=True),
        "context": Field("text", default="default"),
        "dialplan": Field("text", default="XML"),
        "prompt": Field("prompt"),
    }

    def check_syntax(self, report: Report) -> None:
        super().check_syntax(report)
        for key in ("destination", "context", "dialplan"):
            value = str(self.get(key) or "")
            if not value or " " in value or any(c in UNSAFE_PATH_CHARS for c in value) or "$" in value:
                report(self.line_of(key), f"'{key}' must be one word without quotes, braces or $, got {value!r}")

    def describe(self) -> str:
        return f"transfer {self.get('destination')} {self.get('dialplan')} {self.get('context')}"

    def run(self, ctx: RunContext) -> Steps:
        if "prompt" in self.values:
            yield Execute("playback", ctx.playback(self.get("prompt")))
        yield Execute("transfer", f"{self.get('destination')} {self.get('dialplan')} {self.get('context')}")
        # the channel now runs elsewhere in the dialplan: done here, but nothing to hang up
        yield Finish("transferred", "")
        return None
