"""One Event Socket connection, inbound (port 8021) or outbound (the socket app): mod_event_socket's listener.

parse_command's replies, event subscriptions and filters, sendmsg, api/bgapi, linger and the
disconnect notices, with events queued and written after the reply as FreeSWITCH does.
"""

from __future__ import annotations

import re
import uuid as uuidlib
from collections import deque
from typing import TYPE_CHECKING

import gevent
from gevent.event import Event as Flag
from gevent.lock import Semaphore

from ccctl.sim.command_reader import CommandReader, ConnectionDropped, ControllerCommand
from ccctl.sim.event_builder import CALLED_FROM, SimEvent, base_headers, event_frame

if TYPE_CHECKING:
    from ccctl.sim.channel import Channel
    from ccctl.sim.switch import Switch

EVENT_NAMES = frozenset(
    "CUSTOM CLONE CHANNEL_CREATE CHANNEL_DESTROY CHANNEL_STATE CHANNEL_CALLSTATE CHANNEL_ANSWER CHANNEL_HANGUP "
    "CHANNEL_HANGUP_COMPLETE CHANNEL_EXECUTE CHANNEL_EXECUTE_COMPLETE CHANNEL_HOLD CHANNEL_UNHOLD CHANNEL_BRIDGE "
    "CHANNEL_UNBRIDGE CHANNEL_PROGRESS CHANNEL_PROGRESS_MEDIA CHANNEL_OUTGOING CHANNEL_PARK CHANNEL_UNPARK "
    "CHANNEL_APPLICATION CHANNEL_ORIGINATE CHANNEL_UUID API LOG INBOUND_CHAN OUTBOUND_CHAN STARTUP SHUTDOWN PUBLISH "
    "UNPUBLISH TALK NOTALK SESSION_CRASH MODULE_LOAD MODULE_UNLOAD DTMF MESSAGE PRESENCE_IN NOTIFY_IN PRESENCE_OUT "
    "PRESENCE_PROBE MESSAGE_WAITING MESSAGE_QUERY ROSTER CODEC BACKGROUND_JOB DETECTED_SPEECH DETECTED_TONE "
    "PRIVATE_COMMAND HEARTBEAT TRAP ADD_SCHEDULE DEL_SCHEDULE EXE_SCHEDULE RE_SCHEDULE RELOADXML NOTIFY PHONE_FEATURE "
    "PHONE_FEATURE_SUBSCRIBE SEND_MESSAGE RECV_MESSAGE REQUEST_PARAMS CHANNEL_DATA GENERAL COMMAND SESSION_HEARTBEAT "
    "CLIENT_DISCONNECTED SERVER_DISCONNECTED SEND_INFO RECV_INFO RECV_RTCP_MESSAGE SEND_RTCP_MESSAGE CALL_SECURE NAT "
    "RECORD_START RECORD_STOP PLAYBACK_START PLAYBACK_STOP CALL_UPDATE FAILURE SOCKET_DATA MEDIA_BUG_START "
    "MEDIA_BUG_STOP CONFERENCE_DATA_QUERY CONFERENCE_DATA CALL_SETUP_REQ CALL_SETUP_RESULT CALL_DETAIL DEVICE_STATE "
    "TEXT SHUTDOWN_REQUESTED CERT_RELOAD ALL".split()
)
MYEVENTS = frozenset(
    "CHANNEL_ANSWER CHANNEL_APPLICATION CHANNEL_BRIDGE CHANNEL_CREATE CHANNEL_DATA CHANNEL_DESTROY CHANNEL_EXECUTE "
    "CHANNEL_EXECUTE_COMPLETE CHANNEL_HANGUP CHANNEL_HANGUP_COMPLETE CHANNEL_ORIGINATE CHANNEL_UUID CHANNEL_OUTGOING "
    "CHANNEL_PARK CHANNEL_PROGRESS CHANNEL_PROGRESS_MEDIA CHANNEL_STATE CHANNEL_UNBRIDGE CHANNEL_UNPARK "
    "DETECTED_SPEECH DTMF NOTALK TALK".split()
)
LOG_LEVELS = ("DISABLE", "CONSOLE", "ALERT", "CRIT", "ERR", "WARNING", "NOTICE", "INFO", "DEBUG")
GOODBYE = "Disconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n"


def event_name(word: str) -> str | None:
    """switch_name_event: case-insensitive, with or without the SWITCH_EVENT_ prefix."""
    name = word.upper()
    if name.startswith("SWITCH_EVENT_"):
        name = name[len("SWITCH_EVENT_") :]
    return name if name in EVENT_NAMES else None


