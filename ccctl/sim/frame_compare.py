"""Compares frames from the emulator with frames recorded from a real FreeSWITCH.

Same frame kind, same header names in the same order, same values except those that
differ from run to run (uuids, clocks, sequence numbers, durations); returns differences.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from urllib.parse import unquote

VOLATILE = re.compile(
    r"^(Core-UUID|FreeSWITCH-(Hostname|Switchname|IPv4|IPv6)|Event-Date-.*|Event-Sequence|Unique-ID|"
    r"Channel-Call-UUID|Application-UUID|Job-UUID|Job-Owner-UUID|Controlled-Session-UUID|Content-Length|"
    r"(Caller|Channel|Other-Leg)-(Unique-ID|.*-Time|Channel-Last-Hold|Channel-Hold-Accum)|"
    r"variable_(uuid|call_uuid|session_id|other_loopback_leg_uuid|socket_host|"
    r".*_stamp|.*_epoch|.*_uepoch|.*sec|.*msec|.*usec|mduration|uduration|duration))$"
)


@dataclass
class ParsedFrame:
    kind: str  # the Content-Type, or "channel-data" for the reply to connect
    headers: list[tuple[str, str]]  # transport headers (or the event's, decoded)
    body: str


def parse_frame(data: bytes) -> ParsedFrame:
    head, _, body = data.partition(b"\n\n")
    headers = [_split(line) for line in head.decode("utf-8", "replace").split("\n") if line]
    names = dict(headers)
    kind = names.get("Content-Type", "")
    text = body.decode("utf-8", "replace")
    if "Event-Name" in names:
        return ParsedFrame("channel-data", [(k, unquote(v)) for k, v in headers], text)
    if kind == "text/event-plain":
        event_head, _, event_body = text.partition("\n\n")
        pairs = [_split(line) for line in event_head.split("\n") if line]
        return ParsedFrame(kind, [(k, unquote(v)) for k, v in pairs], event_body)
    if kind == "text/event-json":
        pairs = json.loads(text, object_pairs_hook=lambda items: items)
        return ParsedFrame(kind, [(k, str(v)) for k, v in pairs if k != "_body"], dict(pairs).get("_body", ""))
    return ParsedFrame(kind, headers, text)


def _split(line: str) -> tuple[str, str]:
    name, _, value = line.partition(": ")
    return name, value


def compare_frames(recorded: bytes, emulated: bytes, also_volatile: tuple[str, ...] = ()) -> list[str]:
    """Differences between a recorded frame and the emulator's, as readable lines ([] when alike)."""
    want, got = parse_frame(recorded), parse_frame(emulated)
    if want.kind != got.kind:
        return [f"frame kind {got.kind!r}, recorded {want.kind!r}"]
    label = dict(want.headers).get("Event-Name", want.kind)
    want_names = [k for k, _ in want.headers]
    got_names = [k for k, _ in got.headers]
    problems: list[str] = []
    if want_names != got_names:
        missing = [n for n in want_names if n not in got_names]
        extra = [n for n in got_names if n not in want_names]
        problems.append(f"{label}: header names differ (missing {missing}, extra {extra})")
        if not missing and not extra:
            problems.append(f"{label}: header order differs: {got_names}")
    got_values = dict(got.headers)
    for name, value in want.headers:
        if VOLATILE.match(name) or name in also_volatile or name not in got_values:
            continue
        if got_values[name] != value:
            problems.append(f"{label}: {name} = {got_values[name]!r}, recorded {value!r}")
    if want.kind not in ("text/event-plain", "text/event-json", "api/response") and want.body != got.body:
        problems.append(f"{label}: body {got.body!r}, recorded {want.body!r}")
    return problems
