"""What the call flows can accept from a caller, so a value no call could ever use is refused where it enters.

A member PIN or member number is typed on the keypad into an `authenticate` node, which takes only
so many digits; a patient's language is only spoken when a prompt set exists for it. An 8-digit PIN
set by staff for flows that collect at most 6 would lock the member out of every call.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ccctl.errors import UserError
from ccctl.ivr.catalog import flow_files
from ccctl.ivr.loader import flow_name, read_flow_file
from ccctl.ivr.prompts import PROMPT_TEXT_DIR


class FlowsRefuse(UserError, ValueError):
    """A value the flows could never take from a caller; str() names the value's kind, the range and the flows."""


@dataclass(frozen=True)
class DigitsRange:
    low: int
    high: int
    where: str  # the authenticate node that narrows it most, FILE:LINE

    def holds(self, text: str) -> bool:
        return self.low <= len(text) <= self.high


@dataclass(frozen=True)
class FlowAccepts:
    """Lengths every authenticate node of the flows accepts (None: no such node) and the languages spoken."""

    flows_dir: str
    pin: DigitsRange | None = None
    member_number: DigitsRange | None = None
    languages: frozenset[str] = frozenset()

    def check_pin(self, pin: str) -> None:
        _check(self.pin, pin, "PIN")

    def check_member_number(self, number: str) -> None:
        _check(self.member_number, number, "member number")

    def check_language(self, language: str) -> None:
        if language and self.languages and language not in self.languages:
            spoken = ", ".join(sorted(self.languages))
            raise FlowsRefuse(
                f"language {language!r}: the flows speak {spoken} "
                f"(a language needs {self.flows_dir}/{PROMPT_TEXT_DIR}/{language}.yaml)"
            )


def _check(allowed: DigitsRange | None, value: str, what: str) -> None:
    if allowed is None or not value or allowed.holds(value):
        return
    digits = "digit" if len(value) == 1 else "digits"
    raise FlowsRefuse(
        f"a {what} of {len(value)} {digits} cannot be keyed in: the flows take {allowed.low} to {allowed.high} "
        f"(authenticate node at {allowed.where})"
    )


def _narrow(current: DigitsRange | None, low: int, high: int, where: str) -> DigitsRange:
    if current is None:
        return DigitsRange(low, high, where)
    # every hotline may ask: a value must suit the strictest node; name the node that sets the tighter bound
    new_low, new_high = max(current.low, low), min(current.high, high)
    tighter = where if (high < current.high or low > current.low) else current.where
    return DigitsRange(new_low, new_high, tighter)


def flow_accepts(flows_dir: str | Path) -> FlowAccepts:
    """Read the flows' authenticate nodes and prompt sets (a flow that does not parse is skipped:
    `ccctl flow check` reports it)."""
    flows_dir = Path(flows_dir)
    pin = member = None
    for path in flow_files(flows_dir) if flows_dir.is_dir() else []:
        flow = read_flow_file(path, flow_name(path, flows_dir))
        for node in flow.nodes.values():
            if node.type_name != "authenticate":
                continue
            where = f"{path}:{node.line}"
            pin = _narrow(pin, int(node.get("pin_min_length")), int(node.get("pin_max_length")), where)
            member = _narrow(member, int(node.get("member_min_length")), int(node.get("member_max_length")), where)
    languages = frozenset(p.stem for p in (flows_dir / PROMPT_TEXT_DIR).glob("*.yaml"))
    return FlowAccepts(str(flows_dir), pin, member, languages)
