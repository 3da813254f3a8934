"""The inbound Event Socket client: we connect to FreeSWITCH's 8021 for api/bgapi and events.

One background greenlet reads the socket: replies go to the waiting caller in order
(FreeSWITCH answers commands one at a time), events go to handlers. It reconnects
with backoff and subscribes again, so callers see only the `state` flicker.
"""

from __future__ import annotations

import logging
import socket
import uuid as uuidlib
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import gevent
from gevent.event import AsyncResult
from gevent.event import Event as Flag
from gevent.lock import Semaphore

from ccctl.esl.protocol import (
    ConnectionClosed,
    Event,
    Frame,
    FrameReader,
    ProtocolError,
    encode_command,
    event_from_frame,
)

log = logging.getLogger("ccctl.esl.inbound")

MAX_BACKOFF_SECONDS = 30.0
JOBS_KEPT = 1024  # bgapi results nobody has collected yet; the oldest go first
EventHandler = Callable[[Event], None]


class EslUnavailable(Exception):
    """The inbound connection is down (or went down while a command waited for its reply)."""


class EslCommandError(Exception):
    """FreeSWITCH answered a command with -ERR."""


@dataclass
class InboundState:
    """What `ccctl status` shows of the inbound connection."""

    status: str = "disconnected"  # connected, connecting, disconnected
    address: str = ""
    last_error: str = ""
    connects: int = 0


