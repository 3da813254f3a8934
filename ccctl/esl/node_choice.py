"""Which switch a command-line tool opens its own event socket to (`ccctl fax send`, `monitor`, `transfer`).

A tool that acts on an agent's call must reach the node holding the agent's channel: the node on the
queued call's record, else the node the agent's phone is registered through (the caller finds them in the
database: acd/monitor.py agent_node); one that places a call may use any node, the first that answers.
Each try is announced before it waits, and a node that does not answer costs CONNECT_SECONDS, never more.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from ccctl.config import EslNode, EslSettings
from ccctl.errors import UserError
from ccctl.esl.inbound import InboundClient

CONNECT_SECONDS = 5.0  # a switch that is up answers its event socket at once
Announce = Callable[[EslNode], None]


class NodeUnreachable(UserError):
    """No node the tool may use answered; str() names each node tried and why."""


def configured_nodes(esl: EslSettings) -> list[EslNode]:
    """esl.nodes, or the one switch at esl.inbound_host/inbound_port (named "default")."""
    return list(esl.nodes) or [EslNode("default", esl.inbound_host, esl.inbound_port)]


def nodes_to_try(esl: EslSettings, node: str = "", option: str = "--node") -> list[EslNode]:
    """`node` alone when named (refused when it is not in esl.nodes), else every configured node in order."""
    listed = configured_nodes(esl)
    if not node:
        return listed
    chosen = [n for n in listed if n.name == node]
    if not chosen:
        names = ", ".join(n.name for n in listed)
        raise NodeUnreachable(f"{option} {node}: not a node in esl.nodes (known: {names})")
    return chosen


def nodes_holding(esl: EslSettings, node: str) -> list[EslNode]:
    """The known node of a channel alone (it is only there: never replaced by another); when it is unknown
    or not in esl.nodes (one switch), every configured node in order, the first that answers to be used."""
    listed = configured_nodes(esl)
    return [n for n in listed if n.name == node] or listed


def describe(node: EslNode) -> str:
    return f"node {node.name} at {node.host}:{node.port}"


def connect_first(
    esl: EslSettings, nodes: list[EslNode], announce: Announce, seconds: float = CONNECT_SECONDS
) -> tuple[EslNode, InboundClient]:
    """A started InboundClient to the first of `nodes` that answers within `seconds`, and that node."""
    failures = []
    for node in nodes:
        announce(node)
        client = InboundClient(node.host, node.port, esl.password, command_timeout=esl.command_timeout)
        client.start()
        if _answers(client, seconds):
            return node, client
        failures.append(f"{describe(node)}: {client.state.last_error or 'no answer'}")
        client.stop()
    raise NodeUnreachable(
        f"FreeSWITCH's event socket did not answer within {seconds:g} s ({'; '.join(failures)}); "
        "is FreeSWITCH running? (esl.nodes, esl.inbound_host, esl.inbound_port)"
    )


def _answers(client: InboundClient, seconds: float) -> bool:
    """Connected within `seconds`; a first attempt refused (nothing listening, a wrong password) is an answer
    too, a negative one, so the next node is tried at once."""
    deadline = time.monotonic() + seconds
    while not client.wait_connected(0.05):
        if client.state.last_error or time.monotonic() > deadline:
            return False
    return True
