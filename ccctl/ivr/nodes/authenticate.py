"""The authenticate node: member number (or the caller's own, offered) and PIN by keypad.

The PIN lives only in a local of run() between the switch's result and the service
call: the command collecting it is redacted, the channel variable holding it is
cleared at once, and neither path nor variables ever see it.
"""

from __future__ import annotations

from collections.abc import Generator

from ccctl.callflow import AppResult, Command, Execute
from ccctl.ivr.digits import OK, DigitRequest, ask, read_once
from ccctl.ivr.nodes.base import Field, Node, Report, Steps
from ccctl.ivr.run_context import RunContext
from ccctl.ivr.services import AuthOutcome

PIN_VAR = "cc_pin"


class AuthenticateNode(Node):
    """Member number + PIN; on_success with the member attached, on_failure, on_locked."""

    type_name = "authenticate"
    waits_for_input = True
    fields = {
        "member_prompt": Field("prompt", required=True),
        "pin_prompt": Field("prompt", required=True),
        "ani_prompt": Field("prompt"),  # "press 1 to use the member number of this phone"
        "wrong_pin_prompt": Field("prompt"),
        "unknown_member_prompt": Field("prompt"),
        "locked_prompt": Field("prompt"),
        "invalid_prompt": Field("prompt"),
        "member_min_length": Field("int", default=6),
        "member_max_length": Field("int", default=12),
        "pin_min_length": Field("int", default=4),
        "pin_max_length": Field("int", default=8),
        "attempts": Field("int", default=3),
        "timeout": Field("seconds", default=6),
        "on_success": Field("node", required=True),
        "on_failure": Field("node", required=True),
        "on_locked": Field("node"),
    }

    def check_syntax(self, report: Report) -> None:
        super().check_syntax(report)
        for low_key, high_key in (("member_min_length", "member_max_length"), ("pin_min_length", "pin_max_length")):
            low, high = self.get(low_key), self.get(high_key)
            if not 1 <= low <= high <= 32:
                report(self.line_of(high_key), f"need 1 <= {low_key} ({low}) <= {high_key} ({high}) <= 32")
        if self.get("attempts") < 1:
            report(self.line_of("attempts"), "'attempts' must be at least 1")

    def describe(self) -> str:
        return f"authenticate member number + PIN ({self.get('attempts')} attempts)"

    def _digits_between(self, low_key: str, high_key: str):
        low, high = self.get(low_key), self.get(high_key)
        return lambda digits: digits.isdigit() and low <= len(digits) <= high

    def _member_number(self, ctx: RunContext, offer_own: bool) -> Generator[Command, AppResult, str | None]:
        """The caller's own member number if offered and accepted, else one keyed in."""
        if ctx.patient is None:
            ctx.patient = yield from ctx.records(lambda: ctx.services.find_patient_by_phone(ctx.call.caller_number))
        own = ctx.patient.member_number if ctx.patient and ctx.patient.member else None
        if own and offer_own and "ani_prompt" in self.values:
            offer = DigitRequest(f"cc_{self.name}_ani", self.get("ani_prompt"), 1, self.get("timeout"))
            read = yield from read_once(ctx, offer, lambda digits: digits in ("1", "2"))
            if read.outcome == OK and read.digits == "1":
                ctx.visit(f"{self.name}:ani")
                return own
        request = DigitRequest(
            f"cc_{self.name}_member",
            self.get("member_prompt"),
            self.get("member_max_length"),
            self.get("timeout"),
            clear=True,
        )
        accept = self._digits_between("member_min_length", "member_max_length")
        tries = self.get("attempts")
        return (
            yield from ask(
                ctx,
                self.name,
                request,
                accept,
                tries=tries,
                invalid_prompt=self.get("invalid_prompt"),
                no_input_prompt=None,
            )
        )

    def run(self, ctx: RunContext) -> Steps:
        attempts = self.get("attempts")
        pin_request = DigitRequest(
            PIN_VAR, self.get("pin_prompt"), self.get("pin_max_length"), self.get("timeout"), secret=True
        )
        accept_pin = self._digits_between("pin_min_length", "pin_max_length")
        member_number = yield from self._member_number(ctx, offer_own=True)
        failures = 0
        while member_number is not None and failures < attempts:
            read = yield from read_once(ctx, pin_request, accept_pin)
            ctx.visit(f"{self.name}:pin")
            if read.outcome != OK:
                outcome = AuthOutcome.WRONG
            else:
                verify = ctx.services.verify_member_pin
                outcome = yield from ctx.records(verify, member_number, read.digits, ctx.call.uuid)
            del read
            if outcome is AuthOutcome.OK:
                ctx.patient = yield from ctx.records(ctx.services.find_patient_by_member_number, member_number)
                ctx.variables["authenticated"] = True
                ctx.visit(f"{self.name}:ok")
                return self.get("on_success")
            if outcome is AuthOutcome.LOCKED:
                ctx.visit(f"{self.name}:locked")
                if "locked_prompt" in self.values:
                    yield Execute("playback", ctx.playback(self.get("locked_prompt")))
                return self.get("on_locked") or self.get("on_failure")
            failures += 1
            ctx.visit(f"{self.name}:{outcome.value}")
            if failures >= attempts:
                break
            if outcome is AuthOutcome.UNKNOWN:
                if "unknown_member_prompt" in self.values:
                    yield Execute("playback", ctx.playback(self.get("unknown_member_prompt")))
                member_number = yield from self._member_number(ctx, offer_own=False)
            elif "wrong_pin_prompt" in self.values:
                yield Execute("playback", ctx.playback(self.get("wrong_pin_prompt")))
        ctx.visit(f"{self.name}:failed")
        return self.get("on_failure")
