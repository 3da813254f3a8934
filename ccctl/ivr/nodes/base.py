"""The shape every node type shares: a schema of fields, checks, edges, and a run.

A node type is one class with its `fields` schema next to it (jambonz verbs). Parsing
and checking happen at load; `run` is a generator that yields dialplan commands,
receives their AppResults and returns the name of the next node (None: the flow ends).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Generator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from ccctl.callflow import AppResult, Command
from ccctl.ivr.flow_yaml import LineDict
from ccctl.ivr.prompts import PromptSet, prompt_reference_error, prompt_syntax_error
from ccctl.ivr.services import KbAnswers
from ccctl.ivr.templates import expression_error, template_error

if TYPE_CHECKING:
    from ccctl.ivr.run_context import RunContext

Steps = Generator[Command, AppResult, "str | None"]
Report = Callable[[int, str], None]  # (line, message) for this node
NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class Field:
    """One key of a node: what kind of value, whether required, its default."""

    kind: str  # text, name, int, seconds, bool, prompt, tts, node, template, expression, regex, mapping, list
    required: bool = False
    default: Any = None
    # a missing target of this kind ends the flow (hang up, or return from a sub-flow)
    ends_when_absent: bool = False


@dataclass(frozen=True)
class KnownQueues:
    """The ACD queues a queue node may name, and where that list came from (for the error)."""

    names: frozenset[str]
    source: str  # "the database", "the demo seed"


@dataclass(frozen=True)
class CheckEnv:
    """What reference checks need from outside the flow file."""

    prompts_dir: Path
    prompt_sets: dict[str, PromptSet]
    languages: list[str]
    flow_names: frozenset[str]
    has_calendar: bool
    kb: KbAnswers | None = None  # the knowledge base kb nodes speak from; None: none was given
    queues: KnownQueues | None = None  # the ACD queues queue nodes may name; None: not checked
    # the survey files under the flows folder (surveys/<name>.yaml) survey nodes may name; None: not checked
    survey_names: frozenset[str] | None = None


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


_KIND_RULES: dict[str, tuple[Callable[[Any], bool], str]] = {
    "text": (lambda v: isinstance(v, str) or _is_number(v), "text"),
    "name": (lambda v: isinstance(v, str) and bool(NAME.match(v)), "a name (letters, digits, _)"),
    "int": (lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 0, "a whole number"),
    "seconds": (lambda v: _is_number(v) and v >= 0, "a number of seconds"),
    "bool": (lambda v: isinstance(v, bool), "true or false"),
    "prompt": (lambda v: isinstance(v, str) and v != "", "a prompt (say:..., text:key or a file)"),
    "tts": (lambda v: isinstance(v, str) and v != "", "a TTS prompt (say:... or text:key)"),
    "node": (lambda v: isinstance(v, str) and v != "", "a node name"),
    "template": (lambda v: isinstance(v, str), "text"),
    "expression": (lambda v: isinstance(v, str) and v != "", "a condition"),
    "regex": (lambda v: isinstance(v, str), "a regular expression"),
    "mapping": (lambda v: isinstance(v, dict), "a mapping"),
    "list": (lambda v: isinstance(v, list), "a list"),
}


def _shown(value: Any) -> str:
    return f"a {type(value).__name__}" if isinstance(value, (dict, list)) else repr(value)


class Node:
    """Base of all node types; subclasses set type_name and fields and implement run."""

    type_name: ClassVar[str] = ""
    fields: ClassVar[dict[str, Field]] = {}
    waits_for_input: ClassVar[bool] = False  # the caller can change where it goes next
    ends_call: ClassVar[bool] = False  # hangs up, transfers or bridges away

    def __init__(self, name: str, raw: LineDict, values: dict[str, Any]) -> None:
        self.name = name
        self.line = raw.line
        self.raw = raw
        self.values = values

    def get(self, key: str) -> Any:
        return self.values.get(key, self.fields[key].default)

    def line_of(self, key: str) -> int:
        return self.raw.line_of(key)

    @classmethod
    def parse(cls, name: str, raw: LineDict, report: Report) -> Node:
        """Type-check every key against the schema, then the node's own checks."""
        values: dict[str, Any] = {}
        for key in raw:
            if key in ("type", "description"):
                continue
            spec = cls.fields.get(key)
            if spec is None:
                known = ", ".join(sorted(cls.fields))
                report(raw.line_of(key), f"unknown key '{key}' for a {cls.type_name} node (known: {known})")
                continue
            valid, wanted = _KIND_RULES[spec.kind]
            if not valid(raw[key]):
                report(raw.line_of(key), f"'{key}' must be {wanted}, got {_shown(raw[key])}")
                continue
            values[key] = raw[key]
        for key, spec in cls.fields.items():
            if spec.required and key not in raw:
                report(raw.line, f"missing required key '{key}' for a {cls.type_name} node")
        node = cls(name, raw, values)
        node.check_syntax(report)
        return node

    def check_syntax(self, report: Report) -> None:
        """Prompts, templates, conditions and regexes that cannot work, whatever else exists."""
        for key, value in self.values.items():
            kind = self.fields[key].kind
            problem = None
            if kind in ("prompt", "tts"):
                problem = prompt_syntax_error(value, files_allowed=kind == "prompt")
            elif kind == "template":
                found = template_error(value)
                problem = f"Jinja2: {found[1]}" if found else None
            elif kind == "expression":
                found_expr = expression_error(value)
                problem = f"Jinja2: {found_expr}" if found_expr else None
            elif kind == "regex":
                problem = regex_error(value)
            if problem:
                report(self.line_of(key), f"'{key}': {problem}")

    def check_references(self, env: CheckEnv, report: Report) -> None:
        """Prompt files and prompt texts that must exist outside the flow file."""
        for key, value in self.values.items():
            if self.fields[key].kind in ("prompt", "tts"):
                problem = prompt_reference_error(value, env.prompts_dir, env.prompt_sets, env.languages)
                if problem:
                    report(self.line_of(key), f"'{key}': {problem}")

    def check_in_flow(self, nodes: dict[str, Node], report: Report) -> None:
        """References to other nodes of the flow that are not ways out (a callback_request's `hours`)."""

    def edges(self) -> list[tuple[str, str, int]]:
        """(key, target node, line) of every way out of this node."""
        return [
            (key, value, self.line_of(key)) for key, value in self.values.items() if self.fields[key].kind == "node"
        ]

    def can_end(self) -> bool:
        """Whether this node can end the flow (so a loop through it has a way out)."""
        if self.ends_call:
            return True
        return any(spec.ends_when_absent and key not in self.values for key, spec in self.fields.items())

    def describe(self) -> str:
        """One line for `ccctl flow show`."""
        return self.type_name

    def run(self, ctx: RunContext) -> Steps:
        raise NotImplementedError
        yield  # pragma: no cover - makes this a generator


def regex_error(pattern: str) -> str | None:
    try:
        re.compile(pattern)
    except re.error as exc:
        return f"bad regular expression {pattern!r} ({exc})"
    return None
