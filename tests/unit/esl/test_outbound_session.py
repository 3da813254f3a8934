"""OutboundSession and run_call against the real FreeSWITCH 1.10 transcripts, replayed over a socketpair."""

import socket

import gevent
import pytest
import transcript
from replay_switch import ReplaySwitch, without_command
from switch_side import encode_event_plain

from ccctl.callflow import AppResult, Execute, Finish
from ccctl.config import Hotline, Settings
from ccctl.esl.outbound import CallerHangup, OutboundSession
from ccctl.serve.call_runner import CallStats, run_call
from ccctl.sim.command_reader import CommandReader

BASIC_TONE = "tone_stream://%(200,100,440);loops=2"
DIGITS_ARG = "4 6 3 5000 # tone_stream://%(200,0,440) silence_stream://250 member_no \\d+"


class ScriptedApp:
    """A call app that runs a fixed list of commands and keeps every result."""

    def __init__(self, *commands):
        self.commands = list(commands)
        self.results: list[AppResult] = []
        self.path: list[str] = []

    def start(self, call):
        return self._next()

    def resume(self, result):
        self.results.append(result)
        return self._next()

    def _next(self):
        command = self.commands.pop(0)
        if isinstance(command, Execute):
            self.path.append(command.app)
        return command


def replay(section, echo_event_uuid=False, settings=None, app_timeout=60.0):
    """A session wired to a replaying switch; returns (session, switch, its greenlet)."""
    ours, theirs = socket.socketpair()
    switch = ReplaySwitch(theirs, section, echo_event_uuid)
    greenlet = gevent.spawn(switch.play)
    return OutboundSession(ours, settings, app_timeout=app_timeout), switch, greenlet


def run_replay(name, app, section=None, **kwargs):
    session, switch, greenlet = replay(section or transcript.load(name).sections["outbound"], **kwargs)
    records = []
    stats = CallStats()
    record = run_call(session, lambda call: app, records.append, stats=stats)
    greenlet.join(timeout=5)
    assert switch.mismatch == ""
    return record, records, stats, switch


def test_connect_turns_channel_data_into_call_info():
    session, _, greenlet = replay(transcript.load("basic").sections["outbound"])
    call = session.connect()
    session.close()
    greenlet.join(timeout=5)
    assert call.uuid == "b6010214-1d63-4a93-af4e-1e47b972a484"
    assert call.caller_number == "13800000001"
    assert call.destination == "7000"
    assert call.hotline == "main"  # DID 7000 in the default settings
    assert call.variables["current_application_data"] == "127.0.0.1:8084 async full"


def test_cc_hotline_variable_wins_over_the_did():
    section = transcript.load("basic").sections["outbound"]
    kind, reply = section.steps[1]
    steps = list(section.steps)
    steps[1] = (
        kind,
        reply.replace(
            b"Content-Type: command/reply", b"variable_cc_hotline: cardiology%20line\nContent-Type: command/reply"
        ),
    )
    settings = Settings(hotlines=[Hotline(name="main", did="9999")])
    session, _, greenlet = replay(transcript.Section("outbound", steps), settings=settings)
    call = session.connect()
    session.close()
    greenlet.join(timeout=5)
    assert call.hotline == "cardiology line"


def test_unknown_did_leaves_the_hotline_empty():
    settings = Settings(hotlines=[Hotline(name="main", did="9999")])
    session, _, greenlet = replay(transcript.load("basic").sections["outbound"], settings=settings)
    call = session.connect()
    session.close()
    greenlet.join(timeout=5)
    assert call.hotline == ""


