"""The lookup node: find the patient (caller number, member number, patient code) or ask a hospital system over HTTP."""

from __future__ import annotations

import logging

from ccctl.ivr.nodes.base import Field, Node, Report, Steps
from ccctl.ivr.run_context import RESERVED_NAMES, RunContext
from ccctl.ivr.services import LookupFailed, RecordsUnavailable

log = logging.getLogger(__name__)
LOOKUP_KINDS = ("caller_number", "member_number", "patient_code", "http")


class LookupNode(Node):
    """Attach a patient to the call (found / not_found), or store an HTTP answer (on_error as fallback)."""

    type_name = "lookup"
    fields = {
        "by": Field("text", required=True),
        "value": Field("template"),  # member number / patient code, e.g. "{{ member_number }}"
        "url": Field("template"),
        "params": Field("mapping"),
        "timeout": Field("seconds", default=2),
        "save_as": Field("name", default="lookup"),
        "found": Field("node", ends_when_absent=True),
        "not_found": Field("node", ends_when_absent=True),
        "on_error": Field("node"),
    }

    def check_syntax(self, report: Report) -> None:
        super().check_syntax(report)
        by = self.values.get("by")
        if by is not None and by not in LOOKUP_KINDS:
            report(self.line_of("by"), f"'by' must be one of {', '.join(LOOKUP_KINDS)}, got {by!r}")
        if by == "http" and "url" not in self.values:
            report(self.line, "missing required key 'url' for an http lookup")
        if by in ("member_number", "patient_code") and "value" not in self.values:
            report(self.line, f"missing required key 'value' for a lookup by {by}")
        if self.get("save_as") in RESERVED_NAMES:
            report(self.line_of("save_as"), f"'{self.get('save_as')}' is set by the call")
        for key, value in self.values.get("params", {}).items():
            if not isinstance(value, (str, int, float)):
                report(self.values["params"].line_of(key), f"param '{key}' must be text")

    def describe(self) -> str:
        return f"lookup by {self.get('by')}"

    def run(self, ctx: RunContext) -> Steps:
        by = self.get("by")
        services = ctx.services
        if by == "http":
            return self._http(ctx)
        if by == "caller_number":
            find, value = services.find_patient_by_phone, ctx.call.caller_number
        elif by == "member_number":
            find, value = services.find_patient_by_member_number, ctx.render(self.get("value")).strip()
        else:
            find, value = services.find_patient_by_code, ctx.render(self.get("value")).strip()
        try:
            patient = yield from ctx.records(find, value)
        except RecordsUnavailable as problem:
            # the call goes on as a caller not on file: on_error, else not_found
            log.warning("flow %s node %s: %s; taking the fallback", ctx.flow.name, self.name, problem)
            ctx.visit(f"{self.name}:records_unavailable")
            return self.get("on_error") or self.get("not_found")
        if patient is None:
            ctx.visit(f"{self.name}:not_found")
            return self.get("not_found")
        ctx.patient = patient
        ctx.visit(f"{self.name}:found")
        return self.get("found")

    def _http(self, ctx: RunContext) -> str | None:
        params = {str(k): ctx.render(str(v)) for k, v in self.values.get("params", {}).items()}
        try:
            answer = ctx.services.http_lookup(ctx.render(self.get("url")), params, float(self.get("timeout")))
        except LookupFailed:
            log.warning("flow %s node %s: http lookup failed, taking the fallback", ctx.flow.name, self.name)
            ctx.visit(f"{self.name}:error")
            return self.get("on_error") or self.get("not_found")
        ctx.variables[self.get("save_as")] = answer or {}
        outcome = "found" if answer else "not_found"
        ctx.visit(f"{self.name}:{outcome}")
        return self.get(outcome)
