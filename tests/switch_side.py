"""The switch's side of the ESL wire, for tests that play FreeSWITCH: encode frames and events as it writes them.

Commands from the controller are read with the emulator's CommandReader (ccctl.sim.command_reader), which
follows mod_event_socket's read_packet.
"""

from __future__ import annotations

import json
from urllib.parse import quote


def encode_frame(headers: dict[str, str] | list[tuple[str, str]], body: bytes = b"") -> bytes:
    """A frame as FreeSWITCH writes it: headers, Content-Length when there is a body, blank line, body."""
    items = headers.items() if isinstance(headers, dict) else headers
    lines = [f"{k}: {v}" for k, v in items]
    if body:
        lines.insert(0, f"Content-Length: {len(body)}")
    return ("\n".join(lines) + "\n\n").encode() + body


def encode_event_plain(headers: list[tuple[str, str]] | dict[str, str], body: str = "") -> bytes:
    """Serialise an event like switch_event_serialize (values URL-encoded)."""
    items = headers.items() if isinstance(headers, dict) else headers
    lines = [f"{k}: {quote(str(v), safe='')}" for k, v in items]
    if body:
        lines.append(f"Content-Length: {len(body.encode())}")
        return ("\n".join(lines) + "\n\n" + body).encode()
    return ("\n".join(lines) + "\n\n").encode()


def encode_event_json(headers: list[tuple[str, str]] | dict[str, str], body: str = "") -> bytes:
    data = dict(headers.items() if isinstance(headers, dict) else headers)
    if body:
        data["Content-Length"] = str(len(body.encode()))
        data["_body"] = body
    return json.dumps(data, ensure_ascii=False).encode()
