"""parse_command of mod_event_socket.c: every ESL command and its exact reply text.

Checked in FreeSWITCH's order (exit, auth, filter, resume, connect/getvar/myevents,
sendmsg, then the full-control commands); anything else gets `-ERR command not found`.
"""

from __future__ import annotations

import uuid as uuidlib
from typing import TYPE_CHECKING

import gevent

from ccctl.sim.api_commands import run_api
from ccctl.sim.command_reader import ControllerCommand
from ccctl.sim.event_builder import SimEvent, base_headers
from ccctl.sim.listener import EVENT_NAMES, LOG_LEVELS, MYEVENTS, event_name

if TYPE_CHECKING:
    from ccctl.sim.listener import Listener


def _starts(line: str, word: str) -> bool:
    return line[: len(word)].lower() == word


def dispatch(listener: Listener, command: ControllerCommand) -> str:
    line = command.line
    if _starts(line, "exit") or line.startswith("..."):
        listener.running = False
        return "+OK bye"
    if not listener.authed:
        return _authenticate(listener, line)
    if _starts(line, "filter "):
        return _filter(listener, line[7:])
    if listener.channel is not None and _starts(line, "resume"):
        listener.resume = True
        listener.channel.set_var("socket_resume", "true")
        return "+OK"
    if listener.channel is not None or _starts(line, "myevents "):
        reply = _session_command(listener, command)
        if reply is not None:
            return reply
    if _starts(line, "divert_events"):
        return _divert(listener, line[13:])
    if _starts(line, "sendmsg"):
        return _sendmsg(listener, command)
    if listener.outbound and not listener.full:
        return "-ERR command not found"
    reply = _full_command(listener, command)
    return "-ERR command not found" if reply is None else reply


def _authenticate(listener: Listener, line: str) -> str:
    if _starts(line, "auth "):
        if line[5:] == listener.switch.password:
            listener.authed = True
            return "+OK accepted"
        listener.running = False
        return "-ERR invalid"
    if _starts(line, "userauth "):
        listener.running = False  # no directory users in the emulator
        return "-ERR invalid"
    return "-ERR command not found"


def _filter(listener: Listener, rest: str) -> str:
    rest = rest.lstrip(" ")
    name, sep, value = rest.partition(" ")
    if name.lower() == "delete" and sep:
        name, sep2, value = value.partition(" ")
        if name.lower() == "all":
            listener.filters.clear()
        else:
            listener.filters = [
                (n, v) for n, v in listener.filters if not (n.lower() == name.lower() and (not sep2 or v == value))
            ]
        return f"+OK filter deleted. [{name}][{value if sep2 else ''}]"
    if sep:
        if name.lower() == "add":
            name, _, value = value.partition(" ")
        listener.filters.append((name, value))
        return f"+OK filter added. [{name}]=[{value}]"
    return "-ERR invalid syntax"


def _session_command(listener: Listener, command: ControllerCommand) -> str | None:
    line = command.line
    channel = listener.channel
    if _starts(line, "connect"):
        if channel is not None:
            from ccctl.sim.outbound_leg import channel_data_reply

            listener.send(channel_data_reply(listener, channel))
            listener.connected.set()
            return ""
        return None
    if _starts(line, "getvar"):
        _, sep, name = line.partition(" ")
        value = channel.get_var(name) if (sep and channel is not None) else None
        return value or ""
    if _starts(line, "myevents"):
        return _myevents(listener, line)
    return None


def _myevents(listener: Listener, line: str) -> str:
    if listener.myevents:
        return "-ERR aready enabled."
    if listener.channel is None:
        uuid, _, fmt = line[9:].strip().partition(" ")
        channel = listener.switch.channels.get(uuid)
        if channel is None and fmt:
            return "-ERR invalid uuid"
        listener.channel = channel
        if fmt.lower() in ("plain", "json", "xml"):
            listener.format = fmt.lower()
    listener.event_types |= MYEVENTS
    listener.myevents = True
    listener.events_on = True
    if "xml" in line.lower():
        listener.format = "xml"
    if "json" in line.lower():
        listener.format = "json"
    listener.switch.bus.add(listener)
    return "+OK Events Enabled"


def _divert(listener: Listener, rest: str) -> str:
    if listener.channel is None:
        return "-ERR not controlling a session."
    onoff = rest.strip()
    if not onoff:
        return "-ERR missing value."
    return "+OK events diverted" if onoff.lower() == "on" else "+OK events not diverted"


def _sendmsg(listener: Listener, command: ControllerCommand) -> str:
    uuid = command.line[7:].strip() or command.header("session-id") or ""
    own = listener.channel
    if own is not None and uuid == own.uuid:
        uuid = ""
    session = None
    if not uuid and own is not None:
        session = listener.switch.sessions.get(own.uuid)
    elif uuid:
        session = listener.switch.sessions.get(uuid)
    if session is None:
        return f"-ERR invalid session id [{uuid or '(null)'}]"
    session.queue_message(command)
    return "+OK"


