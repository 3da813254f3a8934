"""The outbound Event Socket: FreeSWITCH connects once per call ('socket HOST:PORT async full').

One OutboundSession per connection, driven by that call's own greenlet: it sends a
command and reads frames until the reply and the matching CHANNEL_EXECUTE_COMPLETE,
handling every other event inline (no reader greenlet per call, see mod_event_socket.c).
"""

from __future__ import annotations

import time
import uuid as uuidlib
from collections import deque
from collections.abc import Callable

import gevent

from ccctl.callflow import AppResult, CallInfo
from ccctl.config import Settings
from ccctl.esl.protocol import (
    ConnectionClosed,
    Event,
    Frame,
    FrameReader,
    ProtocolError,
    encode_command,
    event_from_frame,
)

# How long one application may run when the caller of execute() gives no bound:
# the channel's own hangup ends a wait sooner; this only catches a switch gone silent.
DEFAULT_APP_TIMEOUT = 3600.0
DEFAULT_LINGER_TIMEOUT = 5.0
# how long an until_complete application may take to report its end once the caller has gone
AFTER_HANGUP_SECONDS = 10.0
# a send that failed: how long the frames already received may take to read (they are in our buffer)
LEFT_OVER_SECONDS = 0.1


class CallerHangup(Exception):
    """The channel hung up (or the switch sent its disconnect notice) while we were driving it."""

    def __init__(self, cause: str = "") -> None:
        super().__init__(cause or "caller hung up")
        self.cause = cause


class ClosedAfterHangup(CallerHangup):
    """The connection ended (closed or reset) after the switch said the channel is gone: a hangup, not a fault."""


class SessionTimeout(Exception):
    """The switch did not answer a command, or an application did not end, in time."""


class CommandRefused(Exception):
    """The switch answered a command with -ERR."""


