"""The outbound socket as a controller meets it: commands, their replies, edge cases, bridging."""

from __future__ import annotations

import socket

import pytest

from ccctl.esl.protocol import FrameReader, event_from_frame
from ccctl.sim.callers import CallerScript
from ccctl.sim.dialplan import Dialplan
from ccctl.sim.originate import AgentEndpoint
from ccctl.sim.switch import Switch


class Controller:
    """One accepted outbound connection, driven by the test."""

    def __init__(self, switch: Switch, server: socket.socket, script: CallerScript):
        self.handle = switch.place_call(script)
        self.sock, _ = server.accept()
        self.sock.settimeout(3)
        self.reader = FrameReader(self.sock)

    def send(self, text: str) -> None:
        self.sock.sendall(text.encode())

    def command(self, text: str):
        self.send(text)
        while True:
            frame = self.reader.read_frame()
            if frame.content_type in ("command/reply", "api/response") and "Event-Name" not in frame.headers:
                return frame

    def execute(self, app: str, arg: str = "") -> None:
        line = f"execute-app-arg: {arg}\n" if arg else ""
        assert self.command(f"sendmsg\ncall-command: execute\nexecute-app-name: {app}\n{line}\n").reply_text == "+OK"

    def events_until(self, name: str):
        seen = []
        while True:
            frame = self.reader.read_frame()
            event = event_from_frame(frame)
            seen.append(event.name if event else frame.content_type)
            if (event and event.name == name) or frame.content_type == name:
                return seen, event or frame


@pytest.fixture
def call():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(5)
    server.settimeout(3)
    agents = {
        "1001": AgentEndpoint(answer_after=1, talk_seconds=2),
        "1002": AgentEndpoint(answer_after=1, reject_cause="USER_BUSY"),
        "1003": AgentEndpoint(answers=False),
    }
    switch = Switch(Dialplan.default(f"127.0.0.1:{server.getsockname()[1]}"), time_factor=50, agents=agents).start()

    def start(script: CallerScript | None = None) -> Controller:
        controller = Controller(switch, server, script or CallerScript())
        controller.send("connect\n\n")
        assert controller.reader.read_frame().headers["Event-Name"] == "CHANNEL_DATA"
        return controller

    yield start
    switch.stop()
    server.close()


def test_unknown_application_hangs_up_without_execute_events(call):
    c = call()
    c.command("myevents\n\n")
    c.execute("no_such_app", "x")
    seen, hangup = c.events_until("CHANNEL_HANGUP")
    assert "CHANNEL_EXECUTE" not in seen
    assert hangup.get("Hangup-Cause") == "DESTINATION_OUT_OF_ORDER"


def test_malformed_commands_get_freeswitch_replies(call):
    c = call()
    assert c.command("api\n\n").reply_text == "-ERR command not found"
    assert c.command("\n\n\nmyevents\n\n").reply_text == "+OK Events Enabled"
    assert c.command("myevents\n\n").reply_text == "-ERR aready enabled."
    # a header line without a colon is dropped by read_packet: the message carries no application
    assert c.command("sendmsg\ncall-command: execute\nexecute-app-name answer\n\n").reply_text == "+OK"
    assert c.command("getvar cc_hotline\n\n").reply_text == "main"
    assert c.command("api uuid_getvar nope x\n\n").body == b"-ERR No such channel!\n"
    assert c.handle.session.channel.answered is False


def test_bad_content_length_drops_the_connection(call):
    c = call()
    c.send("sendmsg\ncontent-length: -5\n\n")
    notice = c.reader.read_frame()
    assert (notice.content_type, notice.headers["Content-Disposition"]) == ("text/disconnect-notice", "disconnect")
    assert c.sock.recv(100) == b""
    assert c.handle.wait(3).hung_up_by == "dialplan"


def test_nolinger_closes_with_a_disconnect_notice_after_hangup(call):
    c = call()
    c.command("myevents\n\n")
    assert c.command("nolinger\n\n").reply_text == "+OK will not linger"
    c.execute("hangup", "USER_BUSY")
    seen, notice = c.events_until("text/disconnect-notice")
    assert "CHANNEL_HANGUP" in seen
    assert notice.headers["Content-Disposition"] == "disconnect"
    assert c.handle.wait(3).hangup_cause == "USER_BUSY"


def test_bridge_to_an_agent_connects_then_ends_when_the_agent_hangs_up(call):
    c = call()
    c.command("myevents\n\n")
    c.command("linger\n\n")
    c.execute("answer")
    c.execute("bridge", "user/1001")
    seen, done = c.events_until("CHANNEL_EXECUTE_COMPLETE")
    while done.get("Application") != "bridge":
        more, done = c.events_until("CHANNEL_EXECUTE_COMPLETE")
        seen += more
    assert seen.index("CHANNEL_BRIDGE") < seen.index("CHANNEL_UNBRIDGE")
    assert (done.variable("DIALSTATUS"), done.variable("bridge_hangup_cause")) == ("ANSWER", "NORMAL_CLEARING")
    c.execute("hangup")
    c.events_until("CHANNEL_HANGUP_COMPLETE")
    c.sock.close()
    assert c.handle.wait(3).bridged_to == ["sofia/internal/1001@127.0.0.1"]


def test_busy_agent_fails_the_bridge_and_hangs_up_with_user_busy(call):
    c = call()
    c.command("myevents\n\n")
    c.execute("answer")
    c.execute("bridge", "user/1002")
    _, hangup = c.events_until("CHANNEL_HANGUP")
    assert hangup.get("Hangup-Cause") == "USER_BUSY"
    assert (hangup.variable("originate_disposition"), hangup.variable("DIALSTATUS")) == ("USER_BUSY", "BUSY")


def test_unanswered_bridge_reports_no_answer_and_keeps_the_caller(call):
    c = call()
    c.command("myevents\n\n")
    c.execute("answer")
    c.execute("set", "call_timeout=5")
    c.execute("bridge", "user/1003")
    _, done = c.events_until("CHANNEL_EXECUTE_COMPLETE")
    while done.get("Application") != "bridge":
        _, done = c.events_until("CHANNEL_EXECUTE_COMPLETE")
    assert (done.variable("originate_disposition"), done.get("Answer-State")) == ("NO_ANSWER", "answered")
