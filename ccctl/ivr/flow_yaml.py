"""YAML for flow files with the line of every mapping, key and list kept.

A SafeLoader subclass (like ccctl/config.py's) that builds LineDict/LineList so the
checker can name the line an admin has to fix, and that notices duplicate keys.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from ccctl.ivr.errors import FlowError


class LineDict(dict):
    """A mapping from YAML that knows its own line and the line of each key."""

    line: int = 0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.key_lines: dict[Any, int] = {}
        self.duplicates: list[tuple[Any, int]] = []

    def line_of(self, key: Any) -> int:
        return self.key_lines.get(key, self.line)


class LineList(list):
    """A sequence from YAML that knows its line."""

    line: int = 0


class _FlowLoader(yaml.SafeLoader):
    """SafeLoader building LineDict/LineList."""


def _construct_mapping(loader: _FlowLoader, node: yaml.MappingNode) -> LineDict:
    mapping = LineDict()
    mapping.line = node.start_mark.line + 1
    loader.flatten_mapping(node)
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if isinstance(key, (int, float)) and not isinstance(key, bool):
            key = str(key)  # menu digits written unquoted
        line = key_node.start_mark.line + 1
        if key in mapping:
            mapping.duplicates.append((key, line))
            continue
        mapping[key] = loader.construct_object(value_node, deep=True)
        mapping.key_lines[key] = line
    return mapping


def _construct_sequence(loader: _FlowLoader, node: yaml.SequenceNode) -> LineList:
    items = LineList(loader.construct_object(child, deep=True) for child in node.value)
    items.line = node.start_mark.line + 1
    return items


_FlowLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_FlowLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)


def load_yaml(path: Path, display: str) -> tuple[Any, FlowError | None]:
    """The document in path, or the error that stops reading it (named by display)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        return None, FlowError(display, None, None, f"cannot read the file ({exc.strerror})")
    except UnicodeDecodeError:
        return None, FlowError(display, None, None, "the file is not UTF-8 text")
    try:
        return yaml.load(text, Loader=_FlowLoader), None  # noqa: S506 - SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else None
        return None, FlowError(display, line, None, f"not valid YAML ({getattr(exc, 'problem', None) or exc})")
