"""The archive job against moto's real S3 server: upload, verify, prune, retries, failures kept per recording.

moto runs as an HTTP server on an ephemeral port; boto3 talks to it over the wire like to any S3 endpoint.
"""

from __future__ import annotations

import hashlib
import os
import time
from datetime import UTC, datetime, timedelta

import gevent
import pytest
from click.testing import CliRunner
from moto.server import ThreadedMotoServer
from sqlalchemy import select
from sqlalchemy.orm import Session

from ccctl.cli import main
from ccctl.config import ArchiveSettings, Settings
from ccctl.recordings.archive import archive_failures, archive_forever, archive_recordings
from ccctl.recordings.s3_objects import ObjectStore
from ccctl.recordings.store import recording_path, register_recording
from ccctl.records.database import make_engine
from ccctl.records.models.calls import Call
from ccctl.records.models.media import Recording
from ccctl.records.models.patients import Patient
from ccctl.sim.session_recording import silent_wav

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def s3_endpoint():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def archive(s3_endpoint, request):
    bucket = "rec-" + hashlib.sha1(request.node.nodeid.encode()).hexdigest()[:12]
    settings = ArchiveSettings(
        bucket=bucket,
        prefix="cc/",
        endpoint_url=s3_endpoint,
        access_key_id="testing",
        secret_access_key="testing",
        prune_after_days=30,
        max_attempts=3,
        backoff_seconds=0.5,
    )
    return settings


def _client(settings: ArchiveSettings):
    return ObjectStore.from_settings(settings).client


@pytest.fixture
def db(sqlite_url):
    engine = make_engine(sqlite_url)
    with Session(engine, expire_on_commit=False) as session:
        yield session
    engine.dispose()


def _recorded_call(db: Session, tmp_path, uuid: str, started: datetime, seconds: float = 0.5) -> Recording:
    """A finished call with its WAV file on disk and its recording row."""
    path = recording_path(tmp_path / "recordings", uuid, started)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(silent_wav(seconds))
    patient = Patient(patient_code=f"P{uuid[:6]}")
    db.add(patient)
    db.flush()
    register_recording(db, uuid, path, "alice", "general", patient.id, started)
    db.add(Call(uuid=uuid, hotline="main", started_at=started, ended_at=started + timedelta(minutes=2)))
    db.commit()
    return db.scalar(select(Recording).where(Recording.call_uuid == uuid))


def test_upload_is_verified_and_a_recent_file_stays_local(db, tmp_path, archive):
    _client(archive).create_bucket(Bucket=archive.bucket)
    row = _recorded_call(db, tmp_path, "aaaaaaaa-0001", NOW - timedelta(days=1))
    content = open(row.path, "rb").read()

    report = archive_recordings(db, archive, now=NOW)

    assert (report.uploaded, report.pruned, report.failed) == (["aaaaaaaa-0001"], [], [])
    db.refresh(row)
    assert (row.archive_state, row.s3_key, row.archive_error) == ("uploaded", "cc/2026/11/22/aaaaaaaa-0001.wav", "")
    assert (row.size_bytes, row.sha256, row.duration_seconds) == (
        len(content),
        hashlib.sha256(content).hexdigest(),
        0.5,
    )
    stored = _client(archive).get_object(Bucket=archive.bucket, Key=row.s3_key)
    assert stored["Body"].read() == content
    assert stored["Metadata"] == {"sha256": row.sha256}
    assert os.path.exists(row.path)  # younger than prune_after_days


def test_old_recording_is_pruned_after_upload_and_get_fetches_it_back(db, tmp_path, archive, sqlite_url):
    _client(archive).create_bucket(Bucket=archive.bucket)
    row = _recorded_call(db, tmp_path, "bbbbbbbb-0002", NOW - timedelta(days=45))
    content = open(row.path, "rb").read()

    report = archive_recordings(db, archive, now=NOW)

    assert (report.uploaded, report.pruned) == (["bbbbbbbb-0002"], ["bbbbbbbb-0002"])
    db.refresh(row)
    assert row.archive_state == "pruned"
    assert not os.path.exists(row.path)
    env = {
        "CCCTL_DATABASE__URL": sqlite_url,
        "CCCTL_ARCHIVE__BUCKET": archive.bucket,
        "CCCTL_ARCHIVE__ENDPOINT_URL": archive.endpoint_url,
        "CCCTL_ARCHIVE__ACCESS_KEY_ID": "testing",
        "CCCTL_ARCHIVE__SECRET_ACCESS_KEY": "testing",
    }
    out = tmp_path / "copy.wav"
    result = CliRunner().invoke(main, ["recordings", "get", "bbbbbbbb-0002", "--out", str(out), "--as", "sup"], env=env)
    assert result.exit_code == 0, result.output
    assert out.read_bytes() == content


