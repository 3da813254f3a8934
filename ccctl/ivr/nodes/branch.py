"""The branch node: the first rule whose conditions all hold decides (time, weekday, holiday, variables).

Queue statistics conditions come with the ACD; `when` takes any Jinja2 condition
over the call's variables already (`patient and patient.member`, `language == 'zh'`).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from ccctl.ivr.nodes.base import CheckEnv, Field, Node, Report, Steps
from ccctl.ivr.run_context import RunContext
from ccctl.ivr.templates import expression_error

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
RULE_KEYS = ("when", "time", "weekday", "holiday", "next")
_SPAN = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


@dataclass(frozen=True)
class Rule:
    next: str
    line: int
    next_line: int
    when: str | None = None
    spans: tuple[tuple[dt.time, dt.time], ...] = ()
    weekdays: frozenset[int] = frozenset()
    holiday: bool | None = None

    def label(self) -> str:
        parts = []
        if self.holiday is not None:
            parts.append("holiday" if self.holiday else "not holiday")
        if self.weekdays:
            parts.append(",".join(WEEKDAYS[d] for d in sorted(self.weekdays)))
        parts += [f"{a:%H:%M}-{b:%H:%M}" for a, b in self.spans]
        if self.when:
            parts.append(self.when)
        return " ".join(parts)

    def holds(self, ctx: RunContext, now: dt.datetime) -> bool:
        return self.holds_at(ctx.flow.calendar, now) and (self.when is None or ctx.is_true(self.when))

    def holds_at(self, calendar, now: dt.datetime) -> bool:
        """The rule's time, weekday and holiday tests alone (not `when`, which needs a call)."""
        if self.spans and not any(start <= now.time() < end for start, end in self.spans):
            return False
        if self.weekdays and now.weekday() not in self.weekdays:
            return False
        if self.holiday is not None:
            on_holiday = bool(calendar and calendar.holiday_on(now.date()))
            if on_holiday != self.holiday:
                return False
        return True


def parse_spans(value: object) -> tuple[tuple[dt.time, dt.time], ...] | None:
    """'08:00-17:30' or a list of them; None when malformed."""
    items = value if isinstance(value, list) else [value]
    spans = []
    for item in items:
        match = _SPAN.match(str(item)) if isinstance(item, str) else None
        if not match:
            return None
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        if h1 > 23 or h2 > 24 or m1 > 59 or m2 > 59 or (h2 == 24 and m2):
            return None
        end = dt.time.max if h2 == 24 else dt.time(h2, m2)
        spans.append((dt.time(h1, m1), end))
    return tuple(spans)


def parse_weekdays(value: object) -> frozenset[int] | None:
    """'mon-fri', 'sat,sun' or a list of day names; None when malformed."""
    parts = value if isinstance(value, list) else str(value).split(",")
    days: set[int] = set()
    for part in parts:
        text = str(part).strip().lower()
        first, _, last = text.partition("-")
        if first not in WEEKDAYS or (last and last not in WEEKDAYS):
            return None
        a, b = WEEKDAYS.index(first), WEEKDAYS.index(last or first)
        days.update(range(a, b + 1) if a <= b else [*range(a, 7), *range(0, b + 1)])
    return frozenset(days)


class BranchNode(Node):
    """Go to the `next` of the first matching rule, else to `default`."""

    type_name = "branch"
    fields = {
        "rules": Field("list", required=True),
        "default": Field("node", required=True),
    }

    def __init__(self, name, raw, values) -> None:
        super().__init__(name, raw, values)
        self.rules: list[Rule] = []

    def check_syntax(self, report: Report) -> None:
        super().check_syntax(report)
        for entry in self.values.get("rules", []):
            rule = self._rule(entry, self.values["rules"].line, report)
            if rule:
                self.rules.append(rule)

    def _rule(self, entry: object, list_line: int, report: Report) -> Rule | None:
        if not isinstance(entry, dict):
            report(list_line, "each rule is a mapping with conditions and 'next'")
            return None
        bad = [k for k in entry if k not in RULE_KEYS]
        for key in bad:
            report(entry.line_of(key), f"unknown rule key '{key}' (known: {', '.join(RULE_KEYS)})")
        if not isinstance(entry.get("next"), str):
            report(entry.line, "a rule needs 'next': the node to go to")
            return None
        if not any(k in entry for k in RULE_KEYS if k != "next"):
            report(entry.line, "a rule needs a condition: when, time, weekday or holiday")
        when, spans, days, holiday = entry.get("when"), (), frozenset(), entry.get("holiday")
        if when is not None and (not isinstance(when, str) or expression_error(when)):
            problem = expression_error(when) if isinstance(when, str) else "must be text"
            report(entry.line_of("when"), f"'when': Jinja2: {problem}")
        if "time" in entry and (spans := parse_spans(entry["time"])) is None:
            report(entry.line_of("time"), f"'time' must be HH:MM-HH:MM, got {entry['time']!r}")
        if "weekday" in entry and (days := parse_weekdays(entry["weekday"])) is None:
            report(
                entry.line_of("weekday"), f"'weekday' must be days like mon-fri or [sat, sun], got {entry['weekday']!r}"
            )
        if holiday is not None and not isinstance(holiday, bool):
            report(entry.line_of("holiday"), f"'holiday' must be true or false, got {holiday!r}")
        return Rule(entry["next"], entry.line, entry.line_of("next"), when, spans or (), days or frozenset(), holiday)

    def check_references(self, env: CheckEnv, report: Report) -> None:
        super().check_references(env, report)
        if any(rule.holiday is not None for rule in self.rules) and not env.has_calendar:
            report(self.line, "a rule tests 'holiday' but the flow names no 'holidays' calendar")

    def edges(self) -> list[tuple[str, str, int]]:
        found = [(f"rules[{i}]({rule.label()})", rule.next, rule.next_line) for i, rule in enumerate(self.rules, 1)]
        return (
            found + [("default", self.values["default"], self.line_of("default"))]
            if "default" in self.values
            else found
        )

    def describe(self) -> str:
        return f"branch ({len(self.rules)} rules)"

    def run(self, ctx: RunContext) -> Steps:
        now = ctx.now()
        for index, rule in enumerate(self.rules, 1):
            if rule.holds(ctx, now):
                ctx.visit(f"{self.name}:rule{index}")
                return rule.next
        ctx.visit(f"{self.name}:default")
        return self.get("default")
        yield  # pragma: no cover - a generator that sends no command
