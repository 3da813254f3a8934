"""InboundClient against a replay of the real inbound.txt transcript and small scripted switches."""

import gevent
import pytest
import transcript
from gevent.server import StreamServer
from replay_switch import ReplaySwitch
from switch_side import encode_event_plain

from ccctl.esl.inbound import EslUnavailable, InboundClient
from ccctl.sim.command_reader import CommandReader

AUTH_REQUEST = b"Content-Type: auth/request\n\n"
ACCEPTED = b"Content-Type: command/reply\nReply-Text: +OK accepted\n\n"


class FakeSwitch:
    """A TCP server on an ephemeral port running `script(sock)` for each connection, in order."""

    def __init__(self, *scripts):
        self.scripts = list(scripts)
        self.server = StreamServer(("127.0.0.1", 0), self._handle)
        self.server.start()

    def _handle(self, sock, address):
        self.scripts.pop(0)(sock)

    def client(self, **kwargs) -> InboundClient:
        kwargs.setdefault("reconnect_seconds", 0.01)
        client = InboundClient("127.0.0.1", self.server.server_port, "ClueCon", **kwargs)
        client.start()
        return client

    def stop(self):
        self.server.stop()


def wait_for(condition, timeout=5.0):
    with gevent.Timeout(timeout):
        while not condition():
            gevent.sleep(0.005)


def test_replay_of_inbound_transcript():
    switch_side = {}

    def replay(sock):
        switch_side["switch"] = ReplaySwitch(sock, transcript.load("inbound").sections["inbound"])
        switch_side["switch"].play()

    switch = FakeSwitch(replay)
    client = switch.client()
    created, hangups = [], []
    client.on("CHANNEL_CREATE", created.append)
    client.on("CHANNEL_HANGUP_COMPLETE", hangups.append)
    try:
        assert client.wait_connected(5)
        assert client.state.status == "connected"
        status = client.api("status")
        assert status.startswith("UP 0 years")
        assert "FreeSWITCH (Version 1.10.12-release" in status
        client.subscribe(["CHANNEL_CREATE CHANNEL_ANSWER", "CHANNEL_HANGUP_COMPLETE", "BACKGROUND_JOB"])
        job = client.bgapi("originate loopback/9664/default &park()")
        assert job == "b16b4546-56fe-4e5f-b84b-8d5b749f54dc"
        wait_for(lambda: len(created) == 2)
        assert client.api("hupall NORMAL_CLEARING") == "+OK hangup all channels with cause NORMAL_CLEARING\n"
        client.subscribe(["CHANNEL_HANGUP_COMPLETE"], "json")
        wait_for(lambda: hangups)
        assert hangups[0]["Hangup-Cause"] == "NORMAL_CLEARING"
        assert hangups[0].variable("start_stamp") == "2026-11-22 16:54:30"
        assert switch_side["switch"].mismatch == ""
        assert "job-uuid" in switch_side["switch"].commands[3].headers
    finally:
        client.stop()
        switch.stop()


def test_bgapi_result_arrives_as_background_job():
    def script(sock):
        reader = CommandReader(sock)
        sock.sendall(AUTH_REQUEST)
        reader.read_command()
        sock.sendall(ACCEPTED)
        assert reader.read_command().line == "event plain BACKGROUND_JOB"
        sock.sendall(b"Content-Type: command/reply\nReply-Text: +OK event listener enabled plain\n\n")
        command = reader.read_command()
        job = command.headers["job-uuid"]
        sock.sendall(f"Content-Type: command/reply\nReply-Text: +OK Job-UUID: {job}\nJob-UUID: {job}\n\n".encode())
        event = encode_event_plain(
            [("Event-Name", "BACKGROUND_JOB"), ("Job-UUID", job), ("Job-Command", "originate")], "+OK 1234\n"
        )
        sock.sendall(b"Content-Length: %d\nContent-Type: text/event-plain\n\n" % len(event) + event)
        reader.read_command()

    switch = FakeSwitch(script)
    client = switch.client()
    try:
        assert client.wait_connected(5)
        job = client.bgapi("originate loopback/1000 &park()")
        assert client.wait_job(job, timeout=5) == "+OK 1234\n"
    finally:
        client.stop()
        switch.stop()