def test_basic_call_is_completed_and_recorded():
    app = ScriptedApp(Execute("answer"), Execute("playback", BASIC_TONE), Finish())
    record, records, stats, switch = run_replay("basic", app)
    assert [r.response for r in app.results] == ["_none_", "FILE PLAYED"]
    assert switch.sent_apps() == [("answer", ""), ("playback", BASIC_TONE), ("hangup", "NORMAL_CLEARING")]
    assert all("event-uuid" in c.headers for c in switch.commands if c.verb == "sendmsg")
    assert records == [record]
    assert record.uuid == "b6010214-1d63-4a93-af4e-1e47b972a484"
    assert record.disposition == "completed"
    assert record.hangup_cause == "NORMAL_CLEARING"
    assert record.hotline == "main"
    assert record.path == ["answer", "playback"]
    assert record.started_at <= record.answered_at <= record.ended_at
    assert stats.calls() == {"active": 0, "completed": 1, "abandoned": 0, "failed": 0, "dropped": 0, "total": 1}
    assert switch.peer_closed


def test_digits_reach_the_app_as_channel_variable():
    app = ScriptedApp(Execute("answer"), Execute("play_and_get_digits", DIGITS_ARG), Finish())
    record, _, _, _ = run_replay("digits", app)
    digits = app.results[1]
    assert digits.variable("member_no") == "12345"
    assert digits.variable("read_result") == "success"
    assert record.disposition == "completed"


def test_record_application_completes():
    app = ScriptedApp(Execute("answer"), Execute("record", "/tmp/esl-capture-rec.wav 3 200 3"), Finish())
    record, _, _, _ = run_replay("record", app)
    assert [r.app for r in app.results] == ["answer", "record"]
    assert record.disposition == "completed"
    assert record.hangup_cause == "NORMAL_CLEARING"


def test_caller_hangup_during_playback_is_abandoned():
    app = ScriptedApp(Execute("answer"), Execute("playback", "tone_stream://%(10000,0,440)"), Finish())
    record, _, stats, switch = run_replay("caller_hangup", app)
    assert len(app.results) == 1  # playback never returned to the app
    assert record.disposition == "abandoned"
    assert record.hangup_cause == "NORMAL_CLEARING"
    assert record.path == ["answer", "playback"]
    assert ("hangup", "NORMAL_CLEARING") not in switch.sent_apps()
    assert stats.abandoned == 1


def test_a_call_the_switch_lost_is_failed_not_abandoned():
    section = transcript.load("caller_hangup").sections["outbound"]
    steps = [(kind, data.replace(b"NORMAL_CLEARING", b"SYSTEM_SHUTDOWN")) for kind, data in section.steps]
    app = ScriptedApp(Execute("answer"), Execute("playback", "tone_stream://%(10000,0,440)"), Finish())
    record, _, stats, _ = run_replay("caller_hangup", app, section=transcript.Section(section.name, steps))
    assert (record.disposition, record.hangup_cause) == ("failed", "SYSTEM_SHUTDOWN")
    assert record.error == "the switch hung up the call (SYSTEM_SHUTDOWN)"
    assert stats.abandoned == 0


def test_execute_raises_caller_hangup_with_the_cause():
    session, _, greenlet = replay(transcript.load("caller_hangup").sections["outbound"])
    session.connect()
    session.myevents()
    session.linger()
    session.execute("answer")
    with pytest.raises(CallerHangup) as caught:
        session.execute("playback", "tone_stream://%(10000,0,440)")
    assert caught.value.cause == "NORMAL_CLEARING"
    with pytest.raises(CallerHangup):
        session.execute("playback", "say:anyone there?")
    session.finish()
    assert session.hangup_complete
    greenlet.join(timeout=5)


def test_an_until_complete_application_returns_its_result_after_the_caller_hangs_up():
    # the recorded switch sends the playback's CHANNEL_EXECUTE_COMPLETE after CHANNEL_HANGUP and the linger notice
    session, _, greenlet = replay(transcript.load("caller_hangup").sections["outbound"])
    session.connect()
    session.myevents()
    session.linger()
    session.execute("answer")
    result = session.execute("playback", "tone_stream://%(10000,0,440)", until_complete=True)
    assert result.caller_gone
    assert result.event is not None and result.event.name == "CHANNEL_EXECUTE_COMPLETE"
    assert result.event.get("Application") == "playback"
    with pytest.raises(CallerHangup):  # nothing more can run on the channel
        session.execute("playback", "say:anyone there?")
    session.finish()
    greenlet.join(timeout=5)