def _full_command(listener: Listener, command: ControllerCommand) -> str | None:
    line = command.line
    if _starts(line, "api "):
        _api(listener, line[4:])
        return ""
    if _starts(line, "bgapi "):
        return _bgapi(listener, command)
    if _starts(line, "sendevent"):
        return _sendevent(listener, command)
    if _starts(line, "log"):
        return _log(listener, line[3:])
    if _starts(line, "linger"):
        return _linger(listener, line)
    if _starts(line, "nolinger"):
        if listener.channel is None:
            return "-ERR not controlling a session"
        listener.linger = None
        return "+OK will not linger"
    if _starts(line, "nolog"):
        if listener.log_level is None:
            return "-ERR not loging"
        listener.log_level = None
        return "+OK no longer logging"
    if _starts(line, "event"):
        return _event(listener, line)
    if _starts(line, "nixevent"):
        return _nixevent(listener, line)
    if _starts(line, "noevents"):
        return _noevents(listener)
    return None


def _api(listener: Listener, text: str) -> None:
    name, _, arg = text.partition(" ")
    result = run_api(listener.switch, name, arg if _ else None, listener)
    if result is None:
        result = f"-ERR {name} Command not found!\n"
    elif not result:
        result = "-ERR no reply\n"
    data = result.encode()
    listener.send(f"Content-Type: api/response\nContent-Length: {len(data)}\n\n".encode() + data)


def _bgapi(listener: Listener, command: ControllerCommand) -> str:
    name, sep, arg = command.line[6:].partition(" ")
    job = listener.new_job_uuid(command)

    def work() -> None:
        result = run_api(listener.switch, name, arg if sep else None, listener)
        if result is None:
            result = f"-ERR {name} Command not found!\n"
        listener.fire_background_job(job, name, arg if sep else None, result or "Command returned no output!")

    gevent.spawn(work)
    return f"~Reply-Text: +OK Job-UUID: {job}\nJob-UUID: {job}\n\n"


def _sendevent(listener: Listener, command: ControllerCommand) -> str:
    """sendevent NAME: fire an event built from the command's headers and body."""
    event_uuid = str(uuidlib.uuid4())
    name = event_name(command.line[9:].strip()) or "CUSTOM"
    switch = listener.switch
    headers = base_headers(switch.core, name, switch.clock.now_us(), ("mod_event_socket.c", "parse_command", 2221))
    headers += [(k, v) for k, v in command.headers.items() if k != "content-length"]
    headers.append(("Event-UUID", event_uuid))
    subclass = command.header("event-subclass") or ""
    switch.bus.fire(SimEvent(name, headers, command.body, subclass, unique_id=command.header("unique-id") or ""))
    return f"+OK {event_uuid}"


def _log(listener: Listener, rest: str) -> str:
    level_text = rest.strip().split(" ", 1)[0]
    level = 7
    if level_text:
        if level_text.isdigit():
            level = int(level_text)
        elif level_text.upper() in LOG_LEVELS:
            level = LOG_LEVELS.index(level_text.upper()) - 1
        else:
            return "-ERR invalid log level"
    listener.log_level = level
    return f"+OK log level {level_text} [{level}]"


def _linger(listener: Listener, line: str) -> str:
    if listener.channel is None:
        return "-ERR not controlling a session"
    seconds = line[7:].strip() if line[6:7] == " " else ""
    if seconds:
        digits = seconds.split()[0]
        listener.linger = int(digits) if digits.lstrip("-").isdigit() else 0
        return f"+OK will linger {listener.linger} seconds"
    listener.linger = -1
    return "+OK will linger"


def _event(listener: Listener, line: str) -> str:
    words = line.split(" ")[1:]
    keys = 0
    custom = False
    for index, word in enumerate(words):
        if not word:
            continue
        if index == 0 and word.lower() in ("plain", "json", "xml"):
            listener.format = word.lower()
            continue
        if custom:
            listener.subclasses.add(word)
            continue
        name = event_name(word)
        if name is None:
            continue
        keys += 1
        listener.event_types.add(name)
        custom = custom or name == "CUSTOM"
    if not keys:
        return "-ERR no keywords supplied"
    listener.events_on = True
    listener.switch.bus.add(listener)
    return f"+OK event listener enabled {listener.format}"


def _nixevent(listener: Listener, line: str) -> str:
    keys = 0
    custom = False
    for word in line.split(" ")[1:]:
        if custom:
            listener.subclasses.discard(word)
            continue
        name = event_name(word)
        if name is None:
            continue
        keys += 1
        if name == "CUSTOM":
            custom = True
        elif name == "ALL":
            listener.event_types.clear()
        else:
            if "ALL" in listener.event_types:
                listener.event_types = set(_ALL_TYPES)
            listener.event_types.discard(name)
    if not keys:
        return "-ERR no keywords supplied"
    listener.events_on = True
    return "+OK events nixed"


def _noevents(listener: Listener) -> str:
    listener.queue.clear()
    if not listener.events_on:
        return "-ERR not listening for events"
    listener.events_on = False
    listener.event_types.clear()
    listener.subclasses.clear()
    return "+OK no longer listening for events"


_ALL_TYPES = EVENT_NAMES - {"ALL"}
