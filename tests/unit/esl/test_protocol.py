"""ESL framing against the real FreeSWITCH 1.10 transcripts."""

import socket

import pytest
import transcript
from switch_side import encode_event_plain

from ccctl.esl.protocol import (
    ConnectionClosed,
    FrameReader,
    ProtocolError,
    event_from_frame,
    parse_event_plain,
)


def frames_of(data: bytes):
    a, b = socket.socketpair()
    b.sendall(data)
    b.close()
    reader = FrameReader(a)
    frames = []
    with pytest.raises(ConnectionClosed):
        while True:
            frames.append(reader.read_frame())
    a.close()
    return frames


@pytest.mark.parametrize("name", transcript.all_names())
def test_every_recorded_frame_parses(name):
    for section in transcript.load(name).sections.values():
        frames = frames_of(b"".join(section.received()))
        assert len(frames) == len(section.received())


def test_events_decode_values_on_read():
    section = transcript.load("digits").sections["outbound"]
    events = [event_from_frame(f) for f in frames_of(b"".join(section.received()))]
    dtmf = [e["DTMF-Digit"] for e in events if e and e.name == "DTMF"]
    assert dtmf == ["1", "2", "3", "4", "5", "#"]
    complete = [
        e for e in events if e and e.name == "CHANNEL_EXECUTE_COMPLETE" and e["Application"] == "play_and_get_digits"
    ]
    assert complete[0].variable("member_no") == "12345"
    assert complete[0]["Event-Date-GMT"].endswith(" GMT")


def test_json_event_from_transcript():
    section = transcript.load("inbound").sections["inbound"]
    events = [event_from_frame(f) for f in frames_of(b"".join(section.received()))]
    hangup = [e for e in events if e and e.name == "CHANNEL_HANGUP_COMPLETE"][0]
    assert hangup["Hangup-Cause"] == "NORMAL_CLEARING"
    assert hangup.variable("start_stamp") == "2026-11-22 16:54:30"


def test_encoded_newline_in_value_round_trips():
    raw = encode_event_plain([("Event-Name", "CUSTOM"), ("Note", "a\nb: c%")])
    event = parse_event_plain(raw)
    assert event["Note"] == "a\nb: c%"


def test_truncated_frame_is_a_protocol_error():
    a, b = socket.socketpair()
    b.sendall(b"Content-Type: text/event-plain\nContent-Length: 500\n\nEvent-Name: X")
    b.close()
    with pytest.raises(ProtocolError, match="closed inside a frame"):
        FrameReader(a).read_frame()


@pytest.mark.parametrize(
    "data, reason",
    [
        (b"Content-Type: text/event-plain\nContent-Length: abc\n\n", "bad Content-Length"),
        (b"garbage without colon\n\n", "without a colon"),
        (b"Content-Length: 999999999999\n\n", "over the"),
    ],
)
def test_malformed_frames_name_the_fault(data, reason):
    a, b = socket.socketpair()
    b.sendall(data)
    with pytest.raises(ProtocolError, match=reason):
        FrameReader(a).read_frame()
