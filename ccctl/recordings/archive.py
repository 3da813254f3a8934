"""The archive job: upload finished recordings to S3, verify each copy, prune old local files.

A local file is removed only after the S3 object was checked (size, MD5 ETag, SHA-256 metadata)
and the recording is older than archive.prune_after_days; every failure is kept on its row. With
storage.key_file set the bucket gets the sealed bytes only, so it never holds clear audio.
"""

from __future__ import annotations

import hashlib
import logging
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import gevent
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from ccctl.config import ArchiveSettings, Settings
from ccctl.recordings.s3_objects import ObjectStore, S3Problem
from ccctl.recordings.store import RecordingError, apply_facts, file_facts
from ccctl.records.database import database_problem, make_engine, safe_url
from ccctl.records.models.base import utc_now
from ccctl.records.models.calls import Call
from ccctl.records.models.media import Recording
from ccctl.storage.sealed import MediaKeyError, copy_clear, is_sealed, load_key, seal_copy

log = logging.getLogger(__name__)

# a recording whose call has no ended record yet counts as finished once untouched this long
QUIET_SECONDS = 600.0


@dataclass
class ArchiveReport:
    uploaded: list[str] = field(default_factory=list)
    pruned: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (call uuid, reason)
    waiting: list[str] = field(default_factory=list)  # still being recorded

    def summary(self) -> str:
        return (
            f"{len(self.uploaded)} uploaded, {len(self.pruned)} pruned, {len(self.failed)} failed, "
            f"{len(self.waiting)} still recording"
        )


def object_key(settings: ArchiveSettings, row: Recording) -> str:
    day = row.started_at.astimezone(UTC)
    return f"{settings.prefix}{day:%Y/%m/%d}/{row.call_uuid}.wav"


def archive_recordings(
    session: Session,
    settings: ArchiveSettings,
    store: ObjectStore | None = None,
    now: datetime | None = None,
    sleep: Callable[[float], None] = time.sleep,
    key: bytes | None = None,
) -> ArchiveReport:
    """One run: upload every local recording, then prune the uploaded ones old enough. Commits per recording.

    With `key` (storage.key_file) the sealed form is uploaded: the file sealed at rest as it is, a clear one
    sealed on the way; the row keeps the clear recording's size and SHA-256.
    """
    store = store or ObjectStore.from_settings(settings)
    now = now or utc_now()
    report = ArchiveReport()
    local = session.scalars(select(Recording).where(Recording.archive_state == "local").order_by(Recording.id))
    for row in list(local):
        if _still_recording(session, row, now):
            report.waiting.append(row.call_uuid)
            continue
        _with_retries(row, settings, sleep, report, lambda r=row: _upload(r, settings, store, key), report.uploaded)
        session.commit()
    cutoff = now - timedelta(days=settings.prune_after_days)
    uploaded = session.scalars(
        select(Recording)
        .where(Recording.archive_state == "uploaded", Recording.started_at <= cutoff)
        .order_by(Recording.id)
    )
    for row in list(uploaded):
        _with_retries(row, settings, sleep, report, lambda r=row: _prune(r, store), report.pruned)
        session.commit()
    return report


def _still_recording(session: Session, row: Recording, now: datetime) -> bool:
    call = session.scalar(select(Call).where(Call.uuid == row.call_uuid))
    if call is not None and call.ended_at is not None:
        return False
    try:
        modified = Path(row.path).stat().st_mtime
    except OSError:
        return False  # a missing file is reported by the upload, not waited for
    return now.timestamp() - modified < QUIET_SECONDS


def _with_retries(
    row: Recording,
    settings: ArchiveSettings,
    sleep: Callable[[float], None],
    report: ArchiveReport,
    step: Callable[[], None],
    done: list[str],
) -> None:
    """Run step with exponential backoff; the last failure stays on the row for the wallboard alarm."""
    attempts = max(1, settings.max_attempts)
    reason = ""
    for attempt in range(attempts):
        row.archive_attempts += 1
        try:
            step()
        except (S3Problem, RecordingError) as exc:
            reason = str(exc)
            if attempt + 1 < attempts:
                sleep(settings.backoff_seconds * (2**attempt))
            continue
        row.archive_error, row.archive_error_at = "", None
        done.append(row.call_uuid)
        return
    row.archive_error, row.archive_error_at = reason, utc_now()
    report.failed.append((row.call_uuid, reason))
    log.warning("recording %s: archive failed after %d attempts: %s", row.call_uuid, attempts, reason)