def test_a_call_app_that_ends_after_an_until_complete_hangup_is_completed_not_abandoned():
    app = ScriptedApp(
        Execute("answer"), Execute("playback", "tone_stream://%(10000,0,440)", until_complete=True), Finish()
    )
    record, _, stats, switch = run_replay("caller_hangup", app)
    assert [(r.app, r.caller_gone) for r in app.results] == [("answer", False), ("playback", True)]
    assert record.disposition == "completed"
    assert ("hangup", "NORMAL_CLEARING") not in switch.sent_apps()
    assert stats.abandoned == 0


def test_completion_is_matched_by_event_uuid_when_the_switch_echoes_it():
    section = transcript.load("basic").sections["outbound"]
    steps = list(section.steps)
    playback_at = next(i for i, (k, d) in enumerate(steps) if k == "send" and b"playback" in d)
    # a stray completion of another playback (say a uuid_broadcast) before ours
    stray = encode_event_plain(
        {
            "Event-Name": "CHANNEL_EXECUTE_COMPLETE",
            "Unique-ID": "b6010214-1d63-4a93-af4e-1e47b972a484",
            "Application": "playback",
            "Application-Response": "STRAY",
            # not hex, so the replayer leaves it alone when it echoes our Event-UUID into the real ones
            "Application-UUID": "00000000-0000-0000-0000-stray0000000",
        }
    )
    stray_frame = b"Content-Length: %d\nContent-Type: text/event-plain\n\n" % len(stray) + stray
    steps.insert(playback_at + 2, ("recv", stray_frame))
    app = ScriptedApp(Execute("answer"), Execute("playback", BASIC_TONE), Finish())
    run_replay("basic", app, section=transcript.Section("outbound", steps), echo_event_uuid=True)
    assert [r.response for r in app.results] == ["_none_", "FILE PLAYED"]


def test_exception_in_call_logic_fails_the_call_and_hangs_up():
    class Broken(ScriptedApp):
        def resume(self, result):
            raise ZeroDivisionError("member 12345 divided")

    section = without_command(transcript.load("basic").sections["outbound"], "playback")
    record, records, stats, switch = run_replay("basic", Broken(Execute("answer")), section=section)
    assert record.disposition == "failed"
    assert record.error.startswith("ZeroDivisionError in call logic at test_outbound_session.py:")
    assert "12345" not in record.error
    assert switch.sent_apps()[-1] == ("hangup", "NORMAL_TEMPORARY_FAILURE")
    assert stats.failed == 1 and records == [record]


def scripted_switch(frames_after_answer: bytes, close: bool):
    """Answers connect/myevents/linger from basic.txt, then writes frames_after_answer to the answer command."""
    steps = transcript.load("basic").sections["outbound"].steps
    ours, theirs = socket.socketpair()

    def play():
        reader = CommandReader(theirs)
        try:
            for step in (1, 3, 5):
                reader.read_command()
                theirs.sendall(steps[step][1])
            reader.read_command()
            theirs.sendall(frames_after_answer)
            if close:
                theirs.close()
                return
            reader.read_command()  # until the controller drops us
        except Exception:
            pass
        theirs.close()

    return ours, gevent.spawn(play)


@pytest.mark.parametrize(
    ("frames", "close", "reason"),
    [
        (b"Content-Type command/reply\n\n", False, "ProtocolError: header line without a colon"),
        (
            b"Content-Type: command/reply\nReply-Text: +OK\n\nContent-Length: 900\nContent-Type: text/event-plain\n\nEvent-Name: CHAN",
            True,
            "ProtocolError: connection closed inside a frame",
        ),
        (
            b"Content-Type: command/reply\nReply-Text: +OK\n\n",
            False,
            "SessionTimeout: answer did not complete in 0.2 s",
        ),
    ],
    ids=["malformed", "truncated", "timeout"],
)
def test_broken_switch_fails_only_this_call(frames, close, reason):
    ours, greenlet = scripted_switch(frames, close)
    records = []
    session = OutboundSession(ours, app_timeout=0.2)
    record = run_call(session, lambda call: ScriptedApp(Execute("answer"), Finish()), records.append)
    greenlet.join(timeout=5)
    assert record.disposition == "failed"
    assert record.error.startswith(reason)
    assert session.closed and records == [record]


