"""Nodes that steer without speaking: set, goto, subflow (call and return) and hangup."""

from __future__ import annotations

from ccctl.callflow import Execute, Finish
from ccctl.ivr.nodes.base import NAME, CheckEnv, Field, Node, Report, Steps
from ccctl.ivr.run_context import RESERVED_NAMES, RunContext
from ccctl.ivr.templates import template_error


class SetNode(Node):
    """Set flow variables (text values are templates); setting `language` switches prompt set and voice."""

    type_name = "set"
    fields = {
        "values": Field("mapping", required=True),
        "next": Field("node", ends_when_absent=True),
    }

    def check_syntax(self, report: Report) -> None:
        super().check_syntax(report)
        values = self.values.get("values", {})
        for key, value in values.items():
            line = values.line_of(key)
            if not isinstance(key, str) or not NAME.match(key):
                report(line, f"variable name {key!r} must be letters, digits and _")
            elif key in RESERVED_NAMES:
                report(line, f"'{key}' is set by the call and cannot be changed")
            if isinstance(value, (dict, list)):
                report(line, f"'{key}' must be text, a number or true/false")
            elif isinstance(value, str) and (problem := template_error(value)):
                report(line, f"'{key}': Jinja2: {problem[1]}")

    def check_references(self, env: CheckEnv, report: Report) -> None:
        super().check_references(env, report)
        language = self.values.get("values", {}).get("language")
        if isinstance(language, str) and "{" not in language and language not in env.prompt_sets:
            report(self.values["values"].line_of("language"), f"no prompt set for language '{language}'")

    def describe(self) -> str:
        pairs = ", ".join(f"{k}={v}" for k, v in self.values.get("values", {}).items())
        return f"set {pairs}"

    def run(self, ctx: RunContext) -> Steps:
        for key, value in self.get("values").items():
            rendered = ctx.render(value) if isinstance(value, str) else value
            if key == "language":
                yield from _switch_language(ctx, str(rendered))
            else:
                ctx.variables[key] = rendered
        return self.get("next")


def _switch_language(ctx: RunContext, language: str) -> Steps:
    prompt_set = ctx.prompt_sets.get(language)
    if prompt_set is None:
        return None  # a templated language that names no set: keep the current one
    ctx.language = language
    yield from ctx.speak_in_language()
    return None


class GotoNode(Node):
    """Jump to another node."""

    type_name = "goto"
    fields = {"to": Field("node", required=True)}

    def describe(self) -> str:
        return f"goto {self.get('to')}"

    def run(self, ctx: RunContext) -> Steps:
        return self.get("to")
        yield  # pragma: no cover - a generator that sends no command


class SubflowNode(Node):
    """Run a shared flow (ivr_flows/shared/...) with optional params, then continue at `next`."""

    type_name = "subflow"
    fields = {
        "flow": Field("text", required=True),
        "params": Field("mapping"),
        "next": Field("node", ends_when_absent=True),
    }

    def check_syntax(self, report: Report) -> None:
        super().check_syntax(report)
        for key, value in self.values.get("params", {}).items():
            if not isinstance(key, str) or not NAME.match(key) or key in RESERVED_NAMES:
                report(self.values["params"].line_of(key), f"param name {key!r} must be a settable variable name")
            elif isinstance(value, str) and (problem := template_error(value)):
                report(self.values["params"].line_of(key), f"param '{key}': Jinja2: {problem[1]}")

    def check_references(self, env: CheckEnv, report: Report) -> None:
        super().check_references(env, report)
        name = self.values.get("flow")
        if name is not None and str(name) not in env.flow_names:
            known = ", ".join(sorted(n for n in env.flow_names if "/" in n)) or "none"
            report(self.line_of("flow"), f"unknown subflow '{name}' (shared flows: {known})")

    def describe(self) -> str:
        return f"subflow {self.get('flow')}"

    def run(self, ctx: RunContext) -> Steps:
        for key, value in self.values.get("params", {}).items():
            ctx.variables[key] = ctx.render(value) if isinstance(value, str) else value
        flow = ctx.flow.catalog.flows[str(self.get("flow"))]
        yield from ctx.run_flow(flow)
        return self.get("next")


class HangupNode(Node):
    """Optionally say goodbye, then end the call."""

    type_name = "hangup"
    ends_call = True
    fields = {
        "prompt": Field("prompt"),
        "cause": Field("text", default="NORMAL_CLEARING"),
        "disposition": Field("text", default="completed"),
    }

    def describe(self) -> str:
        return f"hangup {self.get('prompt') or ''}".rstrip()

    def run(self, ctx: RunContext) -> Steps:
        if "prompt" in self.values:
            yield Execute("playback", ctx.playback(self.get("prompt")))
        yield Finish(str(self.get("disposition")), str(self.get("cause")))
        return None
