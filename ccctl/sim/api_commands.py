"""The `api` commands of the emulator, with mod_commands' exact output texts.

run_api returns the response body, or None for an unknown command (the listener then
answers `-ERR <cmd> Command not found!`).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from ccctl.sim.causes import cause_from_text
from ccctl.sim.conference import conference_api
from ccctl.sim.digit_apps import separate_args
from ccctl.sim.event_builder import (
    CALLED_FROM,
    SimEvent,
    base_headers,
    serialize_json,
    serialize_plain,
    serialize_xml,
)

if TYPE_CHECKING:
    from ccctl.sim.listener import Listener
    from ccctl.sim.switch import Switch

VERSION_FULL = "1.10.12-release+git~20240802T210227Z~a88d069d6f~64bit"
VERSION_HUMAN = "1.10.12-release git a88d069 2024-08-02 21:02:27Z 64bit"
ORIGINATE_SYNTAX = "<call url> <exten>|&<application_name>(<app_args>) [<dialplan>] [<context>] [<cid_name>] [<cid_num>] [<timeout_sec>]"
CHANNEL_COLUMNS = (
    "uuid,direction,created,created_epoch,name,state,cid_name,cid_num,ip_addr,dest,application,application_data,"
    "dialplan,context,read_codec,read_rate,read_bit_rate,write_codec,write_rate,write_bit_rate,secure,hostname,"
    "presence_id,presence_data,accountcode,callstate,callee_name,callee_num,callee_direction,call_uuid,"
    "sent_callee_name,sent_callee_num,initial_cid_name,initial_cid_num,initial_ip_addr,initial_dest,"
    "initial_dialplan,initial_context"
).split(",")

Api = Callable[["Switch", str, "Listener | None"], str]


def run_api(switch: Switch, name: str, arg: str | None, listener: Listener | None = None) -> str | None:
    handler = API.get(name.lower())
    if handler is None:
        return None
    return handler(switch, (arg or "").strip(), listener)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def status(switch: Switch, arg: str, listener) -> str:
    up = int((switch.clock.now() - switch.started_at) * 1_000_000)
    years, rest = divmod(up, 365 * 86_400_000_000)
    days, rest = divmod(rest, 86_400_000_000)
    hours, rest = divmod(rest, 3_600_000_000)
    minutes, rest = divmod(rest, 60_000_000)
    seconds, rest = divmod(rest, 1_000_000)
    millis, micros = divmod(rest, 1000)
    stats = switch.stats
    return (
        f"UP {_plural(years, 'year')}, {_plural(days, 'day')}, {_plural(hours, 'hour')}, "
        f"{_plural(minutes, 'minute')}, {_plural(seconds, 'second')}, {_plural(millis, 'millisecond')}, "
        f"{_plural(micros, 'microsecond')}\n"
        f"FreeSWITCH (Version {VERSION_HUMAN}) is ready\n"
        f"{switch.session_ids - 1} session(s) since startup\n"
        f"{len(switch.channels)} session(s) - peak {stats.peak}, last 5min {stats.peak} \n"
        f"0 session(s) per Sec out of max 30, peak {stats.peak_rate}, last 5min {stats.peak_rate} \n"
        f"{switch.session_limit} session(s) max\n"
        "min idle cpu 0.00/99.00\n"
        "Current Stack Size/Max 240K/8192K\n"
    )


def version(switch: Switch, arg: str, listener) -> str:
    if arg and "short" in arg.lower():
        return "1.10.12\n"
    return f"FreeSWITCH Version {VERSION_FULL} ({VERSION_HUMAN})\n"


def uuid_kill(switch: Switch, arg: str, listener) -> str:
    if not arg:
        return "-USAGE: <uuid> [cause]\n"
    uuid, _, cause = arg.partition(" ")
    channel = switch.channels.get(uuid)
    if channel is None or not channel.up:
        return "-ERR No such channel!\n"
    switch.hangup_soon(channel, cause_from_text(cause), by="api")
    return "+OK\n"


def uuid_break(switch: Switch, arg: str, listener) -> str:
    """break_function (mod_commands.c): stop the broadcast, or set CF_BREAK so the prompt playing now stops
    at its next frame; `both` does the partner too. `all` first flushes the channel's queued private events
    (switch_core_session_flush_private_events): an `execute` sent and not started yet never runs.

    A break that finds nothing playing is spent at the next application's start (switch_core_session_exec
    clears CF_BREAK after CHANNEL_EXECUTE): a real 1.10.12 played the next prompt in full.
    """
    if not arg:
        return "-USAGE: <uuid> [all]\n"
    uuid, _, flag = arg.partition(" ")
    channel = switch.channels.get(uuid)
    if channel is None:
        return "-ERR No such channel!\n"
    targets = [channel]
    if "both" in flag and channel.other_leg is not None:  # strstr, as mod_commands reads the flag
        targets.append(channel.other_leg)
    for target in targets:
        session = switch.sessions.get(target.uuid)
        if "all" in flag and session is not None:
            session.flush_private_events()
        if "CF_BROADCAST" in target.flags:
            target.stop_broadcast()
        else:
            target.flags.add("CF_BREAK")
        target.wakeup.set()  # the media loop notices at once, as the real one does at its next frame
    return "+OK\n"


def uuid_dump(switch: Switch, arg: str, listener) -> str:
    """uuid_dump_function (mod_commands.c): the channel as a CHANNEL_DATA event (basic data and every
    variable), written as `txt` (url-encoded `Name: value` lines and a blank line, the default), `plain`
    (`Name: [value]`), `json` (one line) or `xml`."""
    argv = arg.split(" ", 1)  # switch_separate_string into at most two: the format keeps the rest
    if not argv[0]:
        return f"-USAGE: {DUMP_SYNTAX}\n"
    channel = switch.channels.get(argv[0])
    if channel is None:
        return "-ERR No such channel!\n"
    headers = base_headers(switch.core, "CHANNEL_DATA", switch.clock.now_us(), CALLED_FROM["UUID_DUMP"])
    event = SimEvent("CHANNEL_DATA", [*headers, *channel.basic_data(), *channel.variable_headers()])
    fmt = argv[1].lower() if len(argv) > 1 and argv[1] else "txt"
    if fmt == "xml":
        return serialize_xml(event)
    if fmt == "json":
        return serialize_json(event)
    return serialize_plain(event, encode=fmt != "plain")


def uuid_getvar(switch: Switch, arg: str, listener) -> str:
    argv = separate_args(arg, 4)
    if len(argv) < 2:
        return "-USAGE: <uuid> <var>\n"
    channel = switch.channels.get(argv[0])
    if channel is None:
        return "-ERR No such channel!\n"
    value = channel.get_var(argv[1])
    return "_undef_" if value is None else value


def uuid_setvar(switch: Switch, arg: str, listener) -> str:
    argv = separate_args(arg, 3)
    if len(argv) not in (2, 3):
        return "-USAGE: <uuid> <var> [value]\n"
    channel = switch.channels.get(argv[0])
    if channel is None:
        return "-ERR No such channel!\n"
    channel.set_var(argv[1], argv[2] if len(argv) == 3 else None)
    return "+OK\n"


def uuid_exists(switch: Switch, arg: str, listener) -> str:
    return "true" if arg in switch.channels else "false"


def uuid_send_dtmf(switch: Switch, arg: str, listener) -> str:
    uuid, _, digits = arg.partition(" ")
    channel = switch.channels.get(uuid)
    if channel is None:
        return f"-ERR no such session {uuid}\n"
    channel.queue_dtmf(digits.split("@")[0].strip())
    return "+OK Success\n"


def uuid_transfer(switch: Switch, arg: str, listener) -> str:
    """transfer_function (mod_commands.c): -bleg moves the bridged partner instead, -both the partner and then
    the leg itself (switch_ivr_session_transfer on each; CF_TRANSFER ends their bridge without hanging up)."""
    from ccctl.sim.bridge import leave_bridge_for_transfer

    argv = separate_args(arg, 6)  # 'quoted inline dialplans' stay one argument
    which = argv.pop(1) if argv[1:2] and argv[1] in ("-bleg", "-both") else ""
    if len(argv) < 2:
        return "-USAGE: <uuid> [-bleg|-both] <dest-exten> [<dialplan>] [<context>]\n"
    session = switch.sessions.get(argv[0])
    if session is None:
        return "-ERR No such channel!\n"
    partner = session.channel.other_leg if session.channel.bridge_ids else None
    partner_session = switch.sessions.get(partner.uuid) if partner is not None else None
    if which and partner_session is None:
        return "-ERR No such channel!\n"
    targets = {"-bleg": [partner_session], "-both": [partner_session, session]}.get(which, [session])
    legs = tuple(t.channel for t in targets)
    for target in targets:
        _transfer_session(switch, target, argv)
    for target in targets:
        leave_bridge_for_transfer(target.channel, keep=legs)
    return "+OK\n"


def _transfer_session(switch: Switch, session, argv: list[str]) -> None:
    ch = session.channel
    if len(argv) > 2 and argv[2] == "inline":
        # mod_dptools' inline dialplan: "app:arg,app2:arg2", run instead of a dialplan lookup
        session.inline_extension = [_inline_app(item) for item in argv[1].split(",") if item]
        session.transfer_to = (ch.destination, ch.context)
        where = f"{argv[1]}/{ch.context}/inline"
    else:
        session.transfer_to = (argv[1], argv[3] if len(argv) > 3 else ch.context)
        where = f"{argv[1]}/{session.transfer_to[1]}/{argv[2] if len(argv) > 2 else 'XML'}"
    # switch_ivr_session_transfer stamps the blind transfer on the leg
    ch.set_var("transfer_source", f"{int(switch.clock.now())}:{ch.uuid}:bl_xfer:{where}")
    ch.wakeup.set()


def _inline_app(item: str) -> tuple[str, str | None]:
    app, _, data = item.partition(":")
    return app.strip(), data or None


DUMP_SYNTAX = "<uuid> [format]"
HOLD_SYNTAX = "[off|toggle] <uuid> [<display>]"
BROADCAST_SYNTAX = "<uuid> <path> [aleg|bleg|holdb|both]"
UUID_SYNTAX = "<uuid> <other_uuid>"


def uuid_hold(switch: Switch, arg: str, listener) -> str:
    """uuid_hold_function: a uuid that is not there still succeeds (switch_ivr_hold_uuid starts at SUCCESS)."""
    from ccctl.sim.broadcast import hold, toggle, unhold

    argv = separate_args(arg, 4)
    if not argv:
        return f"-USAGE: {HOLD_SYNTAX}\n-ERR Operation failed\n"
    mode = argv[0].lower()
    if mode in ("off", "toggle"):
        uuid = argv[1] if len(argv) > 1 else None  # switch_core_session_locate(NULL) finds nothing
    else:
        uuid = argv[0]
    channel = switch.channels.get(uuid) if uuid else None
    ok = True
    if channel is not None:
        action = {"off": unhold, "toggle": toggle}.get(mode, hold)
        ok = action(switch, channel)
    return "+OK Success\n" if ok else "-ERR Operation failed\n"


def uuid_broadcast(switch: Switch, arg: str, listener) -> str:
    from ccctl.sim.broadcast import broadcast, leg_flags

    argv = separate_args(arg, 4)
    if len(argv) < 2:
        return f"-USAGE: {BROADCAST_SYNTAX}\n"
    if broadcast(switch, argv[0], argv[1], leg_flags(argv[2] if len(argv) > 2 else None)):
        return "+OK Message sent\n"
    return "-ERR invalid uuid\n"


def uuid_bridge(switch: Switch, arg: str, listener) -> str:
    """uuid_bridge_function: a third uuid is tried when the second will not bridge."""
    from ccctl.sim.bridge import uuid_bridge as bridge_uuids

    argv = separate_args(arg, 4)
    if len(argv) < 2:
        return f"-USAGE: {UUID_SYNTAX}\n"
    for other in argv[1:3]:
        if bridge_uuids(switch, argv[0], other):
            return f"+OK {other}\n"
    return "-ERR Invalid uuid\n"


def hupall(switch: Switch, arg: str, listener) -> str:
    argv = arg.split()
    cause = cause_from_text(argv[0], default="MANAGER_REQUEST") if argv else "MANAGER_REQUEST"
    pairs = [(argv[i], argv[i + 1]) for i in range(1, len(argv) - 1, 2)]
    for channel in list(switch.channels.values()):
        if all(channel.get_var(k) == v for k, v in pairs):
            switch.hangup_soon(channel, cause, by="api")
    if not pairs:
        return f"+OK hangup all channels with cause {cause}\n"
    dots = "..." if len(pairs) > 1 else ""
    return f"+OK hangup all channels matching [{pairs[0][0]}]=[{pairs[0][1]}]{dots} with cause: {cause}\n"


def show(switch: Switch, arg: str, listener) -> str:
    words = arg.split()
    what = words[0].lower() if words else ""
    if what not in ("channels", "calls"):
        return "-USAGE: codec|endpoint|application|api|dialplan|file|timer|calls [count]|channels [count|like <match string>]|calls|detailed_calls|bridged_calls|detailed_bridged_calls|aliases|complete|chat|management|modules|nat_map|say|interfaces|interface_types|tasks|limits|status\n"
    channels = list(switch.channels.values())
    if what == "calls":
        channels = [ch for ch in channels if ch.direction == "inbound" or ch.other_leg is None]
    if len(words) > 1 and words[1].lower() == "count":
        return f"\n{len(channels)} total.\n"
    rows = [_channel_row(switch, ch) for ch in channels]
    if len(words) > 2 and words[1].lower() == "as" and words[2].lower() == "json":
        if not rows:
            return '{"row_count": 0}\n'
        return json.dumps({"row_count": len(rows), "rows": rows}, separators=(",", ":"))
    if not rows:
        return "\n0 total.\n"
    lines = [",".join(CHANNEL_COLUMNS)] + [",".join(row[c] for c in CHANNEL_COLUMNS) for row in rows]
    return "\n".join(lines) + f"\n\n{len(rows)} total.\n"


def _channel_row(switch: Switch, ch) -> dict[str, str]:
    created = ch.times.created
    values = {
        "uuid": ch.uuid,
        "direction": ch.direction,
        "created": time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(created // 1_000_000)),
        "created_epoch": str(created // 1_000_000),
        "name": ch.name,
        "state": ch.running_state,
        "cid_name": ch.caller_name,
        "cid_num": ch.caller_number,
        "dest": ch.destination,
        "application": ch.get_var("current_application") or "",
        "application_data": ch.get_var("current_application_data") or "",
        "dialplan": "XML",
        "context": ch.context,
        "read_codec": "L16",
        "read_rate": "8000",
        "read_bit_rate": "128000",
        "write_codec": "L16",
        "write_rate": "8000",
        "write_bit_rate": "128000",
        "hostname": switch.core.hostname,
        "callstate": ch.callstate,
        "callee_name": ch.callee_name,
        "callee_num": ch.callee_number,
        "call_uuid": ch.get_var("call_uuid") or ch.uuid,
        "initial_cid_name": ch.caller_name,
        "initial_cid_num": ch.caller_number,
        "initial_dest": ch.destination,
        "initial_dialplan": "XML",
        "initial_context": ch.context,
    }
    return {column: values.get(column, "") for column in CHANNEL_COLUMNS}


def global_getvar(switch: Switch, arg: str, listener) -> str:
    if not arg:
        return "".join(f"{k}={v}\n" for k, v in switch.globals.items())
    return switch.globals.get(arg, "")


def global_setvar(switch: Switch, arg: str, listener) -> str:
    name, _, value = arg.partition("=")
    if not name:
        return "-USAGE: <var>=<value>\n"
    switch.globals[name.strip()] = value.strip()
    return "+OK\n"


def reloadxml(switch: Switch, arg: str, listener) -> str:
    return "+OK [Success]\n"


def eval_api(switch: Switch, arg: str, listener) -> str:
    if arg.lower().startswith("uuid:"):
        uuid, _, text = arg[5:].partition(" ")
        channel = switch.channels.get(uuid)
        if channel is not None:
            return channel.expand(text)
    return "".join(switch.globals.get(part[2:-1], "") if part.startswith("${") else part for part in _tokens(arg))


def _tokens(text: str) -> list[str]:
    out, i = [], 0
    while i < len(text):
        if text.startswith("${", i) and text.find("}", i) > 0:
            end = text.find("}", i)
            out.append(text[i : end + 1])
            i = end + 1
        else:
            out.append(text[i])
            i += 1
    return out


def echo(switch: Switch, arg: str, listener) -> str:
    return arg


def originate(switch: Switch, arg: str, listener) -> str:
    from ccctl.sim.originate import originate_call

    argv = separate_args(arg, 10)
    if len(argv) < 2 or len(argv) > 7:
        return f"-USAGE: {ORIGINATE_SYNTAX}\n"
    argv = [None if a.lower() == "undef" else a for a in argv] + [None] * 7
    timeout = int(argv[6]) if argv[6] and argv[6].isdigit() else 60
    ok, result = originate_call(switch, argv[0], argv[1], argv[3] or "default", argv[4], argv[5], timeout)
    return f"+OK {result}\n" if ok else f"-ERR {result}\n"


API: dict[str, Api] = {
    "status": status,
    "version": version,
    "uuid_kill": uuid_kill,
    "uuid_break": uuid_break,
    "uuid_dump": uuid_dump,
    "uuid_getvar": uuid_getvar,
    "uuid_setvar": uuid_setvar,
    "uuid_exists": uuid_exists,
    "uuid_send_dtmf": uuid_send_dtmf,
    "uuid_transfer": uuid_transfer,
    "uuid_hold": uuid_hold,
    "uuid_broadcast": uuid_broadcast,
    "uuid_bridge": uuid_bridge,
    "hupall": hupall,
    "show": show,
    "global_getvar": global_getvar,
    "global_setvar": global_setvar,
    "reloadxml": reloadxml,
    "eval": eval_api,
    "echo": echo,
    "originate": originate,
    "conference": conference_api,
}