def _upload(row: Recording, settings: ArchiveSettings, store: ObjectStore, key: bytes | None) -> None:
    with tempfile.TemporaryDirectory(prefix="ccctl-archive-") as scratch:
        try:
            clear = Path(row.path)
            if is_sealed(clear):
                clear = Path(scratch) / f"{row.call_uuid}.wav"
                copy_clear(row.path, clear, key)
            facts = file_facts(clear)
            if row.sha256 and row.sha256 != facts.sha256:
                raise RecordingError(
                    f"recording file {row.path}: its SHA-256 differs from the one recorded; not uploaded"
                )
            body = clear if key is None else _sealed_body(row, clear, key, Path(scratch))
        except MediaKeyError as exc:
            raise RecordingError(f"recording {row.call_uuid}: {exc}") from None
        apply_facts(row, facts)
        object_name = object_key(settings, row)
        md5 = md5_of(body)
        store.put(object_name, body, facts.sha256, md5, sealed=key is not None)
        store.verify(object_name, facts.size_bytes, facts.sha256, md5, sealed=key is not None)
    row.s3_key, row.archive_state, row.archived_at = object_name, "uploaded", utc_now()


def _sealed_body(row: Recording, clear: Path, key: bytes, scratch: Path) -> Path:
    """What goes to the bucket: the file sealed at rest as it is, else a sealed copy of the clear one."""
    if is_sealed(row.path):
        return Path(row.path)
    sealed = scratch / f"{row.call_uuid}.sealed"
    seal_copy(clear, sealed, key)
    return sealed


def _prune(row: Recording, store: ObjectStore) -> None:
    """Check the S3 copy once more right before the only local copy goes."""
    if not row.s3_key or not row.sha256 or row.size_bytes is None:
        raise RecordingError(f"recording {row.call_uuid}: marked uploaded without key or checksum; not pruned")
    store.verify(row.s3_key, row.size_bytes, row.sha256, None)
    try:
        Path(row.path).unlink(missing_ok=True)
    except OSError as exc:
        raise RecordingError(f"recording file {row.path}: cannot remove ({exc.strerror})") from None
    row.archive_state = "pruned"


def md5_of(path: str | Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    try:
        with open(path, "rb") as handle:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
    except OSError as exc:
        raise RecordingError(f"recording file {path}: {exc.strerror}") from None
    return digest.hexdigest()


def archive_failures(session: Session) -> list[dict]:
    """Recordings whose last archive attempt failed (the wallboard's "recording archive failing" alarm)."""
    rows = session.scalars(select(Recording).where(Recording.archive_error != "").order_by(Recording.id))
    return [
        {
            "call_uuid": r.call_uuid,
            "error": r.archive_error,
            "since": r.archive_error_at,
            "attempts": r.archive_attempts,
        }
        for r in rows
    ]


def run_archive(settings: Settings, store: ObjectStore | None = None) -> ArchiveReport:
    """One archive run on the configured database and bucket (`ccctl recordings archive`)."""
    store = store or ObjectStore.from_settings(settings.archive)
    key = load_key(settings)
    engine = make_engine(settings.database.url)
    try:
        with Session(engine, expire_on_commit=False) as session:
            return archive_recordings(session, settings.archive, store, key=key)
    except DBAPIError as exc:
        raise RecordingError(f"database {safe_url(settings.database.url)}: {database_problem(exc)}") from None
    finally:
        engine.dispose()


def archive_forever(settings: Settings) -> None:
    """What `ccctl serve` spawns: a run every archive.every_seconds; a failed run is logged and retried later."""
    if not settings.archive.bucket or settings.archive.every_seconds <= 0:
        return
    pool = gevent.get_hub().threadpool
    while True:
        try:
            # hashing large files and SQLite would stall every call's greenlet; a pool thread takes them
            report = pool.apply(run_archive, (settings,))
            if report.uploaded or report.pruned or report.failed:
                log.info("recordings archive: %s", report.summary())
        except (S3Problem, RecordingError, MediaKeyError) as exc:
            log.warning("recordings archive run failed: %s", exc)
        time.sleep(settings.archive.every_seconds)
