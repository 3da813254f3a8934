"""The eavesdrop and three_way applications: a leg joins another channel's audio as listener or talker.

Flags follow mod_dptools' eavesdrop_function and switch_ivr_eavesdrop_session: eavesdrop_whisper_aleg
mixes the listener into what the target channel reads (its peer hears it), eavesdrop_whisper_bleg into
what it writes (the target's own party hears it); digits 1/2/3/0 switch modes, * ends.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ccctl.sim.session import Session

_TRUE = ("true", "yes", "on", "1", "enabled", "active", "allow")
# how often the listener notices its target has gone (simulated seconds)
_POLL_SECONDS = 0.1


@dataclass
class Tap:
    """One listener on a target channel, as the media bug sees it."""

    listener_uuid: str
    target_uuid: str
    mux_read: bool  # ED_MUX_READ: the listener talks to the target's peer
    mux_write: bool  # ED_MUX_WRITE: the listener talks to the target's own party
    dtmf: bool  # ED_DTMF: digits switch the mode

    @property
    def mode(self) -> str:
        """listen, whisper (target's own party hears the listener), whisper-peer, or barge (everyone)."""
        if self.mux_read and self.mux_write:
            return "barge"
        if self.mux_write:
            return "whisper"
        return "whisper-peer" if self.mux_read else "listen"


def _true(value: str | None) -> bool:
    return bool(value) and value.strip().lower() in _TRUE


def eavesdrop(session: Session, data: str) -> None:
    ch = session.channel
    if not data or data.strip() == "all":
        return  # `eavesdrop all` walks every channel; nothing of ours uses it
    enable_dtmf = ch.get_var("eavesdrop_enable_dtmf")
    _join(
        session,
        data.strip(),
        mux_read=_true(ch.get_var("eavesdrop_whisper_aleg")),
        mux_write=_true(ch.get_var("eavesdrop_whisper_bleg")),
        dtmf=True if enable_dtmf is None else _true(enable_dtmf),
    )


def three_way(session: Session, data: str) -> None:
    if data:
        _join(session, data.strip(), mux_read=True, mux_write=True, dtmf=False)


def _join(session: Session, target_uuid: str, mux_read: bool, mux_write: bool, dtmf: bool) -> None:
    switch, ch = session.switch, session.channel
    target = switch.channels.get(target_uuid)
    if target is None or target is ch or not target.up or not target.answered:
        return  # switch_ivr_eavesdrop_session: no such session, itself, or no media: the app just ends
    tap = Tap(ch.uuid, target_uuid, mux_read, mux_write, dtmf)
    taps = switch.eavesdrops.setdefault(target_uuid, [])
    taps.append(tap)
    try:
        while ch.up and target.up:
            if ch.media_wait(_POLL_SECONDS, dtmf_breaks=dtmf) == "dtmf":
                if _command(tap, ch.dequeue_dtmf()):
                    break
    finally:
        taps.remove(tap)
        if not taps:
            switch.eavesdrops.pop(target_uuid, None)


def _command(tap: Tap, digit: str) -> bool:
    """A digit's mode change (switch_ivr_eavesdrop_session's fcommand); True for '*' (stop)."""
    modes = {"1": (True, False), "2": (False, True), "3": (True, True), "0": (False, False)}
    if digit in modes:
        tap.mux_read, tap.mux_write = modes[digit]
    return digit == "*"


def taps_on(switch, target_uuid: str) -> list[Tap]:
    """The listeners on a channel right now (what a test checks)."""
    return list(switch.eavesdrops.get(target_uuid, ()))
