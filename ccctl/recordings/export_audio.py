"""Conversion of WAV recordings for export (mp3, ogg, wav) with pydub, which runs ffmpeg.

Errors name the file and the format; ffmpeg's own output is kept out (it can be pages long).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from pydub import AudioSegment
from pydub.exceptions import CouldntDecodeError, CouldntEncodeError

from ccctl.recordings.store import RecordingError

FORMATS = ("mp3", "ogg", "wav")
# speech: 64 kbit/s keeps a stereo 8/16 kHz call clear at a quarter of WAV's size
_BITRATE = "64k"
_CODEC = {"ogg": "libvorbis"}


def convert(source: str | Path, target: str | Path, fmt: str) -> None:
    """Write source (a WAV file) to target in fmt."""
    if fmt not in FORMATS:
        raise RecordingError(f"export format {fmt!r} is not one of {', '.join(FORMATS)}")
    if fmt == "wav":
        shutil.copyfile(source, target)
        return
    if shutil.which("ffmpeg") is None:
        raise RecordingError(f"export to {fmt} needs ffmpeg (apt-get install ffmpeg)")
    try:
        audio = AudioSegment.from_wav(str(source))
        audio.export(str(target), format=fmt, bitrate=_BITRATE, codec=_CODEC.get(fmt))
    except (CouldntDecodeError, CouldntEncodeError, OSError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise RecordingError(f"export of {source} to {fmt}: {first}") from None
