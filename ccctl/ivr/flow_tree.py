"""`ccctl flow show`: a flow's nodes in the order a caller meets them, each with its ways out.

The sub-flows it calls follow, the same way.
"""

from __future__ import annotations

from ccctl.ivr.flow import Flow
from ccctl.ivr.nodes.control import SubflowNode


def format_flow(flow: Flow) -> str:
    """The flow and every sub-flow it calls, as text."""
    lines: list[str] = []
    for one in _flows(flow):
        if lines:
            lines.append("")
        lines.extend(_header(one))
        _walk(one, lines)
    return "\n".join(lines)


def flow_data(flow: Flow) -> list[dict]:
    """The flow and every sub-flow it calls, as data (`ccctl flow show --json`): each flow's nodes in the
    order a caller meets them, each with its ways out."""
    return [
        {
            "name": one.name,
            "sub_flow": one.is_subflow,
            "source": str(one.source),
            "version": one.version,
            "language": one.language,
            "nodes": [
                {
                    "name": name,
                    "type": one.nodes[name].type_name,
                    "describe": one.nodes[name].describe(),
                    "exits": {key: target for key, target, _ in one.nodes[name].edges()},
                    "may_end": one.nodes[name].can_end(),
                }
                for name in _order(one)
            ],
        }
        for one in _flows(flow)
    ]


def _flows(flow: Flow) -> list[Flow]:
    """The flow, then every sub-flow it calls, each once."""
    found, shown, todo = [flow], {flow.name}, _subflows(flow)
    while todo:
        name = todo.pop(0)
        if name in shown or flow.catalog is None or name not in flow.catalog.flows:
            continue
        shown.add(name)
        found.append(flow.catalog.flows[name])
        todo.extend(_subflows(found[-1]))
    return found


def _header(flow: Flow) -> list[str]:
    kind = "sub-flow" if flow.is_subflow else "flow"
    head = [f"{kind} {flow.name}  ({flow.source}, version {flow.version})"]
    if flow.description:
        head.append(f"  {flow.description}")
    languages = ", ".join(flow.languages) or (", ".join(flow.catalog.prompt_sets) if flow.catalog else "")
    head.append(f"  language {flow.language}" + (f"; prompt sets: {languages}" if languages else ""))
    if flow.calendar:
        head.append(f"  holidays: {flow.calendar.source} ({len(flow.calendar.holidays)} entries)")
    return head


def _order(flow: Flow) -> list[str]:
    """Node names in the order a caller meets them (breadth first from start)."""
    order, todo = [flow.start], [flow.start]
    while todo:
        for _, target, _ in flow.nodes[todo.pop(0)].edges():
            if target in flow.nodes and target not in order:
                order.append(target)
                todo.append(target)
    return order


def _walk(flow: Flow, lines: list[str]) -> None:
    """Nodes in the order a caller meets them, each with its ways out."""
    order = _order(flow)
    width = max(len(name) for name in order)
    for name in order:
        node = flow.nodes[name]
        lines.append(f"  {name.ljust(width)}  {node.describe()}")
        exits = [f"{key} -> {target}" for key, target, _ in node.edges()]
        if node.can_end() and not node.ends_call:
            exits.append("(may end here)")
        if exits:
            lines.append(f"  {' ' * width}    " + ", ".join(exits))


def _subflows(flow: Flow) -> list[str]:
    return [str(node.get("flow")) for node in flow.nodes.values() if isinstance(node, SubflowNode)]
