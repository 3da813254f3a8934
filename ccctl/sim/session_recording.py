"""record_session: the media bug that records a whole call (both legs) to a file until hangup.

Like mod_dptools' record_session it returns at once; the emulator writes a valid, silent WAV at the path.
"""

from __future__ import annotations

import os
import struct
from typing import TYPE_CHECKING

from ccctl.sim.media import RATE

if TYPE_CHECKING:
    from ccctl.sim.session import Session

BITS = 16


def silent_wav(seconds: float = 0.1, channels: int = 1) -> bytes:
    """channels 2 with RECORD_STEREO=true (caller left, agent right), else the legs mixed into one."""
    frames = int(RATE * seconds)
    data = b"\0" * (frames * channels * BITS // 8)
    block = channels * BITS // 8
    header = struct.pack(
        "<4sI4s4sIHHIIHH4sI",
        b"RIFF", 36 + len(data), b"WAVE", b"fmt ", 16, 1, channels, RATE, RATE * block, block, BITS, b"data", len(data),
    )  # fmt: skip
    return header + data


def record_session(session: Session, data: str) -> None:
    path = data.split(" ")[0].strip()
    if not path:
        return
    ch = session.channel
    try:
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        with open(path, "wb") as out:
            stereo = (ch.get_var("RECORD_STEREO") or "").lower() in ("true", "yes", "on", "1")
            out.write(silent_wav(channels=2 if stereo else 1))
    except OSError:
        return  # FreeSWITCH logs the failure and the call goes on unrecorded
    ch.fire("RECORD_START", extra=[("Record-File-Path", path)])
    session.recordings.append(path)


def stop_record_session(session: Session, data: str) -> None:
    """stop_record_session_function (mod_dptools.c) -> switch_ivr_stop_record_session: the media bug of
    that path (or every one, with `all`) closes its file, which stays on disk, and RECORD_STOP fires."""
    target = data.strip()
    for path in list(session.recordings):
        if target in (path, "all"):
            session.recordings.remove(path)
            session.channel.fire("RECORD_STOP", extra=[("Record-File-Path", path)])
