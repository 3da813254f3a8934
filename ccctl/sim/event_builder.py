"""FreeSWITCH events as the switch writes them: header order, values and encodings.

Follows switch_event.c (prep_for_delivery, serialize, serialize_json, xmlize) and
switch_url_encode: the emulator's events must read byte-for-byte like a real switch's.
"""

from __future__ import annotations

import itertools
import json
import re
import time
from dataclasses import dataclass, field
from email.utils import formatdate

# switch_utils.h SWITCH_URL_UNSAFE plus everything outside printable ASCII
_URL_UNSAFE = set('\r\n #%&+:;<=>?@[\\]^`{|}"')
_NEEDS_ENCODING = re.compile(r"[^\x21\x24\x27-\x2a\x2c-\x39\x41-\x5a\x5f\x61-\x7a\x7e]")
_HEX = "0123456789ABCDEF"


_encoded: dict[str, str] = {}  # values repeat across a call's events (uuids, names, dates)


def url_encode(value: str) -> str:
    """switch_url_encode: unsafe bytes become %XX, an existing %XX escape (upper-case hex) is kept."""
    cached = _encoded.get(value)
    if cached is not None:
        return cached
    if len(_encoded) > 100_000:
        _encoded.clear()
    _encoded[value] = encoded = _url_encode(value) if _NEEDS_ENCODING.search(value) else value
    return encoded


def _url_encode(value: str) -> str:
    raw = value.encode("utf-8", "replace")
    out: list[str] = []
    n = len(raw)
    for i, byte in enumerate(raw):
        char = chr(byte)
        if char == "%" and i + 2 < n and chr(raw[i + 1]) in _HEX and chr(raw[i + 2]) in _HEX:
            out.append(char)
        elif byte < 0x20 or byte > 0x7E or char in _URL_UNSAFE:
            out.append(f"%{_HEX[byte >> 4]}{_HEX[byte & 15]}")
        else:
            out.append(char)
    return "".join(out)


@dataclass
class SimEvent:
    """One fired event: ordered headers (duplicates allowed, as in FreeSWITCH) and a body."""

    name: str
    headers: list[tuple[str, str]]
    body: str = ""
    subclass: str = ""
    unique_id: str = ""
    job_owner: str = ""

    def get(self, name: str) -> str | None:
        """First header of that name, case-insensitive like switch_event_get_header."""
        lowered = name.lower()
        for key, value in self.headers:
            if key.lower() == lowered:
                return value
        return None


def serialize_plain(event: SimEvent, encode: bool = True) -> str:
    """switch_event_serialize: `Name: url-encoded value` lines (encode=FALSE: `Name: [value]`), then the body."""
    if encode:
        lines = [f"{k}: {url_encode(v) or '_undef_'}\n" for k, v in event.headers]
    else:
        lines = [f"{k}: [{v}]\n" for k, v in event.headers]
    if event.body:
        lines.append(f"Content-Length: {len(event.body.encode())}\n\n{event.body}")
    else:
        lines.append("\n")
    return "".join(lines)


def serialize_json(event: SimEvent) -> str:
    """switch_event_serialize_json: a compact object in header order; repeated names repeat."""
    pairs = [(k, v) for k, v in event.headers]
    if event.body:
        pairs.append(("Content-Length", str(len(event.body.encode()))))
        pairs.append(("_body", event.body))
    dump = json.JSONEncoder(ensure_ascii=False).encode
    return "{" + ",".join(f"{dump(k)}:{dump(v)}" for k, v in pairs) + "}"


def serialize_xml(event: SimEvent) -> str:
    """switch_event_xmlize + switch_xml_toxml: headers as elements with url-encoded text."""
    rows = [f"    <{k}>{url_encode(v)}</{k}>" for k, v in event.headers]
    body = ""
    if event.body:
        body = f"  <body>{_xml_escape(event.body)}</body>\n"
    return "<event>\n  <headers>\n" + "\n".join(rows) + "\n  </headers>\n" + body + "</event>"


def _xml_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def event_frame(event: SimEvent, event_format: str) -> bytes:
    """The frame mod_event_socket writes for a queued event (read_packet)."""
    if event_format == "json":
        text = serialize_json(event)
    elif event_format == "xml":
        text = serialize_xml(event)
    else:
        text = serialize_plain(event)
    data = text.encode()
    return f"Content-Length: {len(data)}\nContent-Type: text/event-{event_format}\n\n".encode() + data


@dataclass
class CoreIdentity:
    """What every event carries about the switch itself."""

    core_uuid: str
    hostname: str
    switchname: str
    ipv4: str = "127.0.0.1"
    ipv6: str = "::1"
    sequence: itertools.count = field(default_factory=lambda: itertools.count(1))


def date_headers(micros: int) -> tuple[str, str]:
    """Event-Date-Local (%Y-%m-%d %T, local zone) and Event-Date-GMT (RFC 822)."""
    seconds = micros // 1_000_000
    local = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(seconds))
    return local, formatdate(seconds, usegmt=True)


