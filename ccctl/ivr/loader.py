"""Reading one flow file: top-level keys, node names, node types and their schemas.

Produces the nodes and every schema error (file, line, node); graph and reference
checks across nodes and files are ccctl.ivr.checker's.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ccctl.ivr.errors import FlowError
from ccctl.ivr.flow_yaml import LineDict, load_yaml
from ccctl.ivr.node_types import NODE_TYPES
from ccctl.ivr.nodes.base import NAME, Node

TOP_KEYS = ("flow", "description", "language", "languages", "start", "holidays", "nodes")


@dataclass
class FlowFile:
    """A flow file as read, before its references to other files are resolved."""

    name: str
    source: str
    digest: str
    data: LineDict = field(default_factory=LineDict)
    nodes: dict[str, Node] = field(default_factory=dict)
    start: str = ""
    errors: list[FlowError] = field(default_factory=list)
    broken: set[str] = field(default_factory=set)  # nodes too broken to build; edges to them are not errors too

    def error(self, line: int | None, node: str | None, message: str) -> None:
        self.errors.append(FlowError(self.source, line, node, message))

    def top(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)


def flow_name(path: Path, flows_dir: Path) -> str:
    """`main` for ivr_flows/main.yaml, `shared/complaint` for ivr_flows/shared/complaint.yaml."""
    try:
        return path.resolve().relative_to(flows_dir.resolve()).with_suffix("").as_posix()
    except ValueError:
        return path.stem


def read_flow_file(path: Path, name: str, display: str | None = None) -> FlowFile:
    display = display or str(path)
    try:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()[:10]
    except OSError:
        digest = "unreadable"
    flow = FlowFile(name=name, source=display, digest=digest)
    data, error = load_yaml(path, display)
    if error:
        flow.errors.append(error)
        return flow
    if not isinstance(data, LineDict):
        flow.error(None, None, "a flow file is a mapping with a 'nodes' mapping")
        return flow
    flow.data = data
    _check_top(flow)
    nodes = data.get("nodes")
    if isinstance(nodes, LineDict):
        _read_nodes(flow, nodes)
    return flow


def _check_top(flow: FlowFile) -> None:
    data = flow.data
    for key in data:
        if key not in TOP_KEYS:
            flow.error(data.line_of(key), None, f"unknown top-level key '{key}' (known: {', '.join(TOP_KEYS)})")
    for key, line in data.duplicates:
        flow.error(line, None, f"top-level key '{key}' appears twice")
    if "nodes" not in data:
        flow.error(data.line, None, "missing required key 'nodes'")
    elif not isinstance(data["nodes"], LineDict) or not data["nodes"]:
        flow.error(data.line_of("nodes"), None, "'nodes' must be a mapping of node name: node")
    declared = data.get("flow")
    if declared is not None and str(declared) != flow.name.rsplit("/", 1)[-1]:
        flow.error(data.line_of("flow"), None, f"'flow: {declared}' does not match the file name '{flow.name}'")
    for key in ("description", "language", "start", "holidays"):
        if key in data and not isinstance(data[key], str):
            flow.error(data.line_of(key), None, f"'{key}' must be text, got {data[key]!r}")
    languages = data.get("languages", [])
    if not isinstance(languages, list) or not all(isinstance(x, str) for x in languages):
        flow.error(data.line_of("languages"), None, "'languages' must be a list like [en, zh, pl]")


def _read_nodes(flow: FlowFile, nodes: LineDict) -> None:
    for name, line in nodes.duplicates:
        first = nodes.line_of(name)
        flow.error(line, str(name), f"duplicate node name (first defined on line {first})")
    for name, raw in nodes.items():
        line = nodes.line_of(name)
        name = str(name)
        flow.broken.add(name)
        if not NAME.match(name):
            flow.error(line, name, "node names are letters, digits and _, starting with a letter")
            continue
        if not isinstance(raw, LineDict):
            flow.error(line, name, "a node is a mapping with a 'type' key")
            continue
        node_type = raw.get("type")
        if node_type is None:
            flow.error(raw.line, name, "missing required key 'type'")
            continue
        cls = NODE_TYPES.get(str(node_type))
        if cls is None:
            known = ", ".join(sorted(NODE_TYPES))
            flow.error(raw.line_of("type"), name, f"unknown node type '{node_type}' (known: {known})")
            continue
        flow.broken.discard(name)
        for key, dup_line in raw.duplicates:
            flow.error(dup_line, name, f"key '{key}' appears twice")

        def report(at: int, message: str, node: str = name) -> None:
            flow.error(at, node, message)

        flow.nodes[name] = cls.parse(name, raw, report)
    start = flow.data.get("start")
    flow.start = str(start) if start else next(iter(nodes), "")
