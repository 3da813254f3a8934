"""The menu node: a prompt, one key per choice, retries, and 0 for an operator."""

from __future__ import annotations

from ccctl.ivr.digits import ask_key
from ccctl.ivr.nodes.base import Field, Node, Report, Steps
from ccctl.ivr.run_context import RunContext

KEYPAD = "0123456789*#"


class MenuNode(Node):
    """Ask for one key; go to its choice, to `operator` on 0, to `on_failure` when tries run out."""

    type_name = "menu"
    waits_for_input = True
    fields = {
        "prompt": Field("prompt", required=True),
        "choices": Field("mapping", required=True),
        "operator": Field("node"),
        "invalid_prompt": Field("prompt"),
        "no_input_prompt": Field("prompt"),
        "timeout": Field("seconds", default=5),
        "tries": Field("int", default=3),
        "on_failure": Field("node", ends_when_absent=True),
    }

    def check_syntax(self, report: Report) -> None:
        super().check_syntax(report)
        choices = self.values.get("choices", {})
        if "choices" in self.values and not choices:
            report(self.line_of("choices"), "'choices' is empty")
        for key, line in getattr(choices, "duplicates", []):
            report(line, f"choice '{key}' appears twice")
        for key, target in choices.items():
            line = choices.line_of(key)
            if not isinstance(key, str) or len(key) != 1 or key not in KEYPAD:
                report(line, f"choice {key!r} must be one keypad key (0-9, '*' or '#', quoted)")
            if not isinstance(target, str) or not target:
                report(line, f"choice '{key}' must name a node, got {target!r}")
        if "operator" in self.values and "0" in choices:
            report(self.line_of("operator"), "key 0 is both a choice and the operator key")
        if self.get("tries") < 1:
            report(self.line_of("tries"), "'tries' must be at least 1")

    def edges(self) -> list[tuple[str, str, int]]:
        choices = self.values.get("choices", {})
        found = [
            (f"choices.{key}", target, choices.line_of(key))
            for key, target in choices.items()
            if isinstance(target, str)
        ]
        return found + super().edges()

    def keys(self) -> dict[str, str]:
        keys = {str(k): v for k, v in self.values.get("choices", {}).items()}
        if "operator" in self.values:
            keys["0"] = self.values["operator"]
        return keys

    def describe(self) -> str:
        return f"menu {self.get('prompt')} (timeout {self.get('timeout')}s, {self.get('tries')} tries)"

    def run(self, ctx: RunContext) -> Steps:
        keys = self.keys()
        digit = yield from ask_key(ctx, self, keys)
        if digit is None:
            ctx.visit(f"{self.name}:failed")
            return self.get("on_failure")
        return keys[digit]