class InboundClient:
    """api / bgapi / events over one authenticated inbound connection, kept up by a reader greenlet."""

    def __init__(
        self,
        host: str,
        port: int,
        password: str,
        reconnect_seconds: float = 2.0,
        command_timeout: float = 30.0,
    ) -> None:
        self.host, self.port, self._password = host, port, password
        self.reconnect_seconds = reconnect_seconds
        self.command_timeout = command_timeout
        self.state = InboundState(address=f"{host}:{port}")
        self._sock: socket.socket | None = None
        self._send_lock = Semaphore()
        self._pending: deque[AsyncResult] = deque()
        self._jobs: OrderedDict[str, AsyncResult] = OrderedDict()
        self._handlers: dict[str, list[EventHandler]] = {}
        self._format = "plain"
        self._subscribed: list[str] = []
        self._connected = Flag()
        self._stopping = False
        self._runner: gevent.Greenlet | None = None

    # -- life cycle -----------------------------------------------------------------

    def start(self) -> None:
        if self._runner is None:
            self._stopping = False
            self._runner = gevent.spawn(self._run)

    def stop(self) -> None:
        self._stopping = True
        self._drop_socket()
        if self._runner is not None:
            self._runner.kill(block=True, timeout=2)
            self._runner = None
        self.state.status = "disconnected"

    def wait_connected(self, timeout: float | None = None) -> bool:
        return self._connected.wait(timeout)

    def live(self) -> bool:
        """Connected now: a command sent now reaches the switch."""
        return self.state.status == "connected"

    # -- commands -------------------------------------------------------------------

    def api(self, command: str, timeout: float | None = None) -> str:
        """Run an API command and return its api/response body (text)."""
        frame = self._request(encode_command(f"api {command}"), timeout)
        return frame.body.decode("utf-8", "replace")

    def bgapi(self, command: str, timeout: float | None = None) -> str:
        """Start an API command in the background; returns its Job-UUID (see wait_job)."""
        self._ensure_subscribed(["BACKGROUND_JOB"])
        job_uuid = str(uuidlib.uuid4())
        # register before sending: the BACKGROUND_JOB may overtake our read of the reply
        self._jobs[job_uuid] = AsyncResult()
        while len(self._jobs) > JOBS_KEPT:
            self._jobs.popitem(last=False)
        try:
            frame = self._request(encode_command(f"bgapi {command}", {"Job-UUID": job_uuid}), timeout)
        except Exception:
            self._jobs.pop(job_uuid, None)
            raise
        self._check_ok(frame, "bgapi")
        granted = frame.headers.get("Job-UUID", job_uuid)
        if granted != job_uuid:  # a switch that ignores our Job-UUID header: wait under its own
            self._jobs[granted] = self._jobs.pop(job_uuid, AsyncResult())
        return granted

    def wait_job(self, job_uuid: str, timeout: float | None = None) -> str:
        """The body of the BACKGROUND_JOB event for a bgapi job (raises gevent.Timeout if late)."""
        result = self._jobs.get(job_uuid)
        if result is None:
            raise KeyError(f"unknown or already collected bgapi job {job_uuid}")
        body = result.get(timeout=timeout)
        self._jobs.pop(job_uuid, None)
        return body

    def subscribe(self, names: Iterable[str], fmt: str = "plain") -> None:
        """Ask for events by name ('CUSTOM sofia::register' for a subclass); kept across reconnects."""
        if fmt not in ("plain", "json"):
            raise ValueError(f"event format must be plain or json, got {fmt!r}")
        requested = list(dict.fromkeys(word for name in names for word in name.split()))
        new = [word for word in requested if word not in self._subscribed]
        self._subscribed.extend(new)
        # FreeSWITCH adds to a listener's subscriptions and switches the format of all of them:
        # send what is new, or what was asked for when only the format changes
        words = new or (requested if fmt != self._format else [])
        if any("::" in word for word in words) and "CUSTOM" not in words:
            # mod_event_socket reads a subclass only after CUSTOM in the same command
            words = ["CUSTOM", *words]
        self._format = fmt
        if words and self.state.status == "connected":
            self._check_ok(self._request(_event_command(fmt, words)), "event")

    def on(self, name: str, handler: EventHandler) -> None:
        """Call handler(event) for every event named `name` ('CUSTOM sofia::register', or '*' for all).

        Handlers run in the reader greenlet: they must not block (spawn if they need to).
        """
        self._handlers.setdefault(name, []).append(handler)

    # -- internals ------------------------------------------------------------------

    def _ensure_subscribed(self, names: list[str]) -> None:
        missing = [n for n in names if n not in self._subscribed]
        if missing:
            self.subscribe(missing, self._format)

    def _request(self, data: bytes, timeout: float | None = None) -> Frame:
        if self.state.status != "connected" or self._sock is None:
            raise EslUnavailable(self._unavailable_text())
        waiter = AsyncResult()
        with self._send_lock:  # reply order is send order: queue and send as one step
            self._pending.append(waiter)
            try:
                self._sock.sendall(data)
            except OSError as exc:
                self._pending.remove(waiter)
                raise EslUnavailable(f"inbound ESL {self.state.address}: send failed ({exc.strerror})") from None
        limit = timeout if timeout is not None else self.command_timeout
        try:
            return waiter.get(timeout=limit)
        except gevent.Timeout:
            # the waiter stays queued: the late reply must still be consumed in order
            verb = data.split(b" ", 1)[0].decode("ascii", "replace").strip()
            raise EslUnavailable(f"no reply from FreeSWITCH at {self.state.address} to {verb} in {limit:g} s") from None

    def _check_ok(self, frame: Frame, what: str) -> None:
        if not frame.reply_text.startswith("+OK"):
            raise EslCommandError(f"{what} refused by FreeSWITCH at {self.state.address}: {frame.reply_text[:80]}")

    def _unavailable_text(self) -> str:
        last = f" (last error: {self.state.last_error})" if self.state.last_error else ""
        return f"inbound ESL to {self.state.address} is {self.state.status}{last}"

    def _run(self) -> None:
        backoff = self.reconnect_seconds
        while not self._stopping:
            self.state.status = "connecting"
            try:
                reader = self._open()
                backoff = self.reconnect_seconds
                self._read_loop(reader)
            except (OSError, ProtocolError, ConnectionClosed, EslCommandError, gevent.Timeout) as exc:
                reason = _describe(exc)
                if not self._stopping:
                    # warn once per new reason: a switch that stays down must not flood the log
                    level = logging.WARNING if reason != self.state.last_error else logging.DEBUG
                    log.log(level, "inbound ESL %s: %s", self.state.address, reason)
                self.state.last_error = reason
            except Exception as exc:  # a bug must not end reconnecting for the life of the process
                self.state.last_error = f"internal error ({type(exc).__name__})"
                log.exception("inbound ESL %s: reader failed", self.state.address)
            finally:
                self._connected.clear()
                self.state.status = "disconnected"
                self._drop_socket()
                self._fail_pending()
            if self._stopping:
                break
            gevent.sleep(backoff)
            backoff = min(backoff * 2, max(MAX_BACKOFF_SECONDS, self.reconnect_seconds))

    def _open(self) -> FrameReader:
        """Connect, authenticate and subscribe again; replies are read inline before going live."""
        sock = socket.create_connection((self.host, self.port), timeout=self.command_timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._sock = sock
        reader = FrameReader(sock)
        greeting = reader.read_frame()
        if greeting.content_type == "text/rude-rejection":
            raise EslCommandError("FreeSWITCH refused the connection (its event socket ACL does not allow us)")
        if greeting.content_type != "auth/request":
            raise ProtocolError(f"expected auth/request, got {greeting.content_type or 'a frame without Content-Type'}")
        sock.sendall(encode_command(f"auth {self._password}"))
        reply = reader.read_frame()
        if not reply.reply_text.startswith("+OK"):
            raise EslCommandError(f"authentication refused ({reply.reply_text[:40]}): check esl.password")
        if self._subscribed:
            sock.sendall(_event_command(self._format, self._subscribed))
            self._check_ok(_next_reply(reader), "event")
        sock.settimeout(None)  # from now on the reader waits for events as long as it takes
        self.state.status = "connected"
        self.state.last_error = ""
        self.state.connects += 1
        self._connected.set()
        log.info("inbound ESL connected to %s", self.state.address)
        return reader

    def _read_loop(self, reader: FrameReader) -> None:
        while True:
            frame = reader.read_frame()
            ctype = frame.content_type
            if ctype in ("command/reply", "api/response"):
                if self._pending:
                    self._pending.popleft().set(frame)
            elif ctype == "text/disconnect-notice":
                raise ConnectionClosed()
            else:
                event = event_from_frame(frame)
                if event is not None:
                    self._dispatch(event)

    def _dispatch(self, event: Event) -> None:
        name = event.name
        if name == "BACKGROUND_JOB":
            job = self._jobs.get(event.get("Job-UUID") or "")
            if job is not None:
                job.set(event.body)
        handlers = self._handlers.get(name, [])
        if name == "CUSTOM":
            handlers = handlers + self._handlers.get(f"CUSTOM {event.subclass}", [])
        for handler in handlers + self._handlers.get("*", []):
            try:
                handler(event)
            except Exception:
                log.exception("inbound ESL handler for %s failed", name)

    def _fail_pending(self) -> None:
        while self._pending:
            self._pending.popleft().set_exception(EslUnavailable(self._unavailable_text()))

    def _drop_socket(self) -> None:
        sock, self._sock = self._sock, None
        if sock is not None:
            try:
                sock.close()
            except OSError:
                pass


def _event_command(fmt: str, words: list[str]) -> bytes:
    return encode_command(f"event {fmt} {' '.join(words)}")


def _next_reply(reader: FrameReader) -> Frame:
    """The next command/reply, skipping events that a previous subscription still delivers."""
    while True:
        frame = reader.read_frame()
        if frame.content_type == "command/reply":
            return frame


def _describe(exc: BaseException) -> str:
    if isinstance(exc, ConnectionClosed):
        return "connection closed by FreeSWITCH"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, gevent.Timeout) or isinstance(exc, TimeoutError):
        return "no answer in time"
    if isinstance(exc, OSError):
        return exc.strerror or type(exc).__name__
    return str(exc)
