"""Reads controller commands the way mod_event_socket's read_packet does.

Leading blank lines are skipped, a header line without a colon is ignored, names are
matched case-insensitively, and a bad Content-Length drops the connection.
"""

from __future__ import annotations

from dataclasses import dataclass, field

MAX_CONTENT_LENGTH = 10 * 1024 * 1024  # read_packet's max_len: 10485760


class ConnectionDropped(Exception):
    """The controller went away or sent something read_packet rejects; end the listener."""


@dataclass
class ControllerCommand:
    """One command: its first line (as FreeSWITCH's "Command" header), headers, body."""

    line: str
    headers: dict[str, str] = field(default_factory=dict)  # lower-cased names, first one wins
    body: str = ""

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    @property
    def verb(self) -> str:
        return self.line.split(" ", 1)[0].lower()

    @property
    def arg(self) -> str:
        parts = self.line.split(" ", 1)
        return parts[1] if len(parts) > 1 else ""


class CommandReader:
    """Buffers a socket and yields ControllerCommands."""

    def __init__(self, sock) -> None:
        self._sock = sock
        self._buf = bytearray()

    def _fill(self) -> None:
        try:
            chunk = self._sock.recv(65536)
        except OSError as exc:
            raise ConnectionDropped(str(exc)) from exc
        if not chunk:
            raise ConnectionDropped("controller closed the connection")
        self._buf += chunk

    def _block_end(self) -> int:
        """Index just past the second consecutive newline (carriage returns don't count or break)."""
        count = 0
        for i, byte in enumerate(self._buf):
            if byte == 10:
                count += 1
                if count == 2:
                    return i + 1
            elif byte != 13:
                count = 0
        return -1

    def read_command(self) -> ControllerCommand:
        while True:
            while self._buf[:1] in (b"\r", b"\n"):
                del self._buf[:1]
            end = self._block_end() if self._buf else -1
            if end >= 0:
                break
            if len(self._buf) >= MAX_CONTENT_LENGTH:
                raise ConnectionDropped("command over 10 MB without a blank line")
            self._fill()
        block = bytes(self._buf[:end]).decode("utf-8", "replace")
        del self._buf[:end]
        lines = [line.split("\r", 1)[0] for line in block.split("\n")]
        command = ControllerCommand(lines[0])
        for line in lines[1:]:
            if not line:
                continue
            name, sep, value = line.partition(":")
            if not sep:
                continue  # read_packet adds only `name: value` lines
            command.headers.setdefault(name.lower(), value.lstrip(" "))
        length_text = command.headers.get("content-length")
        if length_text is not None:
            length = atoi(length_text)
            if length < 0 or length > MAX_CONTENT_LENGTH:
                raise ConnectionDropped(f"Content-Length {length_text!r} out of range")
            while len(self._buf) < length:
                self._fill()
            command.body = bytes(self._buf[:length]).decode("utf-8", "replace")
            del self._buf[:length]
        return command


def atoi(text: str) -> int:
    """C atoi: leading digits (with a sign), anything else is 0."""
    text = text.strip()
    sign = -1 if text[:1] == "-" else 1
    digits = ""
    for char in text.lstrip("+-"):
        if not char.isdigit():
            break
        digits += char
    return sign * int(digits) if digits else 0
