"""The inbound Event Socket server (mod_event_socket on 8021): auth/request, then commands.

Each connection is a Listener in its own greenlet; a wrong password gets `-ERR invalid`
and the goodbye notice, as listener_run does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gevent.server import StreamServer

from ccctl.sim.command_reader import CommandReader, ConnectionDropped
from ccctl.sim.listener import Listener

if TYPE_CHECKING:
    from ccctl.sim.switch import Switch


class InboundServer:
    """Accepts ESL clients on (host, port); port 0 picks a free one."""

    def __init__(self, switch: Switch, host: str, port: int) -> None:
        self.switch = switch
        self.listeners: set[Listener] = set()
        self.server = StreamServer((host, port), self._handle)

    def start(self) -> None:
        self.server.start()

    @property
    def address(self) -> tuple[str, int]:
        host, port = self.server.address[:2]
        return host, port

    def stop(self) -> None:
        self.server.stop(timeout=1)
        for listener in list(self.listeners):
            listener.stop()

    def _handle(self, sock, address) -> None:
        listener = Listener(self.switch, sock)
        self.listeners.add(listener)
        try:
            listener.send(b"Content-Type: auth/request\n\n")
            reader = CommandReader(sock)
            try:
                # listener_run reads one command in the auth phase, whatever it is
                text = listener.handle(reader.read_command())
            except ConnectionDropped:
                listener.stop()
                return
            if text:
                listener.reply(text)
            listener.serve(reader)
        finally:
            self.listeners.discard(listener)
