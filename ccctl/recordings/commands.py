"""The work behind `ccctl recordings list|get|export`: find recordings, hand out copies, audit each read.

Every read of a patient's recording (listing included) writes an audit row in the same
transaction; a pruned recording is fetched back from the S3 archive, opened when it was stored
sealed, and checked on the way.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from ccctl.config import ArchiveSettings
from ccctl.recordings.export_audio import FORMATS, convert
from ccctl.recordings.s3_objects import ObjectStore, S3Problem
from ccctl.recordings.store import RecordingError, file_facts
from ccctl.records.audit import record_audit
from ccctl.records.call_listing import ListError, parse_time
from ccctl.records.database import in_transaction
from ccctl.records.models.media import Recording
from ccctl.records.models.patients import Patient
from ccctl.storage.sealed import MediaKeyError, copy_clear

T = TypeVar("T")
SOURCE = "cli"


@dataclass
class RecordingFilter:
    patient_code: str | None = None
    agent: str | None = None
    queue: str | None = None
    since: str | date | datetime | None = None
    until: str | date | datetime | None = None
    limit: int = 100


def _in_transaction(url: str, work: Callable[[Session], T]) -> T:
    return in_transaction(url, RecordingError, work)


def find_recordings(session: Session, filters: RecordingFilter) -> list[tuple[Recording, str]]:
    """(recording, patient code or "") matching the filters, newest first."""
    try:
        start = parse_time("--from", filters.since)
        end = parse_time("--to", filters.until, end_of_day=True)
    except ListError as exc:
        raise RecordingError(str(exc)) from None
    if filters.limit < 1:
        raise RecordingError(f"--limit: must be at least 1, got {filters.limit}")
    query = (
        select(Recording, Patient.patient_code)
        .outerjoin(Patient, Patient.id == Recording.patient_id)
        .order_by(Recording.started_at.desc(), Recording.id.desc())
        .limit(filters.limit)
    )
    if filters.patient_code:
        query = query.where(Patient.patient_code == filters.patient_code)
    if filters.agent:
        query = query.where(Recording.agent_name == filters.agent)
    if filters.queue:
        query = query.where(Recording.queue == filters.queue)
    if start is not None:
        query = query.where(Recording.started_at >= start)
    if end is not None:
        query = query.where(Recording.started_at < end)
    return [(row, code or "") for row, code in session.execute(query).all()]


def recording_dict(row: Recording, patient_code: str) -> dict:
    return {
        "call_uuid": row.call_uuid,
        "started_at": row.started_at.isoformat(),
        "duration_seconds": row.duration_seconds,
        "agent": row.agent_name,
        "queue": row.queue,
        "patient": patient_code,
        "size_bytes": row.size_bytes,
        "sha256": row.sha256,
        "archive_state": row.archive_state,
        "s3_key": row.s3_key,
        "archive_error": row.archive_error,
        "path": row.path,
    }


def _audit_reads(session: Session, actor: str, action: str, rows: list[Recording], detail: str = "") -> None:
    for row in rows:
        record_audit(session, actor, action, row.patient_id, SOURCE, detail=detail or f"recording {row.call_uuid}")


def list_recordings(url: str, filters: RecordingFilter, actor: str) -> list[dict]:
    """Recordings matching the filters, newest first; one audit row per recording listed."""

    def work(session: Session) -> list[dict]:
        found = find_recordings(session, filters)
        _audit_reads(session, actor, "recording.list", [row for row, _ in found])
        return [recording_dict(row, code) for row, code in found]

    return _in_transaction(url, work)


def get_recording(
    url: str, call_uuid: str, out: str | Path | None, actor: str, archive: ArchiveSettings, key: bytes | None = None
) -> Path:
    """Copy one recording (WAV, in clear) to `out` (default ./<uuid>.wav), from S3 if pruned locally; its path.

    `key` opens a recording sealed at rest (storage.key_file).
    """

    def work(session: Session) -> Path:
        row = session.scalar(select(Recording).where(Recording.call_uuid == call_uuid))
        if row is None:
            raise RecordingError(f"no recording of call {call_uuid}")
        target = Path(out) if out else Path(f"{call_uuid}.wav")
        _audit_reads(session, actor, "recording.get", [row])
        _copy_out(row, target, archive, key)
        return target

    return _in_transaction(url, work)


def export_recordings(
    url: str,
    filters: RecordingFilter,
    fmt: str,
    out_dir: str | Path,
    actor: str,
    archive: ArchiveSettings,
    key: bytes | None = None,
) -> list[Path]:
    """Every recording matching the filters converted to `fmt` in out_dir as <uuid>.<fmt>; the files written."""
    if fmt not in FORMATS:
        raise RecordingError(f"--format: {fmt!r} is not one of {', '.join(FORMATS)}")
    directory = Path(out_dir)
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise RecordingError(f"--out {directory}: {exc.strerror}") from None

    def work(session: Session) -> list[Path]:
        rows = [row for row, _ in find_recordings(session, filters)]
        _audit_reads(session, actor, "recording.export", rows, detail="")
        written = []
        with tempfile.TemporaryDirectory(prefix="ccctl-export-") as scratch:
            for row in rows:
                wav = Path(scratch) / f"{row.call_uuid}.wav"
                _copy_out(row, wav, archive, key)
                target = directory / f"{row.call_uuid}.{fmt}"
                convert(wav, target, fmt)
                written.append(target)
        return written

    return _in_transaction(url, work)


def _copy_out(row: Recording, target: Path, archive: ArchiveSettings, key: bytes | None) -> None:
    """The recording's clear bytes at target, checked against the stored SHA-256 when there is one."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if Path(row.path).is_file():
        try:
            copy_clear(row.path, target, key)
        except MediaKeyError as exc:
            raise RecordingError(f"recording {row.call_uuid}: {exc}") from None
    elif row.s3_key:
        # the archive holds the sealed form while storage.key_file is set: opened here, as a local file is
        with tempfile.TemporaryDirectory(prefix="ccctl-fetch-") as scratch:
            fetched = Path(scratch) / f"{row.call_uuid}.s3"
            try:
                ObjectStore.from_settings(archive).fetch(row.s3_key, fetched)
                copy_clear(fetched, target, key)
            except S3Problem as exc:
                raise RecordingError(f"recording {row.call_uuid}: {exc}") from None
            except MediaKeyError as exc:
                reason = str(exc).replace(str(fetched), f"its archived copy {row.s3_key}")
                raise RecordingError(f"recording {row.call_uuid}: {reason}") from None
    else:
        raise RecordingError(f"recording {row.call_uuid}: file {row.path} is missing and it was never archived")
    if row.sha256 and file_facts(target).sha256 != row.sha256:
        target.unlink(missing_ok=True)
        raise RecordingError(f"recording {row.call_uuid}: the copy's SHA-256 does not match the one recorded")
