"""The emulator where a real FreeSWITCH 1.10.12 was measured to behave otherwise than first emulated.

uuid_break with and without `all`, record opening its file, the RECV DTMF log lines and sensitive_dtmf,
and the EXECUTE_COMPLETE a controller still gets after the caller hangs up. Each expectation was checked
against the real switch driven the same way (an outbound socket, loopback caller, `linger`).
"""

from __future__ import annotations

import logging
import socket
import wave

import pytest

from ccctl.esl.protocol import Event, FrameReader, event_from_frame
from ccctl.sim.callers import CallerScript
from ccctl.sim.dialplan import Dialplan
from ccctl.sim.originate import AgentEndpoint
from ccctl.sim.switch import Switch

DIGITS_ARG = r"4 6 1 5000 # silence_stream://500 silence_stream://250 member_no \d+"


class Controller:
    """One accepted outbound connection; every frame is kept, in order, as the controller saw it."""

    def __init__(self, switch: Switch, server: socket.socket, script: CallerScript) -> None:
        self.handle = switch.place_call(script)
        self.sock, _ = server.accept()
        self.sock.settimeout(5)
        self.reader = FrameReader(self.sock)
        self.seen: list[tuple[str, Event | None, object]] = []  # (event name or content type, event, frame)
        self.sock.sendall(b"connect\n\n")
        self.uuid = self.reader.read_frame().headers["Unique-ID"]
        self.command("myevents")
        self.command("linger")

    def command(self, text: str):
        """Send one command; return its reply (command/reply or api/response), keeping the events between."""
        self.sock.sendall(text.encode() + b"\n\n")
        return self.next_reply()

    def next_reply(self):
        while True:
            frame = self._read()
            if frame.content_type in ("command/reply", "api/response"):
                return frame

    def execute(self, app: str, arg: str = "") -> None:
        self.sock.sendall(_sendmsg(app, arg))
        assert self.next_reply().reply_text == "+OK"

    def until(self, name: str, app: str | None = None) -> Event | object:
        """Read on until the event (or frame content type) `name`, of application `app` if given."""
        while True:
            frame = self._read()
            kind, event, _ = self.seen[-1]
            if kind == name and (app is None or (event is not None and event.get("Application") == app)):
                return event if event is not None else frame

    def names(self) -> list[str]:
        return [f"{kind}:{event.get('Application')}" if event and event.get("Application") else kind
                for kind, event, _ in self.seen]  # fmt: skip

    def _read(self):
        frame = self.reader.read_frame()
        event = event_from_frame(frame)
        if frame.content_type not in ("command/reply", "api/response"):
            self.seen.append((event.name if event else frame.content_type, event, frame))
        return frame


def _sendmsg(app: str, arg: str = "") -> bytes:
    line = f"execute-app-arg: {arg}\n" if arg else ""
    return f"sendmsg\ncall-command: execute\nexecute-app-name: {app}\n{line}\n".encode()


@pytest.fixture
def site(tmp_path):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(5)
    server.settimeout(5)
    agents = {"1001": AgentEndpoint(answer_after=0.5, talk_seconds=600)}
    dialplan = Dialplan.default(f"127.0.0.1:{server.getsockname()[1]}")
    switch = Switch(dialplan, time_factor=50, agents=agents, log_path=str(tmp_path / "freeswitch.log")).start()

    def call(script: CallerScript | None = None) -> Controller:
        return Controller(switch, server, script or CallerScript())

    call.switch = switch
    call.log = tmp_path / "freeswitch.log"
    yield call
    switch.stop()
    server.close()


# uuid_break ---------------------------------------------------------------------------------------------------


def test_uuid_break_all_drops_the_execute_sent_just_before_it_and_the_call_goes_on(site):
    # the real switch dropped it in 5 runs of 5: no CHANNEL_EXECUTE and no EXECUTE_COMPLETE, ever
    c = site()
    c.execute("answer")
    c.until("CHANNEL_EXECUTE_COMPLETE", "answer")
    c.sock.sendall(_sendmsg("playback", "tone_stream://%(1000,0,440)") + f"api uuid_break {c.uuid} all\n\n".encode())
    assert c.next_reply().reply_text == "+OK"
    assert c.next_reply().body == b"+OK\n"
    c.execute("set", "marker=1")
    c.until("CHANNEL_EXECUTE_COMPLETE", "set")
    assert "CHANNEL_EXECUTE:playback" not in c.names()
    assert "CHANNEL_EXECUTE_COMPLETE:playback" not in c.names()


def test_uuid_break_without_all_keeps_the_queued_prompt_and_it_plays_in_full(site):
    # CF_BREAK set while nothing plays is cleared by switch_core_session_exec: the real switch played 1000 ms
    c = site()
    c.execute("answer")
    c.until("CHANNEL_EXECUTE_COMPLETE", "answer")
    c.sock.sendall(_sendmsg("playback", "tone_stream://%(1000,0,440)") + f"api uuid_break {c.uuid}\n\n".encode())
    c.next_reply()
    assert c.next_reply().body == b"+OK\n"
    done = c.until("CHANNEL_EXECUTE_COMPLETE", "playback")
    assert (done.variable("playback_ms"), done.get("Application-Response")) == ("1000", "FILE PLAYED")


def test_uuid_break_stops_the_prompt_that_is_playing(site):
    c = site()
    c.execute("answer")
    c.execute("playback", "tone_stream://%(60000,0,440)")
    c.until("CHANNEL_EXECUTE", "playback")
    assert c.command(f"api uuid_break {c.uuid}").body == b"+OK\n"
    done = c.until("CHANNEL_EXECUTE_COMPLETE", "playback")
    assert int(done.variable("playback_ms")) < 60000
    assert done.get("Application-Response") == "FILE PLAYED"


