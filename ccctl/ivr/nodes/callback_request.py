"""The callback_request node: the caller asks to be called back (after hours, all agents busy).

The caller confirms the number they call from by key (or keys in another, checked as phone digits), may
leave a short voice message, and the callback goes on the ACD's worklist: not dialled while the hotline is
closed (the flow's `hours` branch node says when it opens), due callbacks.deadline_hours after it opens.
"""

from __future__ import annotations

import logging
import re
from datetime import timedelta

from ccctl.callflow import Execute, Finish
from ccctl.ivr.digits import DigitRequest, ask_key, ask_node
from ccctl.ivr.fs_args import BEEP, record_arg
from ccctl.ivr.nodes.base import CheckEnv, Field, Node, Report, Steps
from ccctl.ivr.nodes.branch import BranchNode
from ccctl.ivr.opening_hours import next_opening
from ccctl.ivr.run_context import RunContext

log = logging.getLogger(__name__)
CONFIRM_KEY, OTHER_KEY = "1", "2"
PHONE = re.compile(r"^\+?[0-9]{3,20}$")
ENDING_DIGITS = 4  # the confirmation says the number's last digits, not the whole number
STILL_ON_THE_LINE = timedelta(minutes=2)  # the soonest a callback is dialled: the caller first hangs up


class CallbackRequestNode(Node):
    """Confirm or key in the number, an optional short message, then file the callback in `queue`."""

    type_name = "callback_request"
    waits_for_input = True
    fields = {
        "queue": Field("text", required=True),  # the ACD queue whose agents call back
        "hours": Field("name"),  # the branch node saying when the hotline is open; none: open now
        "reason": Field("name", default="callback_request"),  # after_hours, all_busy: the worklist's "why"
        "confirm_prompt": Field("prompt", required=True),  # says {{ callback_ending }}; 1 confirm, 2 another
        "number_prompt": Field("prompt", required=True),
        "message_prompt": Field("prompt"),  # set: a short voice message may follow (# or silence skips it)
        "message_seconds": Field("int", default=30),
        "done_prompt": Field("prompt", required=True),
        "invalid_prompt": Field("prompt"),
        "no_input_prompt": Field("prompt"),
        "min_length": Field("int", default=6),
        "max_length": Field("int", default=15),
        "timeout": Field("seconds", default=6),
        "tries": Field("int", default=3),
        "next": Field("node", ends_when_absent=True),
        "on_failure": Field("node", ends_when_absent=True),
    }

    def check_syntax(self, report: Report) -> None:
        super().check_syntax(report)
        low, high = self.get("min_length"), self.get("max_length")
        if not 3 <= low <= high <= 20:
            report(self.line_of("max_length"), f"need 3 <= min_length ({low}) <= max_length ({high}) <= 20")
        if not 1 <= self.get("message_seconds") <= 300:
            report(self.line_of("message_seconds"), "'message_seconds' must be between 1 and 300")
        queue = str(self.values.get("queue", "x"))
        if not re.fullmatch(r"[a-z0-9_-]+", queue):
            report(
                self.line_of("queue"),
                f"'queue' must be a queue name (lower-case letters, digits, _ or -), got {queue!r}",
            )

    def check_in_flow(self, nodes: dict[str, Node], report: Report) -> None:
        hours = self.values.get("hours")
        if hours is not None and not isinstance(nodes.get(hours), BranchNode):
            report(
                self.line_of("hours"),
                f"'hours' must name a branch node of this flow (its opening hours), got {hours!r}",
            )

    def check_references(self, env: CheckEnv, report: Report) -> None:
        super().check_references(env, report)
        queue = str(self.values.get("queue", ""))
        if env.queues is not None and queue and queue not in env.queues.names:
            known = ", ".join(sorted(env.queues.names)) or "none"
            report(self.line_of("queue"), f"queue '{queue}' does not exist in {env.queues.source} (queues: {known})")

    def describe(self) -> str:
        return f"callback_request queue={self.get('queue')} reason={self.get('reason')}"

    def accepts(self, digits: str) -> bool:
        return self.get("min_length") <= len(digits) <= self.get("max_length") and bool(PHONE.match(digits))

    def run(self, ctx: RunContext) -> Steps:
        number = yield from self._number(ctx)
        if number is None:
            ctx.visit(f"{self.name}:no_number")
            return self.get("on_failure")
        message_id, gone = None, False
        if "message_prompt" in self.values:
            message_id, gone = yield from self._message(ctx)
        callbacks = ctx.services.callbacks
        if callbacks is None:
            ctx.visit(f"{self.name}:no_worklist")
            return self.get("on_failure")
        now = ctx.now()
        hours = ctx.flow.nodes.get(self.values.get("hours", ""))
        opens = (next_opening(hours, ctx.flow.calendar, now) if isinstance(hours, BranchNode) else None) or now
        # not while the caller still hears goodbye: a call back to a line still busy with us fails as busy
        wait = max(opens - now, STILL_ON_THE_LINE)
        patient_id = ctx.patient.id if ctx.patient else None
        reason = str(self.get("reason")) + (f" message={message_id}" if message_id else "")

        def file() -> int:
            return callbacks.file_callback(str(self.get("queue")), ctx.call.uuid, number, patient_id, reason, wait)

        # a caller who hung up during the message hears no hold prompt: the callback is still filed
        entry_id = file() if gone else (yield from ctx.records(file))
        if gone:
            ctx.visit(f"{self.name}:filed" if entry_id else f"{self.name}:refused")
            yield Finish("completed")
            return None
        if not entry_id:
            ctx.visit(f"{self.name}:refused")
            return self.get("on_failure")
        ctx.variables["callback_id"] = entry_id
        ctx.visit(f"{self.name}:filed")
        yield Execute("playback", ctx.playback(self.get("done_prompt")))
        return self.get("next")

    def _number(self, ctx: RunContext):
        """The caller's own number once they confirm it by key, else the one they key in; None: no number."""
        number = ctx.call.caller_number if self.accepts(ctx.call.caller_number or "") else ""
        for _ in range(max(self.get("tries"), 1)):
            if number:
                ctx.variables["callback_ending"] = " ".join(number[-ENDING_DIGITS:])
                key = yield from ask_key(ctx, self, (CONFIRM_KEY, OTHER_KEY), self.get("confirm_prompt"))
                ctx.variables.pop("callback_ending", None)
                if key == CONFIRM_KEY:
                    return number
                if key is None:
                    return None
            request = DigitRequest(
                var_name=f"cc_{self.name}",
                prompt=self.get("number_prompt"),
                max_digits=self.get("max_length"),
                timeout=self.get("timeout"),
                clear=True,  # a phone number: not kept in the channel's variables
            )
            number = yield from ask_node(ctx, self, request, self.accepts)
            if number is None:
                return None
        return None

    def _message(self, ctx: RunContext):
        """A short voice message filed in the inbox: (its id or None when the caller left none, whether the
        caller hung up)."""
        yield Execute("playback", ctx.playback(self.get("message_prompt")))
        yield Execute("playback", BEEP)
        path = ctx.recordings_dir / "voice" / ctx.now().strftime("%Y-%m-%d") / f"{ctx.call.uuid}-{self.name}.wav"
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            log.error("flow %s node %s: no folder for voice messages (%s)", ctx.flow.name, self.name, exc.strerror)
            return None, False
        arg = record_arg(str(path), self.get("message_seconds"), 200, 3)
        result = yield Execute("record", arg, until_complete=True)
        millis = _number(result.variable("record_ms")) or _number(result.variable("record_seconds")) * 1000
        if millis < 1000:
            return None, result.caller_gone
        patient_id = ctx.patient.id if ctx.patient else None
        reason = str(self.get("reason"))

        def save() -> int:
            return ctx.services.save_voice_message(ctx.call.uuid, patient_id, str(path), reason)

        message_id = save() if result.caller_gone else (yield from ctx.records(save))
        return message_id, result.caller_gone


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return 0.0
