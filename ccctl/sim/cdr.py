"""The CDR variables of CHANNEL_HANGUP_COMPLETE, in switch_channel_set_timestamps' order.

digits_dialed, *_stamp, *_epoch / *_uepoch, last_app / last_arg, caller_id, then the
durations in seconds, milliseconds and microseconds.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ccctl.sim.channel import Channel


def _stamp(micros: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(micros // 1_000_000))


def set_cdr_variables(ch: Channel) -> None:
    t = ch.times
    s = ch.set_var
    s("digits_dialed", "".join(ch.dtmf_log) or "none")
    s("start_stamp", _stamp(t.created))
    s("profile_start_stamp", _stamp(t.profile_created))
    for name, value in (
        ("answer", t.answered),
        ("bridge", t.bridged),
        ("hold", t.last_hold),
        ("resurrect", t.resurrected),
        ("progress", t.progress),
        ("progress_media", t.progress_media),
    ):
        if value:
            s(f"{name}_stamp", _stamp(value))
    s("end_stamp", _stamp(t.hungup))
    s("start_epoch", str(t.created // 1_000_000))
    s("start_uepoch", str(t.created))
    s("profile_start_epoch", str(t.profile_created // 1_000_000))
    s("profile_start_uepoch", str(t.profile_created))
    for name, value in (("answer", t.answered), ("bridge", t.bridged), ("last_hold", t.last_hold)):
        s(f"{name}_epoch", str(value // 1_000_000))
        s(f"{name}_uepoch", str(value))
    s("hold_accum_seconds", str(t.hold_accum // 1_000_000))
    s("hold_accum_usec", str(t.hold_accum))
    s("hold_accum_ms", str(t.hold_accum // 1000))
    for name, value in (("resurrect", t.resurrected), ("progress", t.progress), ("progress_media", t.progress_media)):
        s(f"{name}_epoch", str(value // 1_000_000))
        s(f"{name}_uepoch", str(value))
    s("end_epoch", str(t.hungup // 1_000_000))
    s("end_uepoch", str(t.hungup))
    if ch.app_log:
        last_app, last_arg = ch.app_log[-1]
        s("last_app", last_app)
        s("last_arg", last_arg)
    s("caller_id", f'"{ch.caller_name}" <{ch.caller_number}>' if ch.caller_name else ch.caller_number)
    _durations(ch)
    if ch.source == "mod_loopback":
        s("is_loopback", "1")


def _durations(ch: Channel) -> None:
    t = ch.times

    def diff(later: int, earlier: int, unit: int) -> int:
        return later // unit - earlier // unit

    answered = bool(t.answered)
    waited = t.bridged > t.created
    rows: list[tuple[str, int]] = []
    for suffix, unit in (("sec", 1_000_000), ("msec", 1000), ("usec", 1)):
        duration = diff(t.hungup, t.created, unit)
        rows_for_unit = [
            ("bill", diff(t.hungup, t.answered, unit) if answered else 0),
            ("progress", diff(t.progress, t.created, unit) if t.progress else 0),
            ("answer", diff(t.answered, t.created, unit) if answered else 0),
            ("wait", diff(t.bridged, t.created, unit) if waited else 0),
            ("progress_media", diff(t.progress_media, t.created, unit) if t.progress_media else 0),
            ("flow_bill", duration if answered else 0),
        ]
        prefix = {"sec": "duration", "msec": "mduration", "usec": "uduration"}[suffix]
        rows.append((prefix, duration))
        rows.extend((f"{name}{suffix}", value) for name, value in rows_for_unit)
    for name, value in rows:
        ch.set_var(name, str(value))