def test_a_damaged_s3_copy_is_never_trusted_for_pruning(db, tmp_path, archive):
    client = _client(archive)
    client.create_bucket(Bucket=archive.bucket)
    row = _recorded_call(db, tmp_path, "cccccccc-0003", NOW - timedelta(days=1))
    archive_recordings(db, archive, now=NOW)
    db.refresh(row)
    # the object is replaced behind our back (same size, other bytes, no checksum metadata)
    client.put_object(Bucket=archive.bucket, Key=row.s3_key, Body=b"x" * row.size_bytes)

    report = archive_recordings(db, archive, now=NOW + timedelta(days=40), sleep=lambda s: None)

    assert report.pruned == []
    assert report.failed == [
        ("cccccccc-0003", f"check of s3://{archive.bucket}/{row.s3_key}: SHA-256 metadata missing != {row.sha256}")
    ]
    db.refresh(row)
    assert row.archive_state == "uploaded"
    assert os.path.exists(row.path)


def test_failures_are_retried_with_backoff_then_kept_on_the_row(db, tmp_path, archive):
    row = _recorded_call(db, tmp_path, "dddddddd-0004", NOW - timedelta(days=1))
    waits: list[float] = []

    report = archive_recordings(db, archive, now=NOW, sleep=waits.append)  # the bucket does not exist yet

    assert waits == [0.5, 1.0]
    reason = f"upload to s3://{archive.bucket}/cc/2026/11/22/dddddddd-0004.wav: NoSuchBucket (The specified bucket does not exist)"
    assert report.failed == [("dddddddd-0004", reason)]
    db.refresh(row)
    assert (row.archive_state, row.archive_attempts, row.archive_error) == ("local", 3, reason)
    assert [(f["call_uuid"], f["error"]) for f in archive_failures(db)] == [("dddddddd-0004", reason)]

    _client(archive).create_bucket(Bucket=archive.bucket)
    report = archive_recordings(db, archive, now=NOW, sleep=waits.append)

    assert report.uploaded == ["dddddddd-0004"]
    assert archive_failures(db) == []


def test_a_call_still_being_recorded_is_left_alone(db, tmp_path, archive):
    _client(archive).create_bucket(Bucket=archive.bucket)
    started = datetime.now(UTC)
    path = recording_path(tmp_path / "recordings", "eeeeeeee-0005", started)
    path.parent.mkdir(parents=True)
    path.write_bytes(silent_wav(0.2))
    register_recording(db, "eeeeeeee-0005", path, "alice", "general", None, started)
    db.commit()

    report = archive_recordings(db, archive, now=datetime.fromtimestamp(time.time(), UTC))

    assert (report.waiting, report.uploaded) == (["eeeeeeee-0005"], [])


def test_archive_command_exits_1_and_names_the_failing_recording(db, tmp_path, archive, sqlite_url):
    _recorded_call(db, tmp_path, "ffffffff-0006", NOW - timedelta(days=1))
    env = {
        "CCCTL_DATABASE__URL": sqlite_url,
        "CCCTL_ARCHIVE__BUCKET": archive.bucket,
        "CCCTL_ARCHIVE__ENDPOINT_URL": archive.endpoint_url,
        "CCCTL_ARCHIVE__ACCESS_KEY_ID": "testing",
        "CCCTL_ARCHIVE__SECRET_ACCESS_KEY": "testing",
        "CCCTL_ARCHIVE__MAX_ATTEMPTS": "1",
    }

    result = CliRunner().invoke(main, ["recordings", "archive"], env=env)

    assert result.exit_code == 1
    assert "ffffffff-0006: upload to s3://" in result.output and "NoSuchBucket" in result.output
    assert "0 uploaded, 0 pruned, 1 failed, 0 still recording" in result.output
    _client(archive).create_bucket(Bucket=archive.bucket)
    result = CliRunner().invoke(main, ["recordings", "archive"], env=env)
    assert result.exit_code == 0, result.output
    assert "1 uploaded, 0 pruned, 0 failed, 0 still recording" in result.output


def test_the_serve_loop_archives_in_the_background(db, tmp_path, archive, sqlite_url):
    _client(archive).create_bucket(Bucket=archive.bucket)
    row = _recorded_call(db, tmp_path, "abababab-0007", NOW - timedelta(days=1))
    settings = Settings()
    settings.database.url = sqlite_url
    settings.archive = archive
    archive.every_seconds = 0.05

    loop = gevent.spawn(archive_forever, settings)
    try:
        for _ in range(300):
            db.expire_all()
            if db.get(Recording, row.id).archive_state == "uploaded":
                break
            gevent.sleep(0.01)
    finally:
        loop.kill()
    assert db.get(Recording, row.id).archive_state == "uploaded"
