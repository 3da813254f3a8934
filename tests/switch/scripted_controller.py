"""A scripted outbound-socket controller that runs the same ESL commands on the real FreeSWITCH or the emulator.

It accepts one call's `socket ... async full` connection, sends connect / myevents / linger and a fixed list
of steps, and writes down what came back as short lines (event name, application, a few stable values,
command replies, the disconnect notice), so what two switches did with the same call can be compared.
"""

from __future__ import annotations

import socket
import time
import uuid as uuidlib
from dataclasses import dataclass, field
from urllib.parse import unquote

from ccctl.esl.protocol import ConnectionClosed, Event, Frame, FrameReader, ProtocolError, event_from_frame

READ_SECONDS = 20.0  # the longest wait for one awaited frame: a scenario's longest prompt is 10 s
# what an EXECUTE_COMPLETE says about its application's result, besides Application-Response
RESULT_VARIABLES = ("read_result", "playback_terminator_used")


@dataclass(frozen=True)
class Execute:
    """sendmsg execute; `until`: wait for its CHANNEL_EXECUTE_COMPLETE ("complete"), its CHANNEL_EXECUTE
    ("start"), or only the command's reply ("queued"). `event_lock`: while it runs, the commands sent
    after it wait in the channel's queue (CF_EVENT_LOCK) instead of running inside it at its next frame."""

    app: str
    arg: str = ""
    until: str = "complete"
    event_lock: bool = False


@dataclass(frozen=True)
class Api:
    """An API command on a separate inbound ESL connection; "{uuid}" stands for the call's uuid."""

    command: str


@dataclass
class Heard:
    """What the controller saw: events and notices in arrival order, replies in the order of the commands."""

    events: list[str] = field(default_factory=list)
    replies: list[str] = field(default_factory=list)

    def text(self) -> str:
        return "\n".join(["events:", *self.events, "replies:", *self.replies])


@dataclass(frozen=True)
class InboundAccess:
    host: str
    port: int
    password: str


