"""The switches one controller drives: one InboundClient per FreeSWITCH node, and which node each call is on.

A call's commands (uuid_break, uuid_transfer, eavesdrop...) must reach the switch that holds its channel:
`client_for(call_uuid)` is that one lookup. Calls the controller places itself go to a live node in turn.
"""

from __future__ import annotations

import logging
import re
from collections import OrderedDict
from collections.abc import Callable, Iterable

import gevent

from ccctl.config import EslSettings
from ccctl.esl.inbound import EslUnavailable, InboundClient

log = logging.getLogger("ccctl.esl.nodes")

CALLS_KEPT = 20000  # calls whose node is remembered; the oldest are forgotten first
WATCH_SECONDS = 1.0  # how often a node's connection is looked at for node_lost / node_back
NodeHandler = Callable[[str], None]
_CHANNEL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE)


class SwitchNodes:
    """InboundClients by node name (the first is the default node), and the node of every known call."""

    def __init__(self, clients: dict[str, InboundClient]) -> None:
        if not clients:
            raise ValueError("at least one switch node is needed")
        self.clients = dict(clients)
        self._calls: OrderedDict[str, str] = OrderedDict()
        self._turn = 0
        self._up: dict[str, bool] = {name: False for name in self.clients}
        self._connects: dict[str, int] = {name: 0 for name in self.clients}
        self._lost_handlers: list[NodeHandler] = []
        self._back_handlers: list[NodeHandler] = []
        self._watch: gevent.Greenlet | None = None

    @classmethod
    def from_settings(cls, esl: EslSettings, default_name: str = "") -> SwitchNodes:
        """esl.nodes, or the one switch at esl.inbound_host/inbound_port (named `default_name`)."""
        listed = [(n.name, n.host, n.port) for n in esl.nodes] or [(default_name, esl.inbound_host, esl.inbound_port)]
        return cls(
            {
                name: InboundClient(host, port, esl.password, esl.reconnect_seconds, esl.command_timeout)
                for name, host, port in listed
            }
        )

    # -- life cycle -----------------------------------------------------------------

    def start(self) -> None:
        for client in self.clients.values():
            client.start()
        self._watch = gevent.spawn(self._watch_forever)

    def stop(self) -> None:
        if self._watch is not None:
            self._watch.kill(block=True, timeout=1)
            self._watch = None
        for client in self.clients.values():
            client.stop()

    @property
    def default(self) -> InboundClient:
        """The first node's client (the only one with a single switch)."""
        return next(iter(self.clients.values()))

    def wait_connected(self, timeout: float | None = None) -> bool:
        """Whether every node connected within `timeout` seconds."""
        return all(client.wait_connected(timeout) for client in self.clients.values())

    # -- which node ----------------------------------------------------------------

    def learn(self, call_uuid: str, node: str) -> None:
        """The call's channel is on `node` (its FreeSWITCH-Switchname); a name we do not drive is ignored."""
        if call_uuid and node in self.clients:
            self._calls[call_uuid] = node
            self._calls.move_to_end(call_uuid)
            while len(self._calls) > CALLS_KEPT:
                self._calls.popitem(last=False)

    def forget(self, call_uuid: str) -> None:
        self._calls.pop(call_uuid, None)

    def node_of(self, call_uuid: str) -> str:
        """The node a call is on ("" when not known here)."""
        return self._calls.get(call_uuid, "")

    def client_for(self, key: str) -> InboundClient:
        """The client of node `key`, or of the node call `key` is on.

        A call not learnt from its socket (an agent's leg, a caller another controller drove) is looked
        for with uuid_exists on the connected nodes; when none has it, the default node answers (and
        says there is no such channel).
        """
        if key in self.clients:
            return self.clients[key]
        node = self._calls.get(key)
        if node is None and len(self.clients) > 1:
            node = self._find(key)
        return self.clients[node] if node else self.default

    def client_for_command(self, command: str) -> InboundClient:
        """The node of the first channel an API command names (`uuid_kill <uuid>`, `originate ...
        &eavesdrop(<uuid>)`); a command naming no channel goes to the default node."""
        named = _CHANNEL_UUID.search(command)
        return self.client_for(named.group(0)) if named else self.default

    def exists(self, call_uuid: str) -> bool | None:
        """Whether a call's channel is still up on some node; None when that cannot be known now
        (its node, or a node that might hold it, is not connected)."""
        node = self._calls.get(call_uuid)
        candidates = [node] if node else list(self.clients)
        unknown = False
        for name in candidates:
            try:
                if self.clients[name].api(f"uuid_exists {call_uuid}", timeout=5).strip() == "true":
                    self.learn(call_uuid, name)
                    return True
            except EslUnavailable:
                unknown = True
        return None if unknown else False

    def next_live(self) -> InboundClient | None:
        """A connected node's client, each in turn (calls we place: callbacks, campaigns); None if all are down."""
        names = list(self.clients)
        for step in range(len(names)):
            name = names[(self._turn + step) % len(names)]
            if self.clients[name].state.status == "connected":
                self._turn = (self._turn + step + 1) % len(names)
                return self.clients[name]
        return None

    def name_of(self, client: InboundClient) -> str:
        return next((name for name, known in self.clients.items() if known is client), "")

    def _find(self, call_uuid: str) -> str:
        for name, client in self.clients.items():
            try:
                if client.api(f"uuid_exists {call_uuid}", timeout=5).strip() == "true":
                    self.learn(call_uuid, name)
                    return name
            except EslUnavailable:
                continue
        return ""

    # -- events and health ------------------------------------------------------------

    def subscribe(self, names: Iterable[str]) -> None:
        names = list(names)
        for client in self.clients.values():
            client.subscribe(names)

    def on(self, name: str, handler: Callable) -> None:
        """handler(node, event) for every event `name` from any node."""
        for node, client in self.clients.items():
            client.on(name, lambda event, node=node: handler(node, event))

    def on_lost(self, handler: NodeHandler) -> None:
        """handler(node) when a node that was connected stops answering."""
        self._lost_handlers.append(handler)

    def on_back(self, handler: NodeHandler) -> None:
        """handler(node) when a node connects again after it was lost."""
        self._back_handlers.append(handler)

    def states(self) -> list[dict]:
        """Each node's connection, for `ccctl status` and the wallboard."""
        return [
            {"name": name, "status": c.state.status, "address": c.state.address, "last_error": c.state.last_error}
            for name, c in self.clients.items()
        ]

    def check(self) -> None:
        """Tell the handlers of each node whose connection went down or came back since the last check
        (a node that connected and dropped between two checks is lost too)."""
        for name, client in self.clients.items():
            up, connects = client.state.status == "connected", client.state.connects
            was, seen = self._up[name], self._connects[name]
            self._up[name], self._connects[name] = up, connects
            lost = not up and (was or connects > seen)
            back = up and not was and connects > 1  # the first connect is no "back"
            if lost:
                log.warning("FreeSWITCH node %s (%s) lost: %s", name, client.state.address, client.state.last_error)
            for handler in self._lost_handlers if lost else self._back_handlers if back else []:
                try:
                    handler(name)
                except Exception:
                    log.exception("node %s: handler failed", name)

    def _watch_forever(self) -> None:
        while True:
            self.check()
            gevent.sleep(WATCH_SECONDS)


