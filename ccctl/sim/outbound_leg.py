"""The `socket` application: the switch dials the controller, answers `connect`, parks the call.

Follows mod_event_socket's socket_function: one TCP connection per call, the channel data
as the connect reply, then the call parks while the controller sends sendmsg commands.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import gevent
from gevent import socket

from ccctl.sim.command_reader import CommandReader, ConnectionDropped
from ccctl.sim.event_builder import CALLED_FROM, SimEvent, base_headers, serialize_plain
from ccctl.sim.listener import Listener

if TYPE_CHECKING:
    from ccctl.sim.channel import Channel
    from ccctl.sim.session import Session

FIRST_COMMAND_SECONDS = 25  # read_packet(listener, &ievent, 25) before the first command
PARK_GRACE_SECONDS = 0.2  # FreeSWITCH parks after `connect`; its PARK event reaches a quick controller late


def channel_data_reply(listener: Listener, channel: Channel) -> bytes:
    """The reply to `connect`: a serialised CHANNEL_DATA event plus the reply headers."""
    switch = channel.switch
    headers = base_headers(switch.core, "CHANNEL_DATA", switch.clock.now_us(), CALLED_FROM["CHANNEL_DATA"])
    headers.extend(channel.profile_data("Channel"))
    headers.extend(channel.basic_data())
    headers.extend(channel.variable_headers())
    headers.append(("Content-Type", "command/reply"))
    headers.append(("Reply-Text", "+OK\n"))
    headers.append(("Socket-Mode", "async" if listener.async_mode else "static"))
    headers.append(("Control", "full" if listener.full else "single-channel"))
    return serialize_plain(SimEvent("CHANNEL_DATA", headers)).encode()


def _connect(session: Session, hosts: str):
    ch = session.channel
    for host in hosts.split("|"):
        if not host:
            continue
        port = 8084
        if ":" in host:
            host, _, port_text = host.rpartition(":")
            path_start = port_text.find("/")
            if path_start >= 0:
                ch.set_var("socket_path", port_text[path_start + 1 :])
                port_text = port_text[:path_start]
            port = int(port_text) if port_text.isdigit() else 0
        ch.set_var("socket_host", host)
        try:
            sock = socket.create_connection((host, port), timeout=5)
        except OSError:
            continue
        sock.settimeout(None)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock
    return None


def socket_app(session: Session, data: str) -> None:
    """socket <host:port[|host:port]> [async] [full]."""
    argv = data.split()
    if not argv:
        return
    ch = session.channel
    sock = _connect(session, argv[0])
    if sock is None:
        session.connect_failed = True
        session.switch.note_failure(ch, f"could not connect to the controller at {argv[0]}")
        return
    flags = {word.lower() for word in argv[1:]}
    listener = Listener(session.switch, sock, channel=ch, full="full" in flags)
    listener.async_mode = "async" in flags
    ch.controllers.append(listener)
    session.controller = listener
    gevent.spawn(_serve, listener)
    clock = session.switch.clock
    while ch.up and not listener.connected.is_set() and not listener.closed.is_set():
        if ch.hangup_deadline is not None and clock.now() >= ch.hangup_deadline:
            ch.hangup(ch.deadline_cause, by=ch.deadline_by, at=ch.hangup_deadline)
            break
        timeout = None if ch.hangup_deadline is None else clock.real(ch.hangup_deadline - clock.now()) + 0.0005
        ch.wakeup.clear()
        gevent.wait([listener.connected, listener.closed, ch.wakeup], timeout=timeout, count=1)
    if not listener.connected.is_set() or not ch.up:
        return
    if not session.messages:
        ch.wakeup.clear()
        ch.wakeup.wait(PARK_GRACE_SECONDS)
    session.park()


def _serve(listener: Listener) -> None:
    sock = listener.sock
    reader = CommandReader(sock)
    sock.settimeout(listener.switch.clock.real(FIRST_COMMAND_SECONDS))
    try:
        first = reader.read_command()
    except ConnectionDropped:
        listener.stop()
        return
    sock.settimeout(None)
    text = listener.handle(first)
    if text:
        listener.reply(text)
    listener.serve(reader)