def test_reconnects_and_subscribes_again_after_the_switch_closes():
    second_subscription = []

    def first(sock):
        reader = CommandReader(sock)
        sock.sendall(AUTH_REQUEST)
        reader.read_command()
        sock.sendall(ACCEPTED)
        reader.read_command()  # event plain CHANNEL_ANSWER
        sock.sendall(b"Content-Type: command/reply\nReply-Text: +OK event listener enabled plain\n\n")
        sock.close()

    def second(sock):
        reader = CommandReader(sock)
        sock.sendall(AUTH_REQUEST)
        reader.read_command()
        sock.sendall(ACCEPTED)
        second_subscription.append(reader.read_command().line)
        sock.sendall(b"Content-Type: command/reply\nReply-Text: +OK event listener enabled plain\n\n")
        reader.read_command()

    switch = FakeSwitch(first, second)
    client = switch.client()
    try:
        assert client.wait_connected(5)
        client.subscribe(["CHANNEL_ANSWER"])
        wait_for(lambda: client.state.connects == 2 and client.state.status == "connected")
        assert second_subscription == ["event plain CHANNEL_ANSWER"]
    finally:
        client.stop()
        switch.stop()


def test_wrong_password_is_reported_in_state():
    def script(sock):
        reader = CommandReader(sock)
        sock.sendall(AUTH_REQUEST)
        reader.read_command()
        sock.sendall(b"Content-Type: command/reply\nReply-Text: -ERR invalid\n\n")
        sock.close()

    switch = FakeSwitch(*[script] * 50)
    client = switch.client(reconnect_seconds=10)
    try:
        wait_for(lambda: client.state.last_error)
        assert client.state.status != "connected"
        assert "authentication refused" in client.state.last_error
        assert "esl.password" in client.state.last_error
    finally:
        client.stop()
        switch.stop()


def test_api_while_disconnected_names_the_address():
    switch = FakeSwitch()
    port = switch.server.server_port
    switch.stop()  # nothing listens there any more
    client = InboundClient("127.0.0.1", port, "ClueCon", reconnect_seconds=10)
    client.start()
    try:
        wait_for(lambda: client.state.last_error)
        with pytest.raises(EslUnavailable) as caught:
            client.api("status")
        assert str(caught.value) == f"inbound ESL to 127.0.0.1:{port} is disconnected (last error: connection refused)"
    finally:
        client.stop()


def test_custom_events_reach_handlers_of_their_subclass():
    def script(sock):
        reader = CommandReader(sock)
        sock.sendall(AUTH_REQUEST)
        reader.read_command()
        sock.sendall(ACCEPTED)
        assert reader.read_command().line == "event plain CUSTOM sofia::register"
        sock.sendall(b"Content-Type: command/reply\nReply-Text: +OK event listener enabled plain\n\n")
        for subclass in ("sofia::unregister", "sofia::register"):
            event = encode_event_plain([("Event-Name", "CUSTOM"), ("Event-Subclass", subclass), ("username", "1001")])
            sock.sendall(b"Content-Length: %d\nContent-Type: text/event-plain\n\n" % len(event) + event)
        reader.read_command()

    switch = FakeSwitch(script)
    client = switch.client()
    registered, every_custom = [], []
    client.on("CUSTOM sofia::register", registered.append)
    client.on("CUSTOM", every_custom.append)
    try:
        assert client.wait_connected(5)
        client.subscribe(["CUSTOM sofia::register"])
        wait_for(lambda: len(every_custom) == 2)
        assert [e["username"] for e in registered] == ["1001"]
        assert [e.subclass for e in every_custom] == ["sofia::unregister", "sofia::register"]
    finally:
        client.stop()
        switch.stop()


def test_a_later_subclass_is_asked_for_after_custom_again():
    """mod_event_socket takes a subclass only after CUSTOM in the same `event` command."""
    commands = []

    def script(sock):
        reader = CommandReader(sock)
        sock.sendall(AUTH_REQUEST)
        reader.read_command()
        sock.sendall(ACCEPTED)
        for _ in range(2):
            commands.append(reader.read_command().line)
            sock.sendall(b"Content-Type: command/reply\nReply-Text: +OK event listener enabled plain\n\n")
        reader.read_command()

    switch = FakeSwitch(script)
    client = switch.client()
    try:
        assert client.wait_connected(5)
        client.subscribe(["CHANNEL_BRIDGE", "CUSTOM sofia::register"])
        client.subscribe(["CUSTOM avmd::beep"])
        assert commands == ["event plain CHANNEL_BRIDGE CUSTOM sofia::register", "event plain CUSTOM avmd::beep"]
    finally:
        client.stop()
        switch.stop()
