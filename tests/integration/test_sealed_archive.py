"""The S3 archive of a site with storage.key_file, against moto's S3 server over the wire: the bucket gets the
sealed bytes only (with S3's own encryption asked for), and `ccctl recordings get` opens a pruned recording
fetched back from it, with its audit row, as it does a local one.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from moto.server import ThreadedMotoServer
from sqlalchemy import select
from sqlalchemy.orm import Session

from ccctl.cli import main
from ccctl.config import load_settings
from ccctl.recordings.s3_objects import ObjectStore
from ccctl.recordings.store import recording_path, register_recording
from ccctl.records.audit import audit_trail
from ccctl.records.database import make_engine
from ccctl.records.models.calls import Call
from ccctl.records.models.media import Recording
from ccctl.records.models.patients import Patient
from ccctl.storage.commands import keygen

STARTED = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
UUID = "5ea1ed00-0001"


@pytest.fixture(scope="module")
def s3_endpoint():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def site(tmp_path: Path, sqlite_url: str, s3_endpoint: str, sse: str = "AES256") -> Path:
    bucket = "sealed-" + hashlib.sha1(str(tmp_path).encode()).hexdigest()[:12]
    path = tmp_path / "ccctl.yaml"
    path.write_text(
        f"database:\n  url: {sqlite_url}\n"
        f"recordings_dir: {tmp_path / 'recordings'}\n"
        f"storage:\n  key_file: {keygen(tmp_path / 'media.key')}\n"
        f"archive:\n  bucket: {bucket}\n  endpoint_url: {s3_endpoint}\n  access_key_id: testing\n"
        f"  secret_access_key: testing\n  prune_after_days: 0\n  max_attempts: 1\n"
        f"  server_side_encryption: {sse!r}\n"
    )
    return path


def recorded_call(url: str, tmp_path: Path) -> tuple[bytes, int]:
    """A finished call with its recording (a WAV, in clear until the seal job or the archive seals it)."""
    wav = recording_path(tmp_path / "recordings", UUID, STARTED)
    wav.parent.mkdir(parents=True, exist_ok=True)
    content = b"RIFF" + bytes(36) + b"WAVEfmt " + bytes(2000)
    engine = make_engine(url)
    try:
        with Session(engine) as db, db.begin():
            patient = Patient(patient_code="P-SEALED")
            db.add(patient)
            db.flush()
            db.add(Call(uuid=UUID, hotline="main", started_at=STARTED, ended_at=STARTED + timedelta(minutes=2)))
            wav.write_bytes(content)
            register_recording(db, UUID, wav, "alice", "general", patient.id, STARTED)
            return content, patient.id
    finally:
        engine.dispose()


def ccctl(config: Path, *args: str):
    return CliRunner().invoke(main, ["-c", str(config), *args])


def test_the_bucket_holds_only_sealed_bytes_and_get_opens_a_pruned_recording_audited(tmp_path, sqlite_url, s3_endpoint):
    config = site(tmp_path, sqlite_url, s3_endpoint)
    settings = load_settings(config)
    store = ObjectStore.from_settings(settings.archive)
    store.client.create_bucket(Bucket=settings.archive.bucket)
    content, patient_id = recorded_call(sqlite_url, tmp_path)
    assert ccctl(config, "storage", "encrypt-existing").exit_code == 0

    archived = ccctl(config, "recordings", "archive")

    assert archived.exit_code == 0, archived.output
    assert archived.stdout.startswith("1 uploaded, 1 pruned, 0 failed")
    engine = make_engine(sqlite_url)
    with Session(engine) as db:
        row = db.scalar(select(Recording).where(Recording.call_uuid == UUID))
        key, path, sha256 = row.s3_key, Path(row.path), row.sha256
        assert (row.archive_state, row.size_bytes) == ("pruned", len(content))
    engine.dispose()
    assert sha256 == hashlib.sha256(content).hexdigest() and not path.exists()
    stored = store.client.get_object(Bucket=settings.archive.bucket, Key=key)
    body = stored["Body"].read()
    assert b"RIFF" not in body and b"WAVE" not in body
    assert stored["Metadata"] == {"sha256": sha256, "sealed": "aes-256-gcm"}
    assert stored["ServerSideEncryption"] == "AES256"

    fetched = ccctl(config, "recordings", "get", UUID, "--out", str(tmp_path / "back.wav"), "--as", "sup")

    assert fetched.exit_code == 0, fetched.output
    assert (tmp_path / "back.wav").read_bytes() == content
    engine = make_engine(sqlite_url)
    with Session(engine) as db:
        assert [(r.actor, r.action) for r in audit_trail(db, patient_id)] == [("sup", "recording.get")]
    engine.dispose()
    # another key does not open the archived copy: one line naming the setting and the object
    (tmp_path / "media.key").unlink()
    keygen(tmp_path / "media.key")
    refused = ccctl(config, "recordings", "get", UUID, "--out", str(tmp_path / "again.wav"), "--as", "sup")
    assert refused.exit_code == 1
    assert refused.stderr == (
        f"ccctl: recording {UUID}: its archived copy {key}: the key in storage.key_file does not open it "
        "(another key sealed it, or the file is damaged)\n"
    )
    assert not (tmp_path / "again.wav").exists()


def test_an_unknown_server_side_encryption_is_one_line_naming_the_setting(tmp_path, sqlite_url, s3_endpoint):
    config = site(tmp_path, sqlite_url, s3_endpoint, sse="aes256")
    recorded_call(sqlite_url, tmp_path)
    result = ccctl(config, "recordings", "archive")
    assert result.exit_code == 1
    assert result.stderr == (
        "ccctl: archive.server_side_encryption: 'aes256' is not one of AES256, aws:kms (or empty)\n"
    )
