"""uuid_broadcast and hold: an application queued onto a leg (and/or its partner) as a private event.

Follows switch_ivr_broadcast (switch_ivr_async.c), switch_ivr_hold / switch_ivr_unhold and the
hold-bleg handling of switch_ivr_parse_event (switch_ivr.c). The queued command is the same kind of
message a controller's sendmsg queues; park and the bridge loop run it at once, interrupting what the
leg was doing, and switch_channel_stop_broadcast (Channel.stop_broadcast) ends it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import gevent

from ccctl.sim.command_reader import ControllerCommand

if TYPE_CHECKING:
    from ccctl.sim.channel import Channel
    from ccctl.sim.switch import Switch

# switch_media_flag_t bits used by uuid_broadcast and hold
ECHO_ALEG = 1
ECHO_BLEG = 2
HOLD_BLEG = 4
LOOP = 8

# switch_channel_wait_for_flag(b_channel, CF_BROADCAST, ..., 5000, NULL) in switch_ivr_parse_event
FLAG_WAIT_SECONDS = 5.0


def leg_flags(word: str | None) -> int:
    """uuid_broadcast_function: the [aleg|bleg|holdb|both] word, matched as substrings like switch_stristr.

    No word means aleg plus holdb; `holdb` alone sets only HOLD_BLEG, so nothing is queued at all.
    """
    if not word:
        return ECHO_ALEG | HOLD_BLEG
    word = word.lower()
    flags = 0
    if "both" in word:
        flags |= ECHO_ALEG | ECHO_BLEG
    if "aleg" in word:
        flags |= ECHO_ALEG
    if "bleg" in word:
        flags = (flags & ~HOLD_BLEG) | ECHO_BLEG
    if "holdb" in word:
        flags = (flags & ~ECHO_BLEG) | HOLD_BLEG
    return flags


def broadcast(switch: Switch, uuid: str, path: str, flags: int) -> bool:
    """switch_ivr_broadcast: False only when there is no such session."""
    session = switch.sessions.get(uuid)
    if session is None:
        return False
    app, arg = "playback", path
    head, sep, rest = path.partition("::")
    if sep:
        app, arg = head, rest
    app, bang, cause = app.partition("!")
    if bang and not cause:
        cause = "normal_clearing"
    if flags & ECHO_BLEG:
        partner = session.channel.other_leg
        other = switch.sessions.get(partner.uuid) if partner is not None else None
        if other is not None:
            other.queue_message(_command(app, arg, flags))
    if flags & ECHO_ALEG:
        session.queue_message(_command(app, arg, flags))
    if cause:
        session.queue_message(_command("hangup", cause, 0, lead_frames=False))
    return True


def _command(app: str, arg: str, flags: int, lead_frames: bool = True) -> ControllerCommand:
    """The SWITCH_EVENT_COMMAND switch_ivr_broadcast queues as a private event."""
    headers = {"call-command": "execute", "execute-app-name": app, "execute-app-arg": arg, "event-lock": "true"}
    if lead_frames:
        headers["lead-frames"] = "5"
    if flags & LOOP:
        headers["loops"] = "-1"
    if flags & HOLD_BLEG:
        headers["hold-bleg"] = "true"
    return ControllerCommand("sendevent", headers)


def hold_music(switch: Switch, ch: Channel) -> str | None:
    """switch_channel_get_hold_music: temp_hold_music, else hold_music (globals too), expanded."""
    value = ch.get_var("temp_hold_music") or ch.get_var("hold_music") or switch.globals.get("hold_music")
    return ch.expand(value) if value else None


def is_moh(stream: str | None) -> bool:
    """switch_is_moh (switch_utils.h)."""
    return bool(stream) and stream.lower() not in ("silence", "indicate_hold")


def wait_for_flag(ch: Channel, flag: str, present: bool, seconds: float = FLAG_WAIT_SECONDS) -> bool:
    """switch_channel_wait_for_flag: let the other leg's greenlet pick up its queued broadcast (real seconds)."""
    deadline = gevent.get_hub().loop.now() + seconds
    while (flag in ch.flags) != present:
        if not ch.up or gevent.get_hub().loop.now() >= deadline:
            return False
        gevent.sleep(0.001)
    return True


def _legs_hold(ch: Channel) -> bool:
    """Whether the endpoint acts on SWITCH_MESSAGE_INDICATE_HOLD (CF_LEG_HOLDING, call state HELD).

    mod_sofia does (re-INVITE sendonly); mod_loopback ignores the message. A simulated patient stands
    for a trunk call, so only legs of a real loopback pair keep their call state.
    """
    return ch.loopback_peer is None


def hold(switch: Switch, ch: Channel, moh: bool = True) -> bool:
    """switch_ivr_hold: CF_HOLD, call state HELD, hold music broadcast to the partner, CHANNEL_HOLD."""
    if ch.callstate == "HELD":
        return False  # "Call is already on hold. No need to hold again."
    ch.flags.add("CF_HOLD")
    if _legs_hold(ch) and ch.answered and "CF_LEG_HOLDING" not in ch.flags:
        ch.flags.add("CF_LEG_HOLDING")
        ch.set_callstate("HELD")
        ch.times.last_hold = switch.clock.now_us()
        ch.touch_profile()
    stream = hold_music(switch, ch) if moh else None
    if stream and ch.other_leg is not None:
        broadcast(switch, ch.other_leg.uuid, stream, ECHO_ALEG | LOOP)
    ch.fire("CHANNEL_HOLD")
    return True


def unhold(switch: Switch, ch: Channel) -> bool:
    """switch_ivr_unhold: only a HELD call; the partner's hold music stops, CHANNEL_UNHOLD."""
    if ch.callstate != "HELD":
        return False  # "Call is not on hold. No need to unhold."
    ch.flags.discard("CF_HOLD")
    if "CF_LEG_HOLDING" in ch.flags:
        ch.flags.discard("CF_LEG_HOLDING")
        ch.set_callstate("UNHELD")
        if ch.times.last_hold:
            ch.times.hold_accum += switch.clock.now_us() - ch.times.last_hold
        ch.touch_profile()
    partner = ch.other_leg
    if partner is not None:
        partner.stop_broadcast()
        wait_for_flag(partner, "CF_BROADCAST", False)
    ch.fire("CHANNEL_UNHOLD")
    return True


def toggle(switch: Switch, ch: Channel) -> bool:
    """switch_ivr_hold_toggle_uuid: ACTIVE or UNHELD holds, HELD unholds, anything else does nothing."""
    if ch.callstate in ("ACTIVE", "UNHELD"):
        return hold(switch, ch)
    if ch.callstate == "HELD":
        return unhold(switch, ch)
    return True
