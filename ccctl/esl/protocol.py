"""The Event Socket wire format: frames, their headers, and plain/json events.

Shared by the controller (ccctl.esl) and the FreeSWITCH emulator (ccctl.sim).
Follows mod_event_socket.c: a frame is `Name: value` header lines ended by a
blank line, then `Content-Length` bytes of body. Event headers inside a
`text/event-plain` body are URL-encoded (switch_event_serialize); we decode a
value only when it is read, which is most of the speed over greenswitch, whose
ESLEvent unquotes the whole body before splitting it (and so also breaks on a
value holding an encoded newline).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import unquote

MAX_HEADER_BYTES = 64 * 1024
MAX_BODY_BYTES = 16 * 1024 * 1024


class ProtocolError(Exception):
    """A frame that breaks the ESL framing rules; the connection must be dropped."""


class ConnectionClosed(Exception):
    """The peer closed the socket (cleanly or mid-frame)."""


@dataclass
class Frame:
    """One ESL frame: transport headers and an optional body."""

    headers: dict[str, str]
    body: bytes = b""

    @property
    def content_type(self) -> str:
        return self.headers.get("Content-Type", "")

    @property
    def reply_text(self) -> str:
        return self.headers.get("Reply-Text", "")


class Event:
    """A FreeSWITCH event whose headers are found and decoded only when read.

    Built either from a dict (json events, tests) or from the raw bytes of a
    text/event-plain body, which is searched per header: a controller reads a
    handful of the ~100 headers of each event, so it never splits the rest.
    """

    __slots__ = ("_raw", "_decoded", "_data", "_head_end", "_values", "body")

    def __init__(self, raw: dict[str, str], body: str = "", decoded: bool = False) -> None:
        self._raw = raw
        self._decoded = decoded
        self._data: bytes | None = None
        self._head_end = 0
        self._values: dict[str, str | None] = {}
        self.body = body

    @classmethod
    def from_plain(cls, data: bytes) -> Event:
        event = cls.__new__(cls)
        event._raw = {}
        event._decoded = False
        event._values = {}
        end = data.find(b"\n\n")
        event._head_end = len(data) if end < 0 else end
        # a leading newline lets every header be found as b"\nName: "
        event._data = b"\n" + data
        event._head_end += 1
        event.body = ""
        if end >= 0 and end + 2 < len(data):
            length = event.get("Content-Length")
            if length and length.isdigit():
                event.body = data[end + 2 : end + 2 + int(length)].decode("utf-8", "replace")
        return event

    def _find(self, name: str) -> str | None:
        data = self._data
        key = b"\n" + name.encode() + b": "
        i = data.find(key, 0, self._head_end)
        if i < 0:
            return None
        start = i + len(key)
        stop = data.find(b"\n", start)
        value = data[start : stop if stop >= 0 else None].decode("utf-8", "replace")
        return unquote(value) if "%" in value else value

    def get(self, name: str, default: str | None = None) -> str | None:
        values = self._values
        if name in values:
            value = values[name]
        elif self._data is not None:
            value = values[name] = self._find(name)
        else:
            value = self._raw.get(name)
            if value is not None and not self._decoded and "%" in value:
                value = unquote(value)
            values[name] = value
        return default if value is None else value

    def __getitem__(self, name: str) -> str:
        value = self.get(name)
        if value is None:
            raise KeyError(name)
        return value

    def __contains__(self, name: str) -> bool:
        return self.get(name) is not None

    @property
    def name(self) -> str:
        return self.get("Event-Name", "") or ""

    @property
    def subclass(self) -> str:
        return self.get("Event-Subclass", "") or ""

    @property
    def uuid(self) -> str:
        return self.get("Unique-ID", "") or ""

    def variable(self, name: str, default: str | None = None) -> str | None:
        return self.get("variable_" + name, default)

    def headers(self) -> dict[str, str]:
        """Every header, decoded (for logging and tests, not hot paths); the first of duplicates wins."""
        if self._data is None:
            return {k: self[k] for k in self._raw}
        head = self._data[1 : self._head_end].decode("utf-8", "replace")
        # one unquote of the whole block is safe unless a value holds an encoded line break
        whole = not any(code in head for code in ("%0A", "%0a", "%0D", "%0d"))
        if whole:
            head = unquote(head)
        result: dict[str, str] = {}
        for line in head.split("\n"):
            name, sep, value = line.partition(": ")
            if sep and name not in result:
                result[name] = value if whole or "%" not in value else unquote(value)
        return result


def parse_header_block(block: bytes) -> dict[str, str]:
    """Split `Name: value` lines of a transport header block (not URL-decoded)."""
    headers: dict[str, str] = {}
    for line in block.decode("utf-8", "replace").split("\n"):
        if not line:
            continue
        name, sep, value = line.partition(": ")
        if not sep:
            name, sep, value = line.partition(":")
            if not sep:
                raise ProtocolError(f"header line without a colon: {line[:60]!r}")
        headers[name.strip()] = value.strip()
    return headers


def parse_event_plain(body: bytes | str) -> Event:
    """Parse a text/event-plain body; headers are looked up and decoded when read."""
    return Event.from_plain(body.encode() if isinstance(body, str) else body)


def parse_event_json(body: bytes | str) -> Event:
    data = json.loads(body)
    if not isinstance(data, dict):
        raise ProtocolError("text/event-json body is not an object")
    event_body = data.pop("_body", "")
    return Event({k: str(v) for k, v in data.items()}, event_body, decoded=True)


def event_from_frame(frame: Frame) -> Event | None:
    """The event carried by a frame, or None for replies and notices."""
    ctype = frame.content_type
    if ctype == "text/event-plain":
        return parse_event_plain(frame.body)
    if ctype == "text/event-json":
        return parse_event_json(frame.body)
    return None


class FrameReader:
    """Reads frames from a socket, buffering; raises ProtocolError on bad framing."""

    def __init__(self, sock, bufsize: int = 65536) -> None:
        self._sock = sock
        self._buf = bytearray()
        self._bufsize = bufsize

    def _fill(self) -> None:
        chunk = self._sock.recv(self._bufsize)
        if not chunk:
            if self._buf:
                raise ProtocolError(f"connection closed inside a frame ({len(self._buf)} bytes pending)")
            raise ConnectionClosed()
        self._buf += chunk

    def read_frame(self) -> Frame:
        while True:
            end = self._buf.find(b"\n\n")
            if end >= 0:
                break
            if len(self._buf) > MAX_HEADER_BYTES:
                raise ProtocolError(f"header block over {MAX_HEADER_BYTES} bytes without a blank line")
            self._fill()
        block = bytes(self._buf[:end])
        del self._buf[: end + 2]
        headers = parse_header_block(block.lstrip(b"\n"))
        length_text = headers.get("Content-Length")
        if length_text is None:
            return Frame(headers)
        if not length_text.isdigit():
            raise ProtocolError(f"bad Content-Length {length_text[:20]!r}")
        length = int(length_text)
        if length > MAX_BODY_BYTES:
            raise ProtocolError(f"Content-Length {length} over the {MAX_BODY_BYTES} byte limit")
        while len(self._buf) < length:
            self._fill()
        body = bytes(self._buf[:length])
        del self._buf[:length]
        return Frame(headers, body)


def encode_command(command: str, headers: dict[str, str] | None = None, body: str = "") -> bytes:
    """A command from the controller: first line, header lines, blank line."""
    lines = [command]
    if headers:
        lines.extend(f"{k}: {v}" for k, v in headers.items())
    if body:
        lines.append(f"content-length: {len(body.encode())}")
        return ("\n".join(lines) + "\n\n" + body).encode()
    return ("\n".join(lines) + "\n\n").encode()