class EveryNode:
    """The inbound client's surface for work that is no one call's (campaigns, faxes): events from every node,
    a new call (bgapi) on a live node in turn, and a command naming a call on that call's node."""

    def __init__(self, nodes: SwitchNodes) -> None:
        self.nodes = nodes
        self._jobs: OrderedDict[str, InboundClient] = OrderedDict()  # bgapi job -> the client that runs it

    def subscribe(self, names: Iterable[str]) -> None:
        self.nodes.subscribe(names)

    def on(self, name: str, handler: Callable) -> None:
        for client in self.nodes.clients.values():
            client.on(name, handler)

    def api(self, command: str, timeout: float | None = None) -> str:
        return self.nodes.client_for_command(command).api(command, timeout)

    def bgapi(self, command: str, timeout: float | None = None) -> str:
        client = self.nodes.next_live() or self.nodes.default  # none live: the default says why it cannot
        job = client.bgapi(command, timeout)
        self._jobs[job] = client
        while len(self._jobs) > CALLS_KEPT:
            self._jobs.popitem(last=False)
        return job

    def wait_job(self, job_uuid: str, timeout: float | None = None) -> str:
        return self._jobs.pop(job_uuid, self.nodes.default).wait_job(job_uuid, timeout)

    def live(self) -> bool:
        """Some node is connected: a new call (bgapi) has a switch to go to."""
        return any(client.state.status == "connected" for client in self.nodes.clients.values())