class Listener:
    """Command handling and event delivery for one ESL socket."""

    def __init__(self, switch: Switch, sock, channel: Channel | None = None, full: bool = True) -> None:
        self.switch = switch
        self.sock = sock
        self.channel = channel
        self.outbound = channel is not None
        self.full = full
        self.async_mode = False
        self.authed = self.outbound
        self.running = True
        self.connected = Flag()
        self.events_on = False
        self.myevents = False
        self.event_types: set[str] = set()
        self.subclasses: set[str] = set()
        self.format = "plain"
        self.filters: list[tuple[str, str]] = []
        self.linger: int | None = None  # None: no linger; -1: until the controller leaves
        self.handle_disco = False
        self.resume = False
        self.log_level: int | None = None
        self.queue: deque[SimEvent] = deque()
        self._flush_pending = False
        self._write_lock = Semaphore()
        self.closed = Flag()

    # event delivery ----------------------------------------------------------
    def wants(self, name: str) -> bool:
        return self.events_on and self.running and ("ALL" in self.event_types or name in self.event_types)

    def accepts(self, event: SimEvent) -> bool:
        """mod_event_socket event_handler: type, CUSTOM subclass, filters, myevents."""
        if not self.events_on or not self.running:
            return False
        if "ALL" in self.event_types:
            send = True
        elif event.name in self.event_types:
            send = event.name != "CUSTOM" or not event.subclass or event.subclass in self.subclasses
        else:
            send = False
        if send and self.filters:
            send = self._passes_filters(event)
        if send and self.myevents and self.channel is not None:
            send = event.unique_id == self.channel.uuid
        if self.myevents and self.channel is not None and event.job_owner == self.channel.uuid:
            send = True
        return send

    def _passes_filters(self, event: SimEvent) -> bool:
        send = False
        for name, wanted in self.filters:
            value = event.get(name)
            if value is None:
                continue
            comp, positive = wanted, True
            while comp and comp[0] in "+- ":
                positive = comp[0] != "-" if comp[0] != " " else positive
                comp = comp[1:]
            if (send and positive) or not comp:
                continue
            if wanted.startswith("/"):
                match = re.search(comp.strip("/"), value) is not None
            else:
                match = value.lower() == comp.lower()
            if match:
                if not positive:
                    return False
                send = True
        return send

    def deliver(self, event: SimEvent) -> None:
        self.queue.append(event)
        self._schedule_flush()

    def channel_down(self) -> None:
        self._schedule_flush()

    def _schedule_flush(self) -> None:
        if not self._flush_pending and self.running:
            self._flush_pending = True
            gevent.spawn(self._flush)

    def _flush(self) -> None:
        """read_packet's idle work: write queued events, then react to the channel going down."""
        self._flush_pending = False
        while self.queue and self.running:
            self.send(event_frame(self.queue.popleft(), self.format))
        channel = self.channel
        if channel is None or channel.up or self.handle_disco or not self.running:
            return
        self.handle_disco = True
        if self.linger is None:
            self.stop()
            return
        self.send(
            (
                "Content-Type: text/disconnect-notice\n"
                f"Controlled-Session-UUID: {channel.uuid}\n"
                "Content-Disposition: linger\n"
                f"Channel-Name: {channel.name}\n"
                f"Linger-Time: {self.linger}\n"
                "Content-Length: 0\n\n"
            ).encode()
        )
        if self.linger >= 0:
            gevent.spawn_later(self.switch.clock.real(self.linger), self.stop)

    def send(self, data: bytes) -> None:
        with self._write_lock:
            try:
                self.sock.sendall(data)
            except OSError:
                self.running = False

    def reply(self, text: str) -> None:
        if text.startswith("~"):
            self.send(("Content-Type: command/reply\n" + text[1:]).encode())
        else:
            self.send(f"Content-Type: command/reply\nReply-Text: {text}\n\n".encode())

    def stop(self) -> None:
        """listener_run's end: the goodbye notice, close, let the session go."""
        if self.closed.is_set():
            return
        self.running = False
        self.switch.bus.remove(self)
        if self.channel is not None:
            head = (
                f"Content-Type: text/disconnect-notice\nControlled-Session-UUID: {self.channel.uuid}\n"
                f"Content-Disposition: disconnect\nContent-Length: {len(GOODBYE)}\n\n"
            )
        else:
            head = f"Content-Type: text/disconnect-notice\nContent-Length: {len(GOODBYE)}\n\n"
        with self._write_lock:
            try:
                self.sock.sendall((head + GOODBYE).encode())
            except OSError:
                pass
        try:
            self.sock.close()
        except OSError:
            pass
        if self.channel is not None and self in self.channel.controllers:
            self.channel.controllers.remove(self)
            self.channel.wakeup.set()
        self.closed.set()

    # command loop ------------------------------------------------------------
    def serve(self, reader: CommandReader) -> None:
        try:
            while self.running:
                command = reader.read_command()
                text = self.handle(command)
                if text:
                    self.reply(text)
        except ConnectionDropped:
            pass
        finally:
            self.stop()

    def handle(self, command: ControllerCommand) -> str:
        """parse_command: the reply text ('' when the reply was already written)."""
        from ccctl.sim.listener_commands import dispatch

        return dispatch(self, command)

    def fire_background_job(self, job_uuid: str, command: str, arg: str | None, result: str) -> None:
        owner = self.channel.uuid if self.channel is not None else ""
        headers = base_headers(
            self.switch.core, "BACKGROUND_JOB", self.switch.clock.now_us(), CALLED_FROM["BACKGROUND_JOB"]
        )
        headers.append(("Job-UUID", job_uuid))
        if owner:
            headers.append(("Job-Owner-UUID", owner))
        headers.append(("Job-Command", command))
        if arg is not None:
            headers.append(("Job-Command-Arg", arg))
        self.switch.bus.fire(SimEvent("BACKGROUND_JOB", headers, result, job_owner=owner))

    def new_job_uuid(self, command: ControllerCommand) -> str:
        return command.header("job-uuid") or str(uuidlib.uuid4())
