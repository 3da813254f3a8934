"""mod_avmd in the emulator: avmd_start listens to the far end of the channel for a voicemail greeting's beep.

The far end says when its greeting beeps (AgentEndpoint.beep_after, kept as Channel.beep_due); avmd_start
returns at once, as the real one does after adding its media bug, and at that moment mod_avmd's
avmd_report_detection sets avmd_detect=TRUE on the channel and fires CUSTOM avmd::beep, whose headers are
its own (Unique-ID, Call-command, Beep-Status, Frequency...) and carry no channel data. avmd_stop ends the
listening; a channel without a greeting never beeps.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import gevent

from ccctl.sim.event_builder import SimEvent, base_headers

if TYPE_CHECKING:
    from ccctl.sim.channel import Channel
    from ccctl.sim.session import Session

BEEP_EVENT = "avmd::beep"
BEEP_FREQUENCY_HZ = 1000.0  # the greeting's beep as the emulator's callers play it
LISTENING = "avmd_listening"  # a channel flag: avmd_start ran and no avmd_stop since


def avmd_start(session: Session, data: str) -> None:
    """avmd_start [params]: "Cannot run 2 at once on the same channel!" keeps the first one."""
    ch = session.channel
    if LISTENING in ch.flags:
        return
    ch.flags.add(LISTENING)
    if ch.beep_due is not None:
        delay = max(0.0, ch.beep_due - ch.switch.clock.now())
        gevent.spawn_later(ch.switch.clock.real(delay), _beep, ch)


def avmd_stop(session: Session, data: str) -> None:
    session.channel.flags.discard(LISTENING)


def _beep(ch: Channel) -> None:
    if LISTENING not in ch.flags or not ch.up:
        return
    ch.flags.discard(LISTENING)  # BEEP_DETECTED: avmd_process skips every later frame
    ch.set_var("avmd_detect", "TRUE")
    switch = ch.switch
    if not switch.bus.wants("CUSTOM", ch.uuid):
        return
    headers = base_headers(switch.core, "CUSTOM", switch.clock.now_us(), ("mod_avmd.c", "avmd_fire_event", 0))
    headers.insert(1, ("Event-Subclass", BEEP_EVENT))
    headers += [
        ("Unique-ID", ch.uuid),
        ("Call-command", "avmd"),
        ("Beep-Status", "DETECTED"),
        ("Frequency", f"{BEEP_FREQUENCY_HZ:f}"),
        ("Frequency-variance", "0.000000"),
        ("Amplitude", "0.000000"),
        ("Amplitude-variance", "0.000000"),
    ]
    switch.bus.fire(SimEvent("CUSTOM", headers, "", BEEP_EVENT, unique_id=ch.uuid))