class ScriptedController:
    """Listens on (host, port) for one call; `run` plays the steps against it and returns what it heard."""

    def __init__(self, host: str, port: int, inbound: InboundAccess, result_variables: tuple[str, ...] = ()):
        self.server = socket.socket()
        self.server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.server.bind((host, port))
        self.server.listen(1)
        self.inbound = inbound
        self.result_variables = RESULT_VARIABLES + result_variables
        self.heard = Heard()
        self.uuid = ""
        self.conn: socket.socket | None = None
        self.reader: FrameReader | None = None
        self.awaited: dict[str, set[str]] = {}  # Application-UUID -> event names seen
        self.hangup_complete = False
        self.notice_seen = False

    def close(self) -> None:
        for sock in (self.conn, self.server):
            if sock is not None:
                sock.close()

    def run(self, steps: list[Execute | Api], accept_seconds: float = 15.0) -> Heard:
        self.server.settimeout(accept_seconds)
        self.conn, _ = self.server.accept()
        self.conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.reader = FrameReader(self.conn)
        data = self._command("connect", b"connect\n\n")
        self.uuid = data.headers.get("Unique-ID", "")
        self._command("myevents", b"myevents\n\n")
        self._command("linger", b"linger\n\n")
        for step in steps:
            if isinstance(step, Api):
                self._api(step.command)
            else:
                self._execute(step)
        self._read_until(lambda: self.hangup_complete and self.notice_seen, "CHANNEL_HANGUP_COMPLETE and the notice")
        return self.heard

    # -- commands ----------------------------------------------------------------------------

    def _command(self, label: str, data: bytes) -> Frame:
        """Send one command and read frames up to its reply (events read meanwhile are noted)."""
        self.conn.sendall(data)
        while True:
            frame = self._read_frame(f"the reply to {label}")
            if frame.content_type in ("command/reply", "api/response") or "Event-Name" in frame.headers:
                reply = frame.headers.get("Reply-Text", "") or frame.body.decode(errors="replace")
                self.heard.replies.append(f"{label}: {_first_line(unquote(reply))}")
                return frame
            self._note(frame)

    def _execute(self, step: Execute) -> None:
        app_uuid = str(uuidlib.uuid4())
        lines = ["sendmsg", "call-command: execute", f"execute-app-name: {step.app}", f"event-uuid: {app_uuid}"]
        if step.arg:
            lines.append(f"execute-app-arg: {step.arg}")
        if step.event_lock:
            lines.append("event-lock: true")
        self.awaited[app_uuid] = set()
        self._command(f"execute {step.app}", ("\n".join(lines) + "\n\n").encode())
        wanted = {"complete": "CHANNEL_EXECUTE_COMPLETE", "start": "CHANNEL_EXECUTE"}.get(step.until)
        if wanted:
            self._read_until(lambda: wanted in self.awaited[app_uuid], f"{wanted} of {step.app}")

    def _api(self, command: str) -> None:
        """api on the inbound socket, as `ccctl serve` sends uuid_break; the reply body's first line is kept."""
        with socket.create_connection((self.inbound.host, self.inbound.port), timeout=10) as sock:
            reader = FrameReader(sock)
            reader.read_frame()  # auth/request
            sock.sendall(f"auth {self.inbound.password}\n\n".encode())
            auth = reader.read_frame()
            assert auth.reply_text.startswith("+OK"), f"inbound ESL refused the password: {auth.reply_text}"
            sock.sendall(f"api {command.replace('{uuid}', self.uuid)}\n\n".encode())
            reply = reader.read_frame()
            self.heard.replies.append(f"api {command}: {_first_line(reply.body.decode(errors='replace'))}")

    # -- reading -----------------------------------------------------------------------------

    def _read_frame(self, what: str) -> Frame:
        self.conn.settimeout(READ_SECONDS)
        try:
            return self.reader.read_frame()
        except (OSError, ConnectionClosed, ProtocolError) as exc:
            raise AssertionError(f"no frame while waiting for {what} ({exc!r}); heard:\n{self.heard.text()}") from exc

    def _read_until(self, done, what: str) -> None:
        deadline = time.monotonic() + READ_SECONDS
        while not done():
            if time.monotonic() > deadline:
                raise AssertionError(f"{what} not seen in {READ_SECONDS} s; heard:\n{self.heard.text()}")
            self._note(self._read_frame(what))

    def _note(self, frame: Frame) -> None:
        if frame.content_type == "text/disconnect-notice":
            headers = frame.headers
            self.notice_seen = True
            self.heard.events.append(
                f"notice {headers.get('Content-Disposition', '')} linger={headers.get('Linger-Time', '')}"
            )
            return
        event = event_from_frame(frame)
        if event is None:
            self.heard.events.append(f"frame {frame.content_type}")
            return
        self.heard.events.append(self._summary(event))
        seen = self.awaited.get(event.get("Application-UUID") or "")
        if seen is not None:
            seen.add(event.name)
        if event.name == "CHANNEL_HANGUP_COMPLETE":
            self.hangup_complete = True

    def _summary(self, event: Event) -> str:
        name = event.name
        parts = [name]
        if name in ("CHANNEL_EXECUTE", "CHANNEL_EXECUTE_COMPLETE"):
            parts.append(event.get("Application", ""))
        if name == "CHANNEL_EXECUTE_COMPLETE":
            parts.append(f"response={event.get('Application-Response', '')!r}")
            parts += [f"{n}={event.variable(n)!r}" for n in self.result_variables if event.variable(n) is not None]
        elif name == "CHANNEL_STATE":
            parts.append(event.get("Channel-State", ""))
        elif name in ("CHANNEL_HANGUP", "CHANNEL_HANGUP_COMPLETE"):
            parts.append(event.get("Hangup-Cause", ""))
        elif name == "DTMF":
            parts.append(event.get("DTMF-Digit", ""))
        # where the switch fired it: the same build always fires an event from the same line
        where = f"{event.get('Event-Calling-File', '')}:{event.get('Event-Calling-Line-Number', '')}"
        return " ".join(parts) + f" ({where} {event.get('Event-Calling-Function', '')})"


def _first_line(text: str) -> str:
    return text.strip().split("\n", 1)[0]