def base_headers(core: CoreIdentity, name: str, micros: int, calling: tuple[str, str, int]) -> list[tuple[str, str]]:
    """switch_event_prep_for_delivery: the headers every event starts with."""
    local, gmt = date_headers(micros)
    return [
        ("Event-Name", name),
        ("Core-UUID", core.core_uuid),
        ("FreeSWITCH-Hostname", core.hostname),
        ("FreeSWITCH-Switchname", core.switchname),
        ("FreeSWITCH-IPv4", core.ipv4),
        ("FreeSWITCH-IPv6", core.ipv6),
        ("Event-Date-Local", local),
        ("Event-Date-GMT", gmt),
        ("Event-Date-Timestamp", str(micros)),
        ("Event-Calling-File", calling[0]),
        ("Event-Calling-Function", calling[1]),
        ("Event-Calling-Line-Number", str(calling[2])),
        ("Event-Sequence", str(next(core.sequence))),
    ]


# Where FreeSWITCH 1.10.12 fires each event from (Event-Calling-*), as the transcripts show.
CALLED_FROM: dict[str, tuple[str, str, int]] = {
    "CHANNEL_DATA": ("mod_event_socket.c", "parse_command", 2021),
    "CHANNEL_PARK": ("switch_ivr.c", "switch_ivr_park", 1002),
    "CHANNEL_UNPARK": ("switch_ivr.c", "switch_ivr_park", 1213),
    "CHANNEL_EXECUTE": ("switch_core_session.c", "switch_core_session_exec", 2944),
    "CHANNEL_EXECUTE_COMPLETE": ("switch_core_session.c", "switch_core_session_exec", 2967),
    "CHANNEL_ANSWER": ("switch_channel.c", "switch_channel_perform_mark_answered", 3846),
    "CHANNEL_PROGRESS": ("switch_channel.c", "switch_channel_perform_mark_ring_ready_value", 3621),
    "CHANNEL_PROGRESS_MEDIA": ("switch_channel.c", "switch_channel_perform_mark_pre_answered", 3560),
    "CHANNEL_HANGUP": ("switch_channel.c", "switch_channel_perform_hangup", 3445),
    "CHANNEL_STATE": ("switch_channel.c", "switch_channel_perform_set_running_state", 2408),
    "CHANNEL_CALLSTATE": ("switch_channel.c", "switch_channel_perform_set_callstate", 323),
    "CHANNEL_HANGUP_COMPLETE": ("switch_core_state_machine.c", "switch_core_session_reporting_state", 943),
    "CHANNEL_CREATE": ("switch_core_state_machine.c", "switch_core_session_run", 626),
    "CHANNEL_DESTROY": ("switch_core_session.c", "switch_core_session_perform_destroy", 1588),
    "CHANNEL_OUTGOING": ("switch_core_session.c", "switch_core_session_outgoing_channel", 739),
    "CHANNEL_ORIGINATE": ("switch_ivr_originate.c", "switch_ivr_originate", 3927),
    "CHANNEL_BRIDGE": ("switch_ivr_bridge.c", "audio_bridge_on_exchange_media", 1386),
    "CHANNEL_UNBRIDGE": ("switch_ivr_bridge.c", "switch_ivr_multi_threaded_bridge", 1884),
    "DTMF": ("switch_channel.c", "switch_channel_dequeue_dtmf", 677),
    "PLAYBACK_START": ("switch_ivr_play_say.c", "switch_ivr_play_file", 1660),
    "PLAYBACK_STOP": ("switch_ivr_play_say.c", "switch_ivr_play_file", 2038),
    "RECORD_START": ("switch_ivr_play_say.c", "switch_ivr_record_file_event", 443),
    "RECORD_STOP": ("switch_ivr_play_say.c", "switch_ivr_record_file_event", 443),
    "CHANNEL_HOLD": ("switch_ivr.c", "switch_ivr_hold", 1558),
    "CHANNEL_UNHOLD": ("switch_ivr.c", "switch_ivr_unhold", 1638),
    "BACKGROUND_JOB": ("mod_event_socket.c", "api_exec", 1583),
    "API": ("switch_loadable_module.c", "switch_api_execute", 2993),
    "UUID_DUMP": ("mod_commands.c", "uuid_dump_function", 6468),  # the CHANNEL_DATA event uuid_dump writes out
}

# switch_channel_event_set_extended_data: only these carry the channel variables
EVENTS_WITH_VARIABLES = frozenset(
    {
        "CHANNEL_CREATE",
        "CHANNEL_ORIGINATE",
        "CHANNEL_UUID",
        "CHANNEL_ANSWER",
        "CHANNEL_PARK",
        "CHANNEL_UNPARK",
        "CHANNEL_BRIDGE",
        "CHANNEL_UNBRIDGE",
        "CHANNEL_PROGRESS",
        "CHANNEL_PROGRESS_MEDIA",
        "CHANNEL_HANGUP",
        "CHANNEL_HANGUP_COMPLETE",
        "CHANNEL_DATA",
        "CHANNEL_EXECUTE",
        "CHANNEL_EXECUTE_COMPLETE",
        "CHANNEL_DESTROY",
        "RECORD_START",
        "RECORD_STOP",
        "PLAYBACK_START",
        "PLAYBACK_STOP",
        "CHANNEL_HOLD",
        "CHANNEL_UNHOLD",
        "CUSTOM",
    }
)
