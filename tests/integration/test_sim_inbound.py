"""The emulator's inbound Event Socket (port 8021 in FreeSWITCH) against the real recording.

Auth, api status, plain and json event subscriptions, bgapi originate, hupall; then the
exact texts of error replies and the background job result.
"""

from __future__ import annotations

import re
import socket

import transcript

from ccctl.esl.protocol import FrameReader
from ccctl.sim.dialplan import Dialplan
from ccctl.sim.frame_compare import compare_frames, parse_frame
from ccctl.sim.switch import Switch

# 9664 rings forever: the recording's originate never completed before hupall
RINGING_DIALPLAN = """<include><context name="default"><extension name="ring">
  <condition field="destination_number" expression="^9664$"><action application="park"/></condition>
</extension></context></include>"""


def _frame_bytes(frame) -> bytes:
    head = "\n".join(f"{k}: {v}" for k, v in frame.headers.items())
    return head.encode() + b"\n\n" + frame.body


class Client:
    def __init__(self, address):
        self.sock = socket.create_connection(address, timeout=3)
        self.reader = FrameReader(self.sock)

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def frame(self) -> bytes:
        return _frame_bytes(self.reader.read_frame())

    def command(self, line: str) -> bytes:
        self.send(line.encode() + b"\n\n")
        return self.frame()


def _status_shape(text: str) -> str:
    text = re.sub(r"\d+(\.\d+)?", "N", text)
    return re.sub(r"(year|day|hour|minute|second|millisecond|microsecond)s\b", r"\1", text)


def test_inbound_session_matches_the_recording():
    steps = transcript.load("inbound").sections["inbound"].steps
    switch = Switch(Dialplan.from_xml(RINGING_DIALPLAN), time_factor=1, hostname="vm").start()
    try:
        client = Client(switch.esl_address)
        problems = []
        for kind, data in steps:
            if kind == "send":
                client.send(data)
                continue
            got = client.frame()
            recorded = parse_frame(data)
            if recorded.kind == "api/response" and recorded.body.startswith("UP "):
                assert _status_shape(parse_frame(got).body) == _status_shape(recorded.body)
                continue
            problems += compare_frames(data, got, also_volatile=("Reply-Text",) if b"Job-UUID" in data else ())
        assert "\n".join(problems) == ""
    finally:
        switch.stop()


def test_bgapi_reply_names_the_job_that_background_job_reports():
    switch = Switch(Dialplan.from_xml(RINGING_DIALPLAN), time_factor=20, hostname="vm").start()
    try:
        client = Client(switch.esl_address)
        client.frame()
        client.command("auth ClueCon")
        client.command("event plain BACKGROUND_JOB")
        reply = parse_frame(client.command("bgapi originate loopback/9664/default &park() XML default undef undef 1"))
        job = dict(reply.headers)["Job-UUID"]
        assert dict(reply.headers)["Reply-Text"] == f"+OK Job-UUID: {job}"
        event = parse_frame(client.frame())
        values = dict(event.headers)
        assert (values["Event-Name"], values["Job-UUID"], values["Job-Command"]) == ("BACKGROUND_JOB", job, "originate")
        assert event.body == "-ERR NO_ANSWER\n"
    finally:
        switch.stop()


def test_error_replies_use_freeswitch_texts():
    switch = Switch(time_factor=20, hostname="vm").start()
    try:
        client = Client(switch.esl_address)
        client.frame()
        assert b"Reply-Text: -ERR command not found" in client.command("api status")
        client2 = Client(switch.esl_address)
        client2.frame()
        assert b"Reply-Text: +OK accepted" in client2.command("auth ClueCon")
        assert parse_frame(client2.command("api no_such_thing now")).body == "-ERR no_such_thing Command not found!\n"
        assert parse_frame(client2.command("api uuid_kill 1234")).body == "-ERR No such channel!\n"
        assert b"-ERR no keywords supplied" in client2.command("event plain")
        assert b"-ERR command not found" in client2.command("bogus")
        assert b"-ERR not controlling a session" in client2.command("linger")
        assert b"+OK filter added. [Event-Name]=[CHANNEL_ANSWER]" in client2.command("filter Event-Name CHANNEL_ANSWER")
        assert b"+OK filter deleted. [Event-Name][CHANNEL_ANSWER]" in client2.command(
            "filter delete Event-Name CHANNEL_ANSWER"
        )
        assert b"-ERR invalid session id [nope]" in client2.command("sendmsg nope")
        assert b"Reply-Text: +OK bye" in client2.command("exit")
        notice = parse_frame(client2.frame())
        assert notice.kind == "text/disconnect-notice"
        assert notice.body.startswith("Disconnected, goodbye.")
    finally:
        switch.stop()


def test_wrong_password_is_refused_and_disconnected():
    switch = Switch(time_factor=20, hostname="vm").start()
    try:
        client = Client(switch.esl_address)
        client.frame()
        assert b"Reply-Text: -ERR invalid" in client.command("auth wrong")
        assert parse_frame(client.frame()).kind == "text/disconnect-notice"
        assert client.sock.recv(10) == b""
    finally:
        switch.stop()
