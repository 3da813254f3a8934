"""`ccctl recordings export`: WAV recordings converted with pydub/ffmpeg, every export audited.

Needs ffmpeg (Debian package, installed by scripts/install.sh --test).
"""

from __future__ import annotations

import math
import shutil
import struct
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner
from pydub import AudioSegment
from sqlalchemy.orm import Session

from ccctl.cli import main
from ccctl.recordings.store import recording_path, register_recording
from ccctl.records.audit import audit_trail
from ccctl.records.database import make_engine
from ccctl.records.models.patients import Patient

pytestmark = pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="needs ffmpeg")
STARTED = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def _tone_wav(seconds: float, rate: int = 8000) -> bytes:
    """A stereo 16-bit WAV with a 440 Hz tone (an encoder keeps its length; silence could be trimmed)."""
    frames = b"".join(
        struct.pack("<hh", value, value)
        for value in (int(8000 * math.sin(2 * math.pi * 440 * n / rate)) for n in range(int(seconds * rate)))
    )
    header = struct.pack(
        "<4sI4s4sIHHIIHH4sI", b"RIFF", 36 + len(frames), b"WAVE", b"fmt ", 16, 1, 2, rate, rate * 4, 4, 16,
        b"data", len(frames),
    )  # fmt: skip
    return header + frames


@pytest.fixture
def two_recordings(sqlite_url, tmp_path):
    engine = make_engine(sqlite_url)
    with Session(engine) as db, db.begin():
        patient = Patient(patient_code="P77")
        db.add(patient)
        db.flush()
        for uuid, agent in (("aaaa0001-x", "alice"), ("bbbb0002-y", "bob")):
            path = recording_path(tmp_path / "rec", uuid, STARTED)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(_tone_wav(2.0))
            register_recording(db, uuid, path, agent, "general", patient.id, STARTED)
        patient_id = patient.id
    engine.dispose()
    return patient_id


@pytest.mark.parametrize("fmt", ["mp3", "ogg", "wav"])
def test_export_converts_each_matching_recording(sqlite_url, tmp_path, two_recordings, fmt):
    out = tmp_path / "export"
    result = CliRunner().invoke(
        main,
        ["recordings", "export", "--format", fmt, "--out", str(out), "--agent", "alice", "--as", "auditor"],
        env={"CCCTL_DATABASE__URL": sqlite_url},
    )

    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == f"1 recording exported to {out}"
    assert sorted(p.name for p in out.iterdir()) == [f"aaaa0001-x.{fmt}"]
    audio = AudioSegment.from_file(out / f"aaaa0001-x.{fmt}", format=fmt)
    assert audio.channels == 2
    assert abs(len(audio) - 2000) < 150  # milliseconds; encoders pad a frame or two
    engine = make_engine(sqlite_url)
    with Session(engine) as db:
        trail = [(r.actor, r.action, r.detail) for r in audit_trail(db, two_recordings)]
    engine.dispose()
    assert trail == [("auditor", "recording.export", "recording aaaa0001-x")]


def test_export_of_a_missing_file_names_it(sqlite_url, tmp_path, two_recordings):
    recording_path(tmp_path / "rec", "bbbb0002-y", STARTED).unlink()
    result = CliRunner().invoke(
        main,
        ["recordings", "export", "--out", str(tmp_path / "e"), "--agent", "bob"],
        env={"CCCTL_DATABASE__URL": sqlite_url},
    )
    assert result.exit_code == 1
    assert "recording bbbb0002-y: file " in result.output and "is missing and it was never archived" in result.output
