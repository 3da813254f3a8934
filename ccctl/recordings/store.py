"""Where a call's recording goes on disk and its row in the `recordings` table.

The ACD calls recording_path() before `record_session` and register_recording() right after;
file_facts() reads size, checksum and length of a finished file for the archive job.
"""

from __future__ import annotations

import hashlib
import re
import wave
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from ccctl.errors import UserError
from ccctl.records.models.media import Recording

# FreeSWITCH call uuids; anything else could climb out of the recordings directory
_SAFE_UUID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,63}$")
_CHUNK = 1 << 20


class RecordingError(UserError, ValueError):
    """A recording cannot be found, read or written; str() is one line naming the uuid or file."""


def recording_path(recordings_dir: str | Path, call_uuid: str, started_at: datetime) -> Path:
    """recordings/YYYY/MM/DD/<call uuid>.wav, the day of the call's start in UTC."""
    if not _SAFE_UUID.match(call_uuid):
        raise RecordingError(f"call uuid {call_uuid!r} cannot be a file name (letters, digits and '-' only)")
    if started_at.tzinfo is None:
        raise RecordingError(f"recording of {call_uuid}: started_at has no timezone")
    day = started_at.astimezone(UTC)
    return Path(recordings_dir) / f"{day:%Y}" / f"{day:%m}" / f"{day:%d}" / f"{call_uuid}.wav"


def register_recording(
    session: Session,
    call_uuid: str,
    path: str | Path,
    agent_name: str,
    queue: str,
    patient_id: int | None,
    started_at: datetime,
) -> int:
    """Add (or, for a call recorded again after a transfer, update) the row of a recording; its id.

    Goes in the caller's transaction; the file's size and checksum come later (file_facts).
    """
    row = session.scalar(select(Recording).where(Recording.call_uuid == call_uuid))
    if row is None:
        row = Recording(call_uuid=call_uuid, archive_state="local", archive_attempts=0, archive_error="")
        session.add(row)
    row.path = str(path)
    row.agent_name = agent_name or ""
    row.queue = queue or ""
    row.patient_id = patient_id
    row.started_at = started_at
    session.flush()
    return row.id


@dataclass(frozen=True)
class FileFacts:
    size_bytes: int
    sha256: str
    duration_seconds: float | None  # None: not a WAV file Python can read


def file_facts(path: str | Path) -> FileFacts:
    """Size, SHA-256 and (for WAV) length of a recording file; RecordingError if it cannot be read."""
    digest = hashlib.sha256()
    size = 0
    try:
        with open(path, "rb") as handle:
            while chunk := handle.read(_CHUNK):
                digest.update(chunk)
                size += len(chunk)
    except OSError as exc:
        raise RecordingError(f"recording file {path}: {exc.strerror}") from None
    return FileFacts(size, digest.hexdigest(), wav_seconds(path))


def wav_seconds(path: str | Path) -> float | None:
    try:
        with wave.open(str(path), "rb") as wav:
            rate = wav.getframerate()
            return round(wav.getnframes() / rate, 3) if rate else None
    except (OSError, EOFError, wave.Error):
        return None


def finish_recording(session: Session, call_uuid: str) -> Recording | None:
    """Fill in size, checksum and length once the call is over (None: no such recording or no file yet)."""
    row = session.scalar(select(Recording).where(Recording.call_uuid == call_uuid))
    if row is None or not Path(row.path).is_file():
        return None
    apply_facts(row, file_facts(row.path))
    return row


def apply_facts(row: Recording, facts: FileFacts) -> None:
    row.size_bytes = facts.size_bytes
    row.sha256 = facts.sha256
    row.duration_seconds = facts.duration_seconds
