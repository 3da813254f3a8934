"""Checks across the nodes of a flow: targets exist, every node is reachable, no loop traps a call.

A loop traps a call when none of its nodes waits for the caller and none can leave
it: the call would spin without a prompt. Reference checks (prompt files, prompt
texts, sub-flows, the holiday calendar) ask each node with a CheckEnv.
"""

from __future__ import annotations

from collections.abc import Iterable

from ccctl.ivr.loader import FlowFile
from ccctl.ivr.nodes.base import CheckEnv, Node


def check_graph(flow: FlowFile) -> None:
    """Add graph errors of a read flow to flow.errors."""
    nodes = flow.nodes
    if not nodes:
        return
    if flow.start in flow.broken:
        return
    if flow.start not in nodes:
        flow.error(flow.data.line_of("start"), None, f"'start' names '{flow.start}', which is not a node of this flow")
        return
    for node in nodes.values():
        for key, target, line in node.edges():
            if target not in nodes and target not in flow.broken:
                flow.error(line, node.name, f"'{key}' goes to '{target}', which is not a node of this flow")
        node.check_in_flow(nodes, lambda line, message, name=node.name: flow.error(line, name, message))
    # one error per dead region, at its first node: a typo in one `next` must not report twenty nodes
    covered = _reachable(nodes, flow.start)
    for name, node in sorted(nodes.items(), key=lambda item: item[1].line):
        if name not in covered:
            flow.error(node.line, name, f"unreachable: no path leads here from the start node '{flow.start}'")
            covered |= _reachable(nodes, name)
    for loop in _loops(nodes):
        members = [nodes[name] for name in loop]
        if any(n.waits_for_input for n in members) or any(_leaves(n, set(loop), nodes) for n in members):
            continue
        first = min(members, key=lambda n: n.line)
        cycle = " -> ".join(sorted(loop, key=lambda name: nodes[name].line))
        flow.error(first.line, first.name, f"loop with no exit and no caller input: {cycle} -> {first.name}")


def check_references(flow: FlowFile, env: CheckEnv) -> None:
    for node in flow.nodes.values():

        def report(line: int, message: str, name: str = node.name) -> None:
            flow.error(line, name, message)

        node.check_references(env, report)


def _targets(node: Node, nodes: dict[str, Node]) -> list[str]:
    return [target for _, target, _ in node.edges() if target in nodes]


def _reachable(nodes: dict[str, Node], start: str) -> set[str]:
    seen, todo = {start}, [start]
    while todo:
        for target in _targets(nodes[todo.pop()], nodes):
            if target not in seen:
                seen.add(target)
                todo.append(target)
    return seen


def _leaves(node: Node, loop: set[str], nodes: dict[str, Node]) -> bool:
    if node.can_end():
        return True
    return any(target not in loop for _, target, _ in node.edges())


def _loops(nodes: dict[str, Node]) -> Iterable[list[str]]:
    """Strongly connected components that contain a cycle (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    for root in nodes:
        if root in index:
            continue
        work = [(root, iter(_targets(nodes[root], nodes)))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            name, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(_targets(nodes[child], nodes))))
                elif child in on_stack:
                    low[name] = min(low[name], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[name])
            if low[name] == index[name]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == name:
                        break
                if len(component) > 1 or name in _targets(nodes[name], nodes):
                    yield component