class OutboundSession:
    """One call's outbound ESL connection: connect, myevents, linger, execute, hangup, close."""

    def __init__(
        self,
        sock,
        settings: Settings | None = None,
        clock: Callable[[], float] = time.time,
        round_trips: deque | None = None,
        app_timeout: float = DEFAULT_APP_TIMEOUT,
    ) -> None:
        self._sock = sock
        self._reader = FrameReader(sock)
        self._settings = settings or Settings()
        self._clock = clock
        self._round_trips = round_trips
        self.command_timeout = self._settings.esl.command_timeout
        self.app_timeout = app_timeout
        self.uuid = ""
        self.call: CallInfo | None = None
        self.answered_at: float | None = None
        self.ended_at: float | None = None
        self.hangup_cause = ""
        self.caller_gone = False  # CHANNEL_HANGUP or the disconnect notice arrived
        self.hangup_complete = False
        self.notice_seen = False
        self.closed = False
        self._lingering = False
        # None until known: does this switch echo our Event-UUID as Application-UUID?
        self._uuid_echoed: bool | None = None

    # -- commands -------------------------------------------------------------------

    def connect(self) -> CallInfo:
        """Send `connect`; its reply's headers are the channel data (values URL-encoded)."""
        frame = self._command(b"connect\n\n", "connect")
        data = Event(dict(frame.headers))
        call_uuid = data.get("Unique-ID") or data.get("Channel-Unique-ID") or ""
        if not call_uuid:
            raise ProtocolError("the reply to connect carries no Unique-ID (not an outbound socket?)")
        self.uuid = call_uuid
        variables = {name[9:]: data[name] for name in frame.headers if name.startswith("variable_")}
        destination = data.get("Caller-Destination-Number") or data.get("Channel-Destination-Number") or ""
        hotline = variables.get("cc_hotline", "")
        if not hotline:
            configured = self._settings.hotline_for_did(destination)
            hotline = configured.name if configured else ""
        self.call = CallInfo(
            uuid=call_uuid,
            caller_number=data.get("Caller-Caller-ID-Number") or data.get("Channel-Caller-ID-Number") or "",
            destination=destination,
            hotline=hotline,
            variables=variables,
            node=data.get("FreeSWITCH-Switchname") or "",
        )
        return self.call

    def myevents(self) -> None:
        """Subscribe to this channel's events (the ones execute() waits for)."""
        self._expect_ok(self._command(b"myevents\n\n", "myevents"), "myevents")

    def linger(self) -> None:
        """Keep the socket open after hangup so the last events (cause, times) still arrive."""
        self._expect_ok(self._command(b"linger\n\n", "linger"), "linger")
        self._lingering = True

    def execute(self, app: str, arg: str = "", timeout: float | None = None, until_complete: bool = False) -> AppResult:
        """Run one dialplan application and wait for its CHANNEL_EXECUTE_COMPLETE.

        Raises CallerHangup as soon as the channel hangs up: what the interrupted application would have
        returned no longer matters, except for an `until_complete` one (bridge, record), whose completion
        FreeSWITCH still sends after the hangup: that result comes back with caller_gone set.
        """
        if self.caller_gone:
            raise CallerHangup(self.hangup_cause)
        return self._run(app, arg, timeout, hanging_up=False, until_complete=until_complete)

    def await_bridge_end(self, timeout: float | None = None) -> AppResult:
        """Send nothing; read this channel's events until a CHANNEL_UNBRIDGE or the hangup (AwaitBridgeEnd).

        The caller is the B leg of a bridge the switch made (uuid_bridge): when its partner leaves,
        audio_bridge_on_exchange_media hangs the caller up (NORMAL_CLEARING), so the hangup is the usual end.
        """
        limit = timeout if timeout is not None else self.app_timeout
        last: Event | None = None
        with gevent.Timeout(limit, SessionTimeout(f"the bridge did not end in {limit:g} s")):
            while not self.caller_gone:
                event = self._take(self._read_frame())
                if event is not None:
                    last = event
                    if event.name == "CHANNEL_UNBRIDGE":
                        break
        return AppResult("bridge", "", last, caller_gone=self.caller_gone)

    def hangup(self, cause: str = "NORMAL_CLEARING", timeout: float | None = None) -> None:
        """Hang the channel up (the `hangup` application) unless the caller already left."""
        if self.caller_gone or self.closed:
            return
        try:
            self._run("hangup", cause, timeout or self.command_timeout, hanging_up=True)
        except ClosedAfterHangup:
            pass  # the connection ended after the channel went down: the hangup is done

    def finish(self, timeout: float = DEFAULT_LINGER_TIMEOUT) -> None:
        """Read the lingering events (hangup cause, end time) until CHANNEL_HANGUP_COMPLETE, then close."""
        try:
            if self._lingering and not self.closed and not self.hangup_complete:
                with gevent.Timeout(timeout, False):
                    self._drain()
        finally:
            self.close()

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            try:
                self._sock.close()
            except OSError:
                pass

    # -- reading --------------------------------------------------------------------

    def _command(self, data: bytes, what: str) -> Frame:
        """Send one command and read up to its command/reply (events before it are tracked)."""
        started = time.perf_counter()
        self._send(data)
        with gevent.Timeout(self.command_timeout, SessionTimeout(f"no reply to {what} in {self.command_timeout:g} s")):
            while True:
                frame = self._read_frame()
                if frame.content_type == "command/reply":
                    self._note_round_trip(started)
                    return frame
                self._take(frame)

    def _expect_ok(self, frame: Frame, what: str) -> None:
        reply = frame.reply_text
        if not reply.startswith("+OK"):
            raise CommandRefused(f"{what} refused by the switch: {reply[:80]!r}")

    def _run(
        self, app: str, arg: str, timeout: float | None, hanging_up: bool, until_complete: bool = False
    ) -> AppResult:
        event_uuid = str(uuidlib.uuid4())
        started = time.perf_counter()
        self._send(_sendmsg_execute(app, arg, event_uuid))
        limit = timeout if timeout is not None else self.app_timeout
        replied = False
        complete: Event | None = None
        with gevent.Timeout(limit, SessionTimeout(f"{app} did not complete in {limit:g} s")):
            while not (replied and complete is not None):
                if self.caller_gone and until_complete:
                    frame = self._read_after_hangup()
                    if frame is None:
                        break  # the channel went without reporting the application's end
                else:
                    frame = self._read_frame()
                if frame.content_type == "command/reply":
                    replied = True
                    self._note_round_trip(started)
                    if not frame.reply_text.startswith("+OK"):
                        if self.caller_gone:
                            raise CallerHangup(self.hangup_cause)
                        raise CommandRefused(f"{app} refused by the switch: {frame.reply_text[:80]!r}")
                    if (
                        hanging_up
                        and complete is None
                        and self.caller_gone
                        and (self.notice_seen or self.hangup_complete)
                    ):
                        break  # the reply came after the channel's end: nothing more will come to wait for
                    continue
                event = self._take(frame)
                if event is not None and event.name == "CHANNEL_EXECUTE_COMPLETE":
                    if self._completes(event, app, event_uuid):
                        complete = event
                if self.caller_gone and complete is None and not until_complete:
                    if not hanging_up:
                        raise CallerHangup(self.hangup_cause)
                    if replied and (self.notice_seen or self.hangup_complete):
                        break  # our own hangup: the channel is down, its completion may never matter
        gone = self.caller_gone and not hanging_up
        if complete is None:
            if gone and not until_complete:
                raise CallerHangup(self.hangup_cause)
            return AppResult(app, "", None, caller_gone=gone)
        return AppResult(app, complete.get("Application-Response") or "", complete, caller_gone=gone)

    def _read_after_hangup(self) -> Frame | None:
        """The next frame while an until_complete application winds down after the hangup, or None when
        the channel is gone (hangup complete, disconnect) or stays silent for AFTER_HANGUP_SECONDS."""
        if self.hangup_complete or not self._lingering:
            return None
        try:
            with gevent.Timeout(AFTER_HANGUP_SECONDS, False):
                return self._reader.read_frame()
        except ConnectionClosed:
            return None
        return None

    def _completes(self, event: Event, app: str, event_uuid: str) -> bool:
        """Is this CHANNEL_EXECUTE_COMPLETE the end of the application we started?

        FreeSWITCH 1.10 copies sendmsg's Event-UUID into the channel variable app_uuid
        (switch_ivr_parse_event) and reports it as Application-UUID. A switch that does
        not is matched by application name: we run one application at a time, in order.
        """
        if event.get("Application-UUID") == event_uuid:
            self._uuid_echoed = True
            return True
        if self._uuid_echoed:
            return False
        return event.get("Application") == app

    def _take(self, frame: Frame) -> Event | None:
        """Track what an unsolicited frame tells about the channel; return its event if any."""
        ctype = frame.content_type
        if ctype == "text/disconnect-notice":
            self.notice_seen = True
            self.caller_gone = True
            # the notice names the call even when it comes before the reply to connect (the caller left first)
            self.uuid = self.uuid or frame.headers.get("Controlled-Session-UUID", "")
            if frame.headers.get("Content-Disposition") == "disconnect":
                self._lingering = False
            return None
        event = event_from_frame(frame)
        if event is None:
            return None
        name = event.name
        if name == "CHANNEL_ANSWER":
            if self.answered_at is None:
                self.answered_at = self._clock()
        elif name == "CHANNEL_HANGUP":
            self._hung_up(event)
        elif name == "CHANNEL_HANGUP_COMPLETE":
            self._hung_up(event)
            self.hangup_complete = True
        return event

    def _hung_up(self, event: Event) -> None:
        self.caller_gone = True
        self.hangup_cause = event.get("Hangup-Cause") or self.hangup_cause
        if self.ended_at is None:
            self.ended_at = self._clock()

    def _send(self, data: bytes) -> None:
        try:
            self._sock.sendall(data)
        except OSError:
            self._read_what_is_left()
            if self.caller_gone:
                raise ClosedAfterHangup(self.hangup_cause) from None
            raise

    def _read_frame(self) -> Frame:
        """The next frame; CallerHangup when the connection ends after the switch said the channel is gone.

        mod_event_socket sends its disconnect notice and closes at once (listener_run's end): a command of
        ours still unread there makes the close a reset, which arrives after the notice.
        """
        try:
            return self._reader.read_frame()
        except (ConnectionClosed, OSError):
            if self.caller_gone:
                raise ClosedAfterHangup(self.hangup_cause) from None
            raise

    def _read_what_is_left(self) -> None:
        """Take the frames the switch sent before the connection broke (its disconnect notice, a hangup)."""
        try:
            with gevent.Timeout(LEFT_OVER_SECONDS, False):
                while True:
                    self._take(self._reader.read_frame())
        except (ConnectionClosed, OSError, ProtocolError):
            pass

    def _drain(self) -> None:
        while not self.hangup_complete:
            frame = self._reader.read_frame()
            self._take(frame)
            if not self._lingering:
                return  # 'Content-Disposition: disconnect': the switch closes now

    def _note_round_trip(self, started: float) -> None:
        if self._round_trips is not None:
            self._round_trips.append(time.perf_counter() - started)


def _sendmsg_execute(app: str, arg: str, event_uuid: str) -> bytes:
    headers = {"call-command": "execute", "execute-app-name": app}
    body = ""
    if "\n" in arg:
        # a header value cannot hold a newline: switch_ivr_parse_event takes a text/plain body instead
        headers["content-type"] = "text/plain"
        body = arg
    elif arg:
        headers["execute-app-arg"] = arg
    headers["Event-UUID"] = event_uuid
    return encode_command("sendmsg", headers, body)
