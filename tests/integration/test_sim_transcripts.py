"""The emulator against real FreeSWITCH 1.10.12 recordings, outbound socket side.

The test plays the controller: it sends the recorded commands and checks every frame the
emulator sends back against the recorded one (kind, header names and order, stable values).
"""

from __future__ import annotations

import socket

import pytest
import transcript

from ccctl.esl.protocol import FrameReader
from ccctl.sim.callers import CallerScript
from ccctl.sim.dialplan import Dialplan
from ccctl.sim.frame_compare import compare_frames, parse_frame
from ccctl.sim.switch import Switch

RECORDED_PORT = b"8084"


def _recording_dialplan(port: int) -> Dialplan:
    """The dialplan of the recording: 7000 goes straight to the socket, nothing set before."""
    return Dialplan.from_xml(
        f"""<include><context name="default"><extension name="esl">
        <condition field="destination_number" expression="^7000$">
          <action application="socket" data="127.0.0.1:{port} async full"/>
        </condition></extension></context></include>"""
    )


def _normalise(frame: bytes, port: int) -> bytes:
    return frame.replace(b"127.0.0.1%3A" + str(port).encode(), b"127.0.0.1%3A" + RECORDED_PORT).replace(
        b"127.0.0.1:" + str(port).encode(), b"127.0.0.1:" + RECORDED_PORT
    )


def replay(name: str, script: CallerScript, also_volatile: tuple[str, ...] = ()) -> tuple[list[str], list[bytes]]:
    """Act as the recorded controller; return (differences, frames received)."""
    steps = transcript.load(name).sections["outbound"].steps
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    port = server.getsockname()[1]
    switch = Switch(_recording_dialplan(port), time_factor=10, hostname="vm").start()
    problems: list[str] = []
    frames: list[bytes] = []
    try:
        handle = switch.place_call(script)
        server.settimeout(5)
        conn, _ = server.accept()
        conn.settimeout(2)
        reader = FrameReader(conn)
        for kind, data in steps:
            if kind == "send":
                conn.sendall(data)
                continue
            try:
                frame = reader.read_frame()
            except OSError:
                problems.append(f"no frame where the recording has {parse_frame(data).kind}")
                break
            raw = (
                "\n".join(f"{k}: {v}" for k, v in frame.headers.items()).encode() + b"\n\n" + frame.body
                if "Event-Name" not in frame.headers
                else _raw_channel_data(frame)
            )
            raw = _normalise(raw, port)
            frames.append(raw)
            problems += compare_frames(data, raw, also_volatile)
        conn.close()
        assert handle.wait(5) is not None
    finally:
        server.close()
        switch.stop()
    return problems, frames


def _raw_channel_data(frame) -> bytes:
    return "\n".join(f"{k}: {v}" for k, v in frame.headers.items()).encode() + b"\n\n"


def test_basic_answer_playback_hangup_matches_the_recording():
    problems, frames = replay("basic", CallerScript())
    assert problems == []
    assert parse_frame(frames[-1]).kind == "text/disconnect-notice"


def test_digits_arrive_as_dtmf_and_fill_the_variable_like_the_recording():
    problems, frames = replay("digits", CallerScript(keys=["12345#"]))
    assert problems == []
    complete = [parse_frame(f) for f in frames if b"play_and_get_digits" in f and b"Application-Response" in f]
    values = dict(complete[0].headers)
    assert (values["variable_member_no"], values["variable_read_result"]) == ("12345", "success")


def test_caller_hanging_up_during_playback_matches_the_recording():
    # the recording's interrupted tone reports offset 8000 after 2048 ms; the emulator reports the samples played
    script = CallerScript(hangup_at_prompt=1, hangup_into_prompt=2.0)
    problems, frames = replay("caller_hangup", script, also_volatile=("variable_playback_last_offset_pos",))
    assert problems == []
    kinds = [parse_frame(f).kind for f in frames]
    notice = kinds.index("text/disconnect-notice")
    assert dict(parse_frame(frames[notice - 1]).headers)["Event-Name"] == "CHANNEL_HANGUP"


def test_record_with_silence_detection_matches_the_recording():
    problems, _ = replay("record", CallerScript())
    assert problems == []


@pytest.mark.parametrize("name", ["basic", "digits", "record"])
def test_frames_come_in_the_recorded_order(name):
    recorded = [parse_frame(f) for f in transcript.load(name).sections["outbound"].received()]
    script = CallerScript(keys=["12345#"])
    _, frames = replay(name, script)
    got = [parse_frame(f) for f in frames]
    assert [(f.kind, dict(f.headers).get("Event-Name")) for f in got] == [
        (f.kind, dict(f.headers).get("Event-Name")) for f in recorded
    ]
