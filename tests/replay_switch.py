"""A fake FreeSWITCH that replays one recorded transcript section over a socket.

It reads each command the controller sends, checks it against the recorded one
(command line and application name), then writes the frames FreeSWITCH wrote next.
"""

from __future__ import annotations

import re

from transcript import Section

from ccctl.sim.command_reader import CommandReader, ConnectionDropped
from ccctl.sim.command_reader import ControllerCommand as Command

_APP_UUID = re.compile(rb"Application-UUID: [0-9a-f-]{36}")


def recorded_command(data: bytes) -> Command:
    """A recorded `>>>` step as the switch would read it."""
    lines = [line for line in data.decode().split("\n") if line]
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return Command(lines[0], headers)


def without_command(section: Section, app: str) -> Section:
    """The section minus one `sendmsg execute <app>` step and the frames that answered it."""
    steps: list[tuple[str, bytes]] = []
    skipping = False
    for kind, data in section.steps:
        if kind == "send":
            skipping = recorded_command(data).headers.get("execute-app-name") == app
        if not skipping:
            steps.append((kind, data))
    return Section(section.name, steps)


class ReplaySwitch:
    """Plays the switch side of a section; `commands` is everything the controller sent."""

    def __init__(self, sock, section: Section, echo_event_uuid: bool = False) -> None:
        self.sock = sock
        self.section = section
        self.echo_event_uuid = echo_event_uuid
        self.commands: list[Command] = []
        self.mismatch = ""
        self.peer_closed = False

    def play(self) -> None:
        reader = CommandReader(self.sock)
        last: Command | None = None
        try:
            for kind, data in self.section.steps:
                if kind == "recv":
                    self.sock.sendall(self._rewrite(data, last))
                    continue
                last = reader.read_command()
                self.commands.append(last)
                expected = recorded_command(data)
                if not _same(last, expected):
                    self.mismatch = f"expected {expected.line!r} {expected.headers}, got {last.line!r} {last.headers}"
                    return
            while True:  # linger like FreeSWITCH until the controller closes
                self.commands.append(reader.read_command())
        except (ConnectionDropped, OSError):
            self.peer_closed = True
        finally:
            self.sock.close()

    def sent_apps(self) -> list[tuple[str, str]]:
        """(application, argument) of every sendmsg execute the controller sent."""
        return [
            (c.headers.get("execute-app-name", ""), c.headers.get("execute-app-arg", ""))
            for c in self.commands
            if c.verb == "sendmsg"
        ]

    def _rewrite(self, frame: bytes, last: Command | None) -> bytes:
        """Answer as a switch honouring Event-UUID: the running app's Application-UUID becomes ours."""
        if not self.echo_event_uuid or last is None or "event-uuid" not in last.headers:
            return frame
        app = last.headers.get("execute-app-name", "").encode()
        if b"\nApplication: " + app + b"\n" not in frame:
            return frame
        return _APP_UUID.sub(b"Application-UUID: " + last.headers["event-uuid"].encode(), frame)


def _same(got: Command, expected: Command) -> bool:
    if got.line != expected.line:
        return False
    return got.headers.get("execute-app-name") == expected.headers.get("execute-app-name")
