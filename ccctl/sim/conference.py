"""mod_conference as the emulator needs it: the `conference` application and the `conference` api.

What mod_conference does that we rely on: `conference NAME@PROFILE` answers the leg and makes it a member
(the conference is made by its first member and ends with its last); the api answers `list` (every
conference, or one), `NAME list` (a member a line, ';'-separated as conference_list writes them),
`NAME record PATH` ("+OK Record file PATH", a file from then on), `NAME norecord PATH|all`, `NAME kick|hup
ID|all` and "-ERR Conference NAME not found" for an unknown one, newest member first, as FreeSWITCH 1.10.12
answered them (tests/switch/test_consult_on_switch.py). Nothing is mixed: the emulator has no audio, a
recording is a silent WAV.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ccctl.sim.session_recording import silent_wav

if TYPE_CHECKING:
    from ccctl.sim.channel import Channel
    from ccctl.sim.session import Session
    from ccctl.sim.switch import Switch


@dataclass
class Member:
    id: int
    channel: Channel
    kicked: bool = False


@dataclass
class Conference:
    name: str
    profile: str
    members: list[Member] = field(default_factory=list)
    recordings: list[str] = field(default_factory=list)
    last_id: int = 0


def conferences(switch: Switch) -> dict[str, Conference]:
    return switch.conferences


def parse_target(data: str) -> tuple[str, str]:
    """conference_function's "name@profile+pin+flags{...}": the name and the profile ("default")."""
    spec = data.strip().split("+", 1)[0]
    name, _, profile = spec.partition("@")
    return name, profile or "default"


def conference_app(session: Session, data: str) -> None:
    ch = session.channel
    name, profile = parse_target(data or "")
    if not name:
        return
    if not ch.answered:
        ch.answer()  # conference_function answers a leg that is not up yet
    table = conferences(session.switch)
    conference = table.get(name)
    if conference is None:
        conference = table[name] = Conference(name, profile)
    conference.last_id += 1
    member = Member(conference.last_id, ch)
    conference.members.append(member)
    ch.set_var("conference_name", name)
    ch.set_var("conference_member_id", str(member.id))
    try:
        ch.wait_for(lambda: member.kicked or session.transfer_to is not None)
    finally:
        conference.members.remove(member)
        if not conference.members:  # the last member out ends the conference and its recordings
            table.pop(name, None)
    if member.kicked and ch.up and session.transfer_to is None:
        ch.hangup("NORMAL_CLEARING", by="conference")


def _member_line(member: Member) -> str:
    ch = member.channel
    # conference_list: id;name;uuid;caller_id_name;caller_id_number;flags;volume_in;volume_out;energy
    return f"{member.id};{ch.name};{ch.uuid};{ch.caller_name};{ch.caller_number};hear|speak;0;0;100\n"


def _listing(conference: Conference) -> str:
    return "".join(_member_line(m) for m in reversed(conference.members))


def _record(conference: Conference, path: str) -> str:
    try:
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        with open(path, "wb") as out:
            out.write(silent_wav())
    except OSError:
        pass  # conference_record_thread_run logs it; the api still answered
    conference.recordings.append(path)
    return f"+OK Record file {path}\n"


def _kick(conference: Conference, target: str, hangup: bool) -> str:
    chosen = [m for m in reversed(conference.members) if target in ("all", str(m.id))]
    if not chosen:
        return f"Non-Existant ID {target}\n"
    for member in chosen:
        if hangup:
            member.channel.hangup("NORMAL_CLEARING", by="conference")
        member.kicked = True
        member.channel.wakeup.set()
    return "".join(f"+OK {'hup' if hangup else 'kicked'} {m.id}\n" for m in chosen)


def conference_api(switch: Switch, arg: str, listener) -> str:
    argv = (arg or "").split()
    if not argv:
        return "<conf name> list [delim <string>]|[count]\n"
    table = conferences(switch)
    conference = table.get(argv[0])
    if conference is None:
        if argv[0].lower() == "list":
            return (
                "".join(
                    f"+OK Conference {c.name} ({len(c.members)} member{'s' if len(c.members) != 1 else ''})\n"
                    + _listing(c)
                    for c in table.values()
                )
                or "No active conferences.\n"
            )
        return f"-ERR Conference {argv[0]} not found\n"
    if len(argv) < 2:
        return "Conference command, not specified.\nTry 'help'\n"
    command = argv[1].lower()
    if command == "list":
        if argv[2:3] == ["count"]:
            return f"{len(conference.members)}\n"
        return _listing(conference)
    if command == "record" and len(argv) > 2:
        return _record(conference, argv[2])
    if command == "norecord" and len(argv) > 2:
        stopped = [p for p in conference.recordings if argv[2] in ("all", p)]
        if not stopped:
            return f"non-existant recording '{argv[2]}'\n"
        for path in stopped:
            conference.recordings.remove(path)
        # the count is taken before the recording threads have ended: FreeSWITCH says 0 at this point
        return "".join(f"Stopped recording file {p}\n" for p in stopped) + "+OK Stopped recording 0 files\n"
    if command in ("kick", "hup") and len(argv) > 2:
        return _kick(conference, argv[2], hangup=command == "hup")
    return f"-ERR {command}: not in the emulator's mod_conference\n"
