"""Simulated audio: how long a prompt lasts, and switch_ivr_play_file's timing, DTMF and variables.

Prompts are `say:` text (TTS), tone_stream://, silence_stream://, local_stream:// or files;
nothing is decoded, only their length in simulated time matters.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ccctl.sim.sim_clock import FRAME_SECONDS

if TYPE_CHECKING:
    from ccctl.sim.session import Session

RATE = 8000  # L16 at 8 kHz, as in the transcripts
TTS_CHARS_PER_SECOND = 14.0
_TONE = re.compile(r"%\(\s*(\d+)\s*,\s*(\d+)")
_LOOPS = re.compile(r"loops=(-?\d+)")
ENDLESS = 3600.0  # local_stream (music on hold) and negative loops: an hour of simulated audio


@dataclass
class MediaCatalog:
    """Which sound files exist and how long they are (simulated seconds)."""

    durations: dict[str, float] = field(default_factory=dict)
    missing: set[str] = field(default_factory=set)
    default_seconds: float = 2.0

    def file_seconds(self, path: str) -> float | None:
        if path in self.missing:
            return None
        return self.durations.get(path, self.default_seconds)


def tts_seconds(text: str) -> float:
    return max(0.5, len(text.strip()) / TTS_CHARS_PER_SECOND)


def prompt_seconds(catalog: MediaCatalog, target: str) -> float | None:
    """Length of a playback target in simulated seconds; None when the file does not exist."""
    if target.startswith("say:"):
        return tts_seconds(target[4:])
    if target.startswith("tone_stream://"):
        per_loop = sum(int(on) + int(off) for on, off in _TONE.findall(target)) / 1000.0
        loops_match = _LOOPS.search(target)
        loops = int(loops_match.group(1)) if loops_match else 1
        return ENDLESS if loops < 0 else per_loop * max(loops, 1)
    if target.startswith("silence_stream://"):
        ms = target[len("silence_stream://") :].split(",")[0]
        value = int(ms) if ms.lstrip("-").isdigit() else 0
        return ENDLESS if value < 0 else value / 1000.0
    if target.startswith("local_stream://"):
        return ENDLESS
    if target.startswith("file_string://"):
        total = 0.0
        for part in target[len("file_string://") :].split("!"):
            seconds = prompt_seconds(catalog, part)
            if seconds is None:
                return None
            total += seconds
        return total
    if target.startswith("{"):
        target = target[target.find("}") + 1 :]
    return catalog.file_seconds(target)


DigitHandler = Callable[[str], bool]  # True: the digit ends the prompt


def play_file(session: Session, target: str, on_digit: DigitHandler | None) -> str:
    """switch_ivr_play_file: 'done', 'break' (a digit ended it), 'hangup' or 'notfound'."""
    ch = session.channel
    if target.startswith("say:"):
        engine = ch.get_var("tts_engine")
        if not engine:
            return "done"  # FreeSWITCH logs "Invalid Args" and plays nothing
        return speak_text(session, engine, ch.get_var("tts_voice") or "", target[4:], on_digit)
    seconds = prompt_seconds(session.switch.media, target)
    if seconds is None:
        return "notfound"
    kind = [("Playback-File-Type", "tone_stream")] if target.startswith("tone_stream:") else []
    ch.fire("PLAYBACK_START", extra=[*kind, ("Playback-File-Path", target)])
    status, elapsed = timed_audio(session, seconds, on_digit)
    samples = int(elapsed * RATE)
    if status == "hangup":
        samples = -(-samples // 1024) * 1024  # the file layer reads whole 1024-sample blocks
    ch.set_var("playback_last_offset_pos", str(samples))
    ch.set_var("playback_seconds", str(samples // RATE))
    ch.set_var("playback_ms", str(samples // (RATE // 1000)))
    ch.set_var("playback_samples", str(samples))
    stop_status = "break" if status == "break" else "done"
    ch.fire("PLAYBACK_STOP", extra=[*kind, ("Playback-File-Path", target), ("Playback-Status", stop_status)])
    return status


def speak_text(session: Session, engine: str, voice: str, text: str, on_digit: DigitHandler | None) -> str:
    """switch_ivr_speak_text: the TTS engine's audio; it sets no playback_* variables.

    An engine no loaded module provides fails switch_core_speech_open: nothing is played and the
    caller's application sees an error ("error": playback answers PLAYBACK ERROR, a read ends).
    """
    if engine not in session.switch.tts_engines:
        if session.switch.log.active:
            where = "switch_ivr_play_say.c:3100"
            session.switch.log.channel(session.channel.uuid, "ERR", where, f"Invalid TTS module {engine}[{voice}]!")
        return "error"
    status, _ = timed_audio(session, tts_seconds(text), on_digit)
    return status


def timed_audio(session: Session, seconds: float, on_digit: DigitHandler | None) -> tuple[str, float]:
    """Play `seconds` of audio; digits are dequeued (DTMF events) and may end it early.

    Every frame parses the queued commands (switch_ivr_play_file and switch_ivr_speak_text_handle call
    switch_ivr_parse_all_events): an `execute` sent meanwhile runs inside the prompt, which then goes on
    where it was, so the time the command took is not the prompt's. Returns the status and the prompt's
    own seconds played.
    """
    ch = session.channel
    clock = session.switch.clock
    played = 0.0
    while True:
        start = clock.now()
        result = ch.media_wait(seconds - played, dtmf_breaks=on_digit is not None, interrupt=session.events_waiting)
        if result == "hangup":
            if ch.hangup_at >= start:  # heard at the next frame; one inside a command ends the prompt at once
                played += ch.hangup_at - start + FRAME_SECONDS
            return result, min(played, seconds)
        played = min(played + clock.now() - start, seconds)
        if result == "event":
            session.parse_all_events()
            if not ch.up:  # the loop goes on to read a frame from a channel already down: the read fails and
                return "done", played  # the loop ends with its status still SUCCESS (FILE PLAYED, Playback-Status done)
            continue
        if result == "break":  # CF_BREAK: a stopped broadcast (unhold, uuid_bridge) ends the prompt
            return "break", played
        if result == "dtmf" and on_digit is not None:
            if on_digit(ch.dequeue_dtmf()):
                return "break", played
            continue
        return result, played


def playback_terminators(session: Session) -> str:
    """mod_dptools on_dtmf: playback_terminators, default `*`, `any` or `none`."""
    value = session.channel.get_var("playback_terminators")
    if value is None:
        return "*"
    if value.lower() == "any":
        return "1234567890*#"
    if value.lower() == "none":
        return ""
    return value
