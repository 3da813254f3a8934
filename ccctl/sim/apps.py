"""The dialplan applications the emulator knows, with mod_dptools' variables and responses.

Each application is a function of (session, expanded data); APPS maps names to specs.
An application not in APPS is an "Invalid Application": the call is hung up.
"""

from __future__ import annotations

import os
import wave
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ccctl.sim.causes import cause_from_text
from ccctl.sim.command_reader import atoi
from ccctl.sim.media import RATE, play_file, playback_terminators, speak_text

if TYPE_CHECKING:
    from ccctl.sim.channel import Channel
    from ccctl.sim.session import Session


@dataclass(frozen=True)
class AppSpec:
    name: str
    run: Callable[[Session, str], None]
    media: bool = False  # needs media: an unanswered inbound call is pre-answered first
    zombie: bool = False  # still runs after hangup (SAF_ZOMBIE_EXEC)


def answer(session: Session, data: str) -> None:
    session.channel.answer()


def pre_answer(session: Session, data: str) -> None:
    session.channel.pre_answer()


def hangup(session: Session, data: str) -> None:
    session.channel.hangup(cause_from_text(data), by=session.actor)


def set_app(session: Session, data: str) -> None:
    name, sep, value = data.partition("=")
    if name:
        session.channel.set_var(name.strip(), value if sep else None)


def export_app(session: Session, data: str) -> None:
    name, sep, value = data.partition("=")
    if name.startswith("nolocal:"):
        return
    set_app(session, data)
    exported = session.channel.get_var("export_vars")
    names = exported.split(",") if exported else []
    if name not in names:
        session.channel.set_var("export_vars", ",".join([*names, name]))


def unset(session: Session, data: str) -> None:
    session.channel.set_var(data.strip(), None)


def multiset(session: Session, data: str) -> None:
    """multiset `a=1 b=2` or `^^:a=1:b=2` (a custom delimiter)."""
    delimiter = " "
    if data.startswith("^^") and len(data) > 2:
        delimiter, data = data[2], data[3:]
    for item in data.split(delimiter):
        if item:
            set_app(session, item)


def sleep(session: Session, data: str) -> None:
    """switch_ivr_sleep: with media up it parses the queued commands every frame (they run inside the
    sleep, which still ends `ms` after it began); before any media it only waits."""
    ch = session.channel
    seconds = atoi(data) / 1000.0
    if ch.answered or ch.early:
        session.media_wait(seconds)
    else:
        ch.media_wait(seconds)


def playback(session: Session, data: str) -> None:
    ch = session.channel
    session.prompts.append(data)
    ch.set_var("playback_terminator_used", None)
    terminators = playback_terminators(session)

    def on_digit(digit: str) -> bool:
        if digit in terminators:
            ch.set_var("playback_terminator_used", digit)
            return True
        return False

    status = play_file(session, data, on_digit)
    response = {"done": "FILE PLAYED", "break": "FILE PLAYED", "notfound": "FILE NOT FOUND"}
    ch.set_var("current_application_response", response.get(status, "PLAYBACK ERROR"))


def speak(session: Session, data: str) -> None:
    """speak [engine|voice|]text: needs tts_engine and tts_voice, else the call is hung up."""
    ch = session.channel
    parts = data.split("|", 2)
    text = parts[-1]
    engine = parts[0] if len(parts) == 3 else ch.get_var("tts_engine")
    voice = parts[-2] if len(parts) >= 2 else ch.get_var("tts_voice")
    if not (engine and voice and text):
        ch.hangup("DESTINATION_OUT_OF_ORDER", by="switch")
        return
    session.prompts.append("say:" + text)
    ch.set_var("playback_terminator_used", None)
    terminators = playback_terminators(session)
    speak_text(session, engine, voice, text, lambda digit: digit in terminators)


