"""A small XML dialplan executor for the standard FreeSWITCH format (mod_dialplan_xml).

Contexts, extensions (continue), conditions on a caller field or ${variable} with break
on-false/on-true/always/never, actions, anti-actions, inline set, and $1 substitution.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ccctl.sim.channel import Channel

_PROFILE_FIELDS = {
    "destination_number": lambda ch: ch.destination,
    "caller_id_number": lambda ch: ch.caller_number,
    "ani": lambda ch: ch.caller_number,
    "caller_id_name": lambda ch: ch.caller_name,
    "context": lambda ch: ch.context,
    "uuid": lambda ch: ch.uuid,
    "source": lambda ch: ch.source,
    "chan_name": lambda ch: ch.name,
    "dialplan": lambda ch: "XML",
}


class DialplanError(ValueError):
    """A dialplan that cannot be used; the message names the element at fault."""


@dataclass
class Action:
    application: str
    data: str | None
    inline: bool = False


@dataclass
class Condition:
    field: str | None
    expression: re.Pattern | None
    break_on: str  # on-false, on-true, always, never
    actions: list[Action] = field(default_factory=list)
    anti_actions: list[Action] = field(default_factory=list)


@dataclass
class Extension:
    name: str
    keep_going: bool  # continue="true"
    conditions: list[Condition]


@dataclass
class Dialplan:
    contexts: dict[str, list[Extension]]

    @classmethod
    def from_xml(cls, text: str, source: str = "<dialplan>") -> Dialplan:
        try:
            root = ET.fromstring(text)
        except ET.ParseError as exc:
            raise DialplanError(f"{source}: not valid XML ({exc})") from exc
        contexts: dict[str, list[Extension]] = {}
        nodes = [root] if root.tag == "context" else list(root.iter("context"))
        for ctx in nodes:
            name = ctx.get("name")
            if not name:
                raise DialplanError(f"{source}: a <context> has no name attribute")
            contexts.setdefault(name, []).extend(_extension(e, source) for e in ctx.findall("extension"))
        if not contexts:
            raise DialplanError(f"{source}: no <context> element")
        return cls(contexts)

    @classmethod
    def from_file(cls, path: str) -> Dialplan:
        with open(path, encoding="utf-8") as handle:
            return cls.from_xml(handle.read(), source=path)

    @classmethod
    def default(cls, controller: str = "127.0.0.1:8084", did: str = "7000", hotline: str = "main") -> Dialplan:
        """One DID to the controller with cc_hotline set (tests and the demo)."""
        return cls.from_xml(
            f"""<include><context name="default">
  <extension name="hotline_{hotline}">
    <condition field="destination_number" expression="^({re.escape(did)})$">
      <action application="set" data="cc_hotline={hotline}"/>
      <action application="socket" data="{controller} async full"/>
    </condition>
  </extension>
</context></include>"""
        )

    def route(self, channel: Channel) -> list[tuple[str, str | None]] | None:
        """The applications to run for a call, or None when no extension matched."""
        extensions = self.contexts.get(channel.context)
        if extensions is None:
            return None
        found: list[tuple[str, str | None]] = []
        matched_any = False
        for extension in extensions:
            matched = _evaluate(extension, channel, found)
            matched_any = matched_any or matched
            if matched and not extension.keep_going:
                break
        return found if (matched_any or found) else None


def _extension(node: ET.Element, source: str) -> Extension:
    name = node.get("name", "")
    conditions = []
    for cond in node.findall("condition"):
        expr = cond.get("expression")
        try:
            pattern = re.compile(expr) if expr is not None else None
        except re.error as exc:
            raise DialplanError(f"{source}: extension {name!r}: bad expression {expr!r} ({exc})") from exc
        condition = Condition(cond.get("field"), pattern, cond.get("break", "on-false"))
        for act in cond:
            action = Action(act.get("application", ""), act.get("data"), act.get("inline", "") == "true")
            if act.tag == "action":
                condition.actions.append(action)
            elif act.tag == "anti-action":
                condition.anti_actions.append(action)
        conditions.append(condition)
    return Extension(name, node.get("continue", "") == "true", conditions)


def _field_value(condition: Condition, channel: Channel) -> str:
    name = condition.field or ""
    if name.startswith("${") or "$" in name:
        return channel.expand(name)
    getter = _PROFILE_FIELDS.get(name)
    if getter is not None:
        return getter(channel) or ""
    return channel.get_var(name) or ""


def _substitute(data: str | None, match: re.Match | None) -> str | None:
    if data is None or match is None:
        return data

    def group(m: re.Match) -> str:
        index = int(m.group(1))
        return (match.group(index) or "") if index <= (match.re.groups or 0) else ""

    return re.sub(r"\$(\d)", group, data)


def _evaluate(extension: Extension, channel: Channel, found: list[tuple[str, str | None]]) -> bool:
    """parse_exten: True when the extension matched (its conditions held until a break)."""
    matched = True
    for condition in extension.conditions:
        match = None
        if condition.expression is None:
            ok = True
        else:
            match = condition.expression.search(_field_value(condition, channel))
            ok = match is not None
        for action in condition.actions if ok else condition.anti_actions:
            data = _substitute(action.data, match)
            if action.inline and action.application == "set" and data:
                name, _, value = data.partition("=")
                channel.set_var(name, channel.expand(value))
            else:
                found.append((action.application, data))
        matched = ok
        stop = condition.break_on
        if (not ok and stop in ("on-false", "always")) or (ok and stop in ("on-true", "always")):
            break
    return matched