def test_a_break_while_parked_does_not_cut_the_next_prompt(site):
    c = site()
    c.execute("answer")
    c.until("CHANNEL_EXECUTE_COMPLETE", "answer")
    assert c.command(f"api uuid_break {c.uuid}").body == b"+OK\n"
    c.execute("playback", "tone_stream://%(2000,0,440)")
    done = c.until("CHANNEL_EXECUTE_COMPLETE", "playback")
    assert done.variable("playback_ms") == "2000"


# record -----------------------------------------------------------------------------------------------------


def test_record_into_a_missing_folder_hangs_the_caller_up_out_of_order(site, tmp_path):
    c = site(CallerScript(message_seconds=2.0))
    c.execute("answer")
    c.execute("record", f"{tmp_path}/no/such/folder/msg.wav 20 200 3")
    done = c.until("CHANNEL_EXECUTE_COMPLETE", "record")
    names = c.names()
    assert names.index("CHANNEL_EXECUTE:record") < names.index("CHANNEL_HANGUP") < len(names) - 1
    assert done.get("Hangup-Cause") == "DESTINATION_OUT_OF_ORDER"
    assert (done.get("Application-Response"), done.variable("record_ms")) == ("_none_", None)
    assert not (tmp_path / "no").exists()
    c.sock.close()
    assert c.handle.wait(5).hangup_cause == "DESTINATION_OUT_OF_ORDER"


def test_record_writes_a_wav_as_long_as_what_was_recorded(site, tmp_path):
    path = tmp_path / "msg.wav"
    c = site(CallerScript(message_seconds=1.5))
    c.execute("answer")
    c.execute("record", f"{path} 20 200 2")
    done = c.until("CHANNEL_EXECUTE_COMPLETE", "record")
    with wave.open(str(path)) as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, 8000)
        assert wav.getnframes() == int(done.variable("record_samples")) == 12000
    assert done.variable("record_ms") == "1500"
    assert path.stat().st_size == int(done.variable("record_file_size"))


def test_record_session_makes_the_folders_of_its_file(site, tmp_path):
    path = tmp_path / "calls" / "2026" / "12" / "call.wav"
    c = site()
    c.execute("answer")
    c.execute("record_session", str(path))
    c.until("CHANNEL_EXECUTE_COMPLETE", "record_session")
    with wave.open(str(path)) as wav:
        assert wav.getframerate() == 8000


# the caller hangs up during an application --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("app", "arg"),
    [("playback", "silence_stream://60000"), ("record", "{dir}/msg.wav 60 200 30"), ("bridge", "user/1001")],
)
def test_the_application_still_completes_after_the_caller_hangs_up_and_the_linger_notice(site, tmp_path, app, arg):
    c = site(CallerScript(hangup_after=4.0, message_seconds=2.0))
    c.execute("answer")
    c.execute(app, arg.format(dir=tmp_path))
    done = c.until("CHANNEL_EXECUTE_COMPLETE", app)
    c.until("CHANNEL_HANGUP_COMPLETE")
    names = c.names()
    hangup = names.index("CHANNEL_HANGUP")
    assert names.index(f"CHANNEL_EXECUTE:{app}") < hangup < names.index(f"CHANNEL_EXECUTE_COMPLETE:{app}")
    if "text/disconnect-notice" not in names:
        c.until("text/disconnect-notice")
    notice = next(frame for kind, _, frame in c.seen if kind == "text/disconnect-notice")
    assert notice.headers["Content-Disposition"] == "linger"
    assert done.get("Hangup-Cause") == "NORMAL_CLEARING"
    if app == "record":
        assert (done.variable("record_ms"), done.variable("record_seconds")) == ("2000", "2")
    if app == "bridge":
        assert "CHANNEL_UNBRIDGE" in names[hangup:]


# the switch's log -------------------------------------------------------------------------------------------


def test_received_digits_are_logged_as_recv_dtmf_like_freeswitch(site):
    c = site(CallerScript(keys=["12#"]))
    c.execute("answer")
    c.execute("play_and_get_digits", DIGITS_ARG)
    done = c.until("CHANNEL_EXECUTE_COMPLETE", "play_and_get_digits")
    assert done.variable("member_no") == "12"
    log = site.log.read_text()
    for digit in "12#":
        assert f"{c.uuid} " in log and f"[INFO] switch_channel.c:528 RECV DTMF {digit}:2000\n" in log
    assert f"{c.uuid} EXECUTE [depth=1] loopback/7000-b play_and_get_digits({DIGITS_ARG})" in log


def test_a_sensitive_channel_logs_no_digits_and_fires_no_dtmf_events(site):
    c = site(CallerScript(keys=["4321#"]))
    c.execute("answer")
    c.execute("set", "sensitive_dtmf=true")
    c.execute("play_and_get_digits", DIGITS_ARG)
    done = c.until("CHANNEL_EXECUTE_COMPLETE", "play_and_get_digits")
    assert done.variable("member_no") == "4321"  # the application still gets them
    c.execute("hangup")
    complete = c.until("CHANNEL_HANGUP_COMPLETE")
    assert "DTMF" not in c.names()
    assert complete.variable("digits_dialed") == "none"
    assert "RECV DTMF" not in site.log.read_text()


def test_switch_log_lines_reach_the_freeswitch_logger(site, caplog):
    with caplog.at_level(logging.INFO, logger="freeswitch"):
        c = site(CallerScript(keys=["7#"]))
        c.execute("answer")
        c.execute("play_and_get_digits", DIGITS_ARG)
        c.until("CHANNEL_EXECUTE_COMPLETE", "play_and_get_digits")
    lines = [r.getMessage() for r in caplog.records if r.name == "freeswitch"]
    assert any(line.endswith("RECV DTMF 7:2000") for line in lines)