def record(session: Session, data: str) -> None:
    """record <path> [limit secs] [silence threshold] [silence hits]: the patient speaks, then silence ends it.

    switch_ivr_record_file_event (switch_ivr_play_say.c) opens the file first, making no folder: when it
    cannot, the channel hangs up DESTINATION_OUT_OF_ORDER and the application returns, with no RECORD_START
    and no record_* variables. The file is a WAV of what was heard (silence: the emulator has no audio).
    """
    ch = session.channel
    argv = data.split(" ")
    path = _recording_path(ch, argv[0])
    limit = atoi(argv[1]) if len(argv) > 1 else 0
    hits = atoi(argv[3]) if len(argv) > 3 else 0
    try:
        out = open(path, "wb") if path else None  # written when the recording ends
    except OSError:
        ch.hangup("DESTINATION_OUT_OF_ORDER", by="switch")
        return
    speech = ch.patient.message_seconds if ch.patient is not None else 0.0
    planned = speech + hits if hits else float(limit or 3600)
    if limit:
        planned = min(planned, float(limit))
    ch.fire("RECORD_START", extra=[("Record-File-Path", argv[0])])
    start = session.switch.clock.now()
    session.media_wait(planned)  # switch_ivr_record_file_event parses queued commands every frame
    elapsed = min(session.switch.clock.now() - start, planned)
    heard = min(elapsed, speech)
    if hits and speech + hits <= (limit or float("inf")) and elapsed >= planned:
        ch.set_var("silence_hits_exhausted", "true")
    samples = int(heard * RATE) if heard else 0
    if out is not None:
        with out, wave.open(out, "wb") as wav:  # 44 header bytes + the samples: record_file_size below
            wav.setnchannels(1)
            wav.setsampwidth(2)
            wav.setframerate(RATE)
            wav.writeframes(bytes(samples * 2))
    size = str(44 + samples * 2)
    ch.set_var("record_record_file_size", size)
    ch.set_var("record_file_size", size)
    ch.set_var("record_seconds", str(samples // RATE))
    ch.set_var("record_ms", str(samples // (RATE // 1000)))
    ch.set_var("record_samples", str(samples))
    ch.fire("RECORD_STOP", extra=[("Record-File-Path", argv[0]), ("Record-Completion-Cause", "success-silence")])
    for name, value in (("read_codec", "L16"), ("read_rate", str(RATE))):
        ch.set_var(name, value)  # the record media bug restores the read codec
    session.recordings.append(argv[0])


def _recording_path(ch: Channel, path: str) -> str | None:
    """A relative path is under sound_prefix (else the sounds folder, which the emulator has not: no file)."""
    if os.path.isabs(path):
        return path
    prefix = ch.get_var("sound_prefix")
    return os.path.join(prefix, path) if prefix else None


def park(session: Session, data: str) -> None:
    if session.controller is not None and not session.controller.running:
        session.controller = None  # a dialplan park after a dropped socket waits for uuid_transfer, not the socket
    session.park()


def transfer(session: Session, data: str) -> None:
    """transfer <extension> [XML] [context]: route again from the top."""
    parts = data.split()
    if not parts:
        return
    session.transfer_to = (parts[0], parts[2] if len(parts) > 2 else session.channel.context)


def execute_extension(session: Session, data: str) -> None:
    """execute_extension <extension> [XML] [context]: run that extension's actions here, then carry on."""
    parts = data.split()
    if not parts:
        return
    ch = session.channel
    saved = (ch.destination, ch.context)
    ch.destination, ch.context = parts[0], parts[2] if len(parts) > 2 else ch.context
    try:
        actions = session.switch.dialplan.route(ch) or []
    finally:
        ch.destination, ch.context = saved
    for app, arg in actions:
        if not session.execute(app, arg) or session.transfer_to is not None or not ch.up:
            break


def log(session: Session, data: str) -> None:
    """Logging goes nowhere in the emulator."""


def _build() -> dict[str, AppSpec]:
    from ccctl.sim.att_xfer import att_xfer
    from ccctl.sim.avmd_app import avmd_start, avmd_stop
    from ccctl.sim.bridge import bridge
    from ccctl.sim.conference import conference_app
    from ccctl.sim.digit_apps import play_and_get_digits, read_app
    from ccctl.sim.eavesdrop import eavesdrop, three_way
    from ccctl.sim.fax_apps import rxfax, txfax
    from ccctl.sim.outbound_leg import socket_app
    from ccctl.sim.say_app import say
    from ccctl.sim.session_recording import record_session, stop_record_session

    specs = [
        AppSpec("answer", answer),
        AppSpec("pre_answer", pre_answer),
        AppSpec("ring_ready", log),
        AppSpec("hangup", hangup),
        AppSpec("set", set_app, zombie=True),
        AppSpec("export", export_app, zombie=True),
        AppSpec("unset", unset, zombie=True),
        AppSpec("multiset", multiset, zombie=True),
        AppSpec("sleep", sleep),
        AppSpec("playback", playback, media=True),
        AppSpec("speak", speak, media=True),
        AppSpec("say", say, media=True),
        AppSpec("play_and_get_digits", play_and_get_digits, media=True),
        AppSpec("read", read_app, media=True),
        AppSpec("record", record, media=True),
        AppSpec("record_session", record_session, media=True),
        AppSpec("stop_record_session", stop_record_session),
        AppSpec("park", park),
        AppSpec("socket", socket_app),
        AppSpec("transfer", transfer),
        AppSpec("execute_extension", execute_extension),
        AppSpec("bridge", bridge),
        AppSpec("att_xfer", att_xfer),
        AppSpec("log", log, zombie=True),
        AppSpec("info", log),
        AppSpec("rxfax", rxfax, media=True),
        AppSpec("txfax", txfax, media=True),
        AppSpec("eavesdrop", eavesdrop, media=True),
        AppSpec("three_way", three_way, media=True),
        AppSpec("conference", conference_app, media=True),
        AppSpec("avmd_start", avmd_start, media=True),
        AppSpec("avmd_stop", avmd_stop),
    ]
    return {spec.name: spec for spec in specs}


class _Registry(dict):
    """Built on first use: the application modules import the session machinery."""

    def get(self, name, default=None):  # type: ignore[override]
        if not self:
            self.update(_build())
        return super().get(name, default)


APPS: dict[str, AppSpec] = _Registry()