def test_broken_connect_reply_drops_the_connection_without_a_record():
    ours, theirs = socket.socketpair()
    theirs.sendall(b"Content-Type: command/reply\nReply-Text: +OK\n\n")
    records = []
    stats = CallStats()
    assert run_call(OutboundSession(ours), lambda call: ScriptedApp(Finish()), records.append, stats=stats) is None
    assert records == [] and stats.dropped == 1 and stats.total == 0
    theirs.close()


def test_our_hangup_returns_when_its_reply_comes_after_the_channel_is_gone():
    # the reply to `hangup` arriving after the hangup, the hangup-complete and the disconnect notice, and no
    # completion of the hangup application: nothing more will come, so waiting for it would hold the call's
    # greenlet for the whole command timeout and record a lost call as failed
    steps = list(transcript.load("basic").sections["outbound"].steps)
    at = next(i for i, (kind, data) in enumerate(steps) if kind == "send" and b"hangup" in data)
    reply, *after = steps[at + 1 :]
    after = [(kind, data) for kind, data in after if b"Event-Name: CHANNEL_EXECUTE_COMPLETE" not in data]
    section = transcript.Section("outbound", [*steps[: at + 1], *after, reply])
    app = ScriptedApp(Execute("answer"), Execute("playback", BASIC_TONE), Finish())
    with gevent.Timeout(10, AssertionError("hangup waited for a frame that never comes")):
        record, _, stats, _ = run_replay("basic", app, section=section)
    assert record.disposition == "completed" and record.error == ""
    assert stats.failed == 0


NOTICE = (
    b"Content-Type: text/disconnect-notice\nControlled-Session-UUID: 5d1c0f52-0000-4000-8000-000000000001\n"
    b"Content-Disposition: disconnect\nContent-Length: 23\n\nDisconnected, goodbye.\n"
)
CONNECT_REPLY = (
    b"Content-Type: command/reply\nReply-Text: +OK\nUnique-ID: 5d1c0f52-0000-4000-8000-000000000001\n"
    b"Caller-Caller-ID-Number: 13800000001\nCaller-Destination-Number: 7000\n\n"
)


def _quick_hangup(before_connect: bool):
    """A switch whose caller hangs up before (or right after) the controller's connect: like listener_run's end,
    it sends its disconnect notice and closes with our next command unread, so the close is a reset."""
    ours, theirs = socket.socketpair()

    def switch():
        if not before_connect:
            CommandReader(theirs).read_command()  # connect
            theirs.sendall(CONNECT_REPLY)
        gevent.sleep(0.05)  # the controller's next command arrives and stays unread
        theirs.sendall(NOTICE)
        theirs.close()

    return OutboundSession(ours), gevent.spawn(switch)


@pytest.mark.parametrize("before_connect", [True, False], ids=["before-connect", "after-connect"])
def test_a_caller_who_hangs_up_at_once_is_recorded_abandoned_not_failed(before_connect):
    session, greenlet = _quick_hangup(before_connect)
    stats = CallStats()
    records = []
    record = run_call(session, lambda call: ScriptedApp(Execute("answer"), Finish()), records.append, stats=stats)
    greenlet.join(timeout=5)
    assert records == [record]
    assert record.uuid == "5d1c0f52-0000-4000-8000-000000000001"
    assert (record.disposition, record.error) == ("abandoned", "")
    assert stats.calls()["abandoned"] == 1 and stats.calls()["dropped"] == 0
