"""The record node: a voice message (complaint, request, after-hours) filed for a ticket.

The file goes under <recordings_dir>/voice/<date>/<call uuid>-<node>.wav; the
services link it to the patient (if known) and return the message id.
"""

from __future__ import annotations

import logging

from ccctl.callflow import Execute, Finish
from ccctl.ivr.fs_args import BEEP, record_arg
from ccctl.ivr.nodes.base import NAME, Field, Node, Report, Steps
from ccctl.ivr.run_context import RunContext

log = logging.getLogger(__name__)


class RecordNode(Node):
    """Prompt, beep, record until max_seconds or silence; empty recordings go to on_empty."""

    type_name = "record"
    waits_for_input = True
    fields = {
        "prompt": Field("prompt"),
        "reason": Field("template", required=True),  # complaint, after_hours, or "{{ reason }}" in a sub-flow
        "beep": Field("bool", default=True),
        "max_seconds": Field("int", default=120),
        "silence_threshold": Field("int", default=200),
        "silence_seconds": Field("int", default=3),
        "min_seconds": Field("seconds", default=1),
        "next": Field("node", ends_when_absent=True),
        "on_empty": Field("node"),
    }

    def check_syntax(self, report: Report) -> None:
        super().check_syntax(report)
        reason = str(self.values.get("reason", "x"))
        if "{" not in reason and not NAME.match(reason):
            report(self.line_of("reason"), f"'reason' must be a word like complaint or after_hours, got {reason!r}")
        if not 1 <= self.get("max_seconds") <= 3600:
            report(self.line_of("max_seconds"), "'max_seconds' must be between 1 and 3600")

    def describe(self) -> str:
        return f"record reason={self.get('reason')} max {self.get('max_seconds')}s"

    def run(self, ctx: RunContext) -> Steps:
        if "prompt" in self.values:
            yield Execute("playback", ctx.playback(self.get("prompt")))
        if self.get("beep"):
            yield Execute("playback", BEEP)
        now = ctx.now()
        path = ctx.recordings_dir / "voice" / now.strftime("%Y-%m-%d") / f"{ctx.call.uuid}-{self.name}.wav"
        try:
            # record (switch_ivr_record_file) opens the file but makes no folder: without one the switch
            # hangs the caller up (DESTINATION_OUT_OF_ORDER) right after the beep
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            log.error("flow %s node %s: no folder for voice messages (%s)", ctx.flow.name, self.name, exc.strerror)
            ctx.visit(f"{self.name}:unavailable")
            return self.get("on_empty") or self.get("next")
        arg = record_arg(str(path), self.get("max_seconds"), self.get("silence_threshold"), self.get("silence_seconds"))
        # until_complete: hanging up at the end is how most callers finish a message; it must still be filed
        result = yield Execute("record", arg, until_complete=True)
        millis = _number(result.variable("record_ms")) or _number(result.variable("record_seconds")) * 1000
        if millis < float(self.get("min_seconds")) * 1000:
            ctx.visit(f"{self.name}:empty")
            if result.caller_gone:
                yield Finish("abandoned")
                return None
            return self.get("on_empty") or self.get("next")
        patient_id = ctx.patient.id if ctx.patient else None
        reason = ctx.render(str(self.get("reason"))).strip()
        reason = reason if NAME.match(reason) else "voice_message"

        def save() -> int:
            return ctx.services.save_voice_message(ctx.call.uuid, patient_id, str(path), reason)

        # a caller who hung up hears no hold prompt: the services still wait out a short outage
        message_id = save() if result.caller_gone else (yield from ctx.records(save))
        ctx.variables["voice_message_id"] = message_id
        ctx.visit(f"{self.name}:saved")
        if result.caller_gone:  # the message is the end of this call
            yield Finish("completed")
            return None
        return self.get("next")


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return 0.0
