"""Nodes that speak: play (a file or TTS text) and info (a short TTS answer, repeatable)."""

from __future__ import annotations

from ccctl.callflow import Execute
from ccctl.ivr.digits import DigitRequest, read_once
from ccctl.ivr.nodes.base import Field, Node, Steps
from ccctl.ivr.run_context import RunContext

MAX_REPEATS = 3


class PlayNode(Node):
    """Play one prompt, then go on."""

    type_name = "play"
    fields = {
        "prompt": Field("prompt", required=True),
        "next": Field("node", ends_when_absent=True),
    }

    def describe(self) -> str:
        return f"play {self.get('prompt')}"

    def run(self, ctx: RunContext) -> Steps:
        yield Execute("playback", ctx.playback(self.get("prompt")))
        return self.get("next")


class InfoNode(Node):
    """Read a short text answer by TTS; with repeat_prompt, the caller may hear it again."""

    type_name = "info"
    fields = {
        "answer": Field("tts", required=True),
        "repeat_prompt": Field("tts"),
        "repeat_key": Field("text", default="*"),
        "timeout": Field("seconds", default=4),
        "next": Field("node", ends_when_absent=True),
    }

    @property
    def waits_for_input(self) -> bool:  # type: ignore[override]
        return "repeat_prompt" in self.values

    def describe(self) -> str:
        return f"info {self.get('answer')}"

    def check_syntax(self, report) -> None:
        super().check_syntax(report)
        key = str(self.get("repeat_key"))
        if len(key) != 1 or key not in "0123456789*#":
            report(self.line_of("repeat_key"), f"'repeat_key' must be one keypad key, got {key!r}")

    def run(self, ctx: RunContext) -> Steps:
        key = str(self.get("repeat_key"))
        request = DigitRequest(
            var_name=f"cc_{self.name}",
            prompt=self.get("repeat_prompt"),
            max_digits=1,
            timeout=self.get("timeout"),
            terminators="none" if key == "#" else "#",
        )
        for _ in range(MAX_REPEATS):
            yield Execute("playback", ctx.playback(self.get("answer")))
            if "repeat_prompt" not in self.values:
                break
            read = yield from read_once(ctx, request, lambda digits: digits == key)
            if read.outcome != "ok":
                break
            ctx.visit(f"{self.name}:repeat")
        return self.get("next")
