"""The collect node: digits into a flow variable, with length, terminator and regex checks."""

from __future__ import annotations

import re

from ccctl.ivr.digits import DigitRequest, ask_node
from ccctl.ivr.nodes.base import Field, Node, Report, Steps
from ccctl.ivr.run_context import RESERVED_NAMES, RunContext

MAX_DIGITS = 64  # FreeSWITCH's buffer holds 128


class CollectNode(Node):
    """Ask for digits; store them in `variable` and go to `next`, or `on_failure` after `tries`."""

    type_name = "collect"
    waits_for_input = True
    fields = {
        "prompt": Field("prompt", required=True),
        "variable": Field("name", required=True),
        "min_length": Field("int", default=1),
        "max_length": Field("int", default=20),
        "terminator": Field("text", default="#"),
        "regex": Field("regex"),
        "timeout": Field("seconds", default=6),
        "digit_timeout": Field("seconds", default=3),
        "tries": Field("int", default=3),
        "invalid_prompt": Field("prompt"),
        "no_input_prompt": Field("prompt"),
        "next": Field("node", ends_when_absent=True),
        "on_failure": Field("node", ends_when_absent=True),
    }

    def check_syntax(self, report: Report) -> None:
        super().check_syntax(report)
        low, high = self.get("min_length"), self.get("max_length")
        if not 1 <= low <= high <= MAX_DIGITS:
            report(self.line_of("max_length"), f"need 1 <= min_length ({low}) <= max_length ({high}) <= {MAX_DIGITS}")
        terminator = str(self.get("terminator"))
        if terminator not in ("", "none") and any(c not in "0123456789*#" for c in terminator):
            report(self.line_of("terminator"), f"'terminator' must be keypad keys or 'none', got {terminator!r}")
        if self.values.get("variable") in RESERVED_NAMES:
            report(
                self.line_of("variable"), f"'{self.values['variable']}' is set by the call and cannot be collected into"
            )

    def accepts(self, digits: str) -> bool:
        if not self.get("min_length") <= len(digits) <= self.get("max_length"):
            return False
        pattern = self.values.get("regex")
        return pattern is None or re.fullmatch(pattern, digits) is not None

    def describe(self) -> str:
        return f"collect {self.get('min_length')}-{self.get('max_length')} digits into {self.get('variable')}"

    def run(self, ctx: RunContext) -> Steps:
        request = DigitRequest(
            var_name=f"cc_{self.name}",
            prompt=self.get("prompt"),
            max_digits=self.get("max_length"),
            timeout=self.get("timeout"),
            digit_timeout=self.get("digit_timeout"),
            terminators=str(self.get("terminator")) or "none",
        )
        digits = yield from ask_node(ctx, self, request, self.accepts)
        if digits is None:
            ctx.visit(f"{self.name}:failed")
            return self.get("on_failure")
        ctx.variables[self.get("variable")] = digits
        return self.get("next")
