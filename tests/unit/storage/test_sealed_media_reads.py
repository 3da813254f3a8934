"""Media sealed at rest and read by people: the serve job seals a finished call's recording,
`ccctl recordings get` and the console hand it back in clear with an audit row, a received fax
and an uploaded document are never PDF on disk, and `ccctl storage encrypt-existing` seals what
was stored before the key.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session
from test_sealed import wav_bytes

from ccctl.channels.fax_receive import file_received_fax, incoming_folder
from ccctl.channels.uploads import store_upload
from ccctl.cli import main
from ccctl.config import Settings
from ccctl.recordings.store import recording_path, register_recording
from ccctl.records.audit import audit_trail
from ccctl.records.database import make_engine
from ccctl.records.models.calls import Call, VoiceMessage
from ccctl.records.models.inbox import InboxAttachment, InboxItem
from ccctl.records.models.media import Recording
from ccctl.records.models.patients import Patient
from ccctl.storage.commands import keygen
from ccctl.storage.jobs import run_seal
from ccctl.storage.sealed import is_sealed, load_key, read_clear

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "web"))
from web_site import console, log_in, seed  # noqa: E402

STARTED = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
MINIMAL_PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
# one blank A4 page (ghostscript repairs the missing xref)
ONE_PAGE_PDF = (
    b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
    b"2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n"
    b"3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >> endobj\n"
    b"trailer << /Root 1 0 R /Size 4 >>\n%%EOF\n"
)


def in_db(url: str, work):
    engine = make_engine(url)
    try:
        with Session(engine, expire_on_commit=False) as db, db.begin():
            return work(db)
    finally:
        engine.dispose()


def add_call_and_recording(url: str, tmp_path: Path, uuid: str, ended: bool) -> tuple[Path, int]:
    def work(db: Session) -> tuple[Path, int]:
        patient = Patient(patient_code=f"P-{uuid}")
        db.add(patient)
        db.flush()
        ended_at = STARTED + timedelta(minutes=3) if ended else None
        db.add(Call(uuid=uuid, hotline="main", caller_number="+48600100200", started_at=STARTED, ended_at=ended_at))
        path = recording_path(tmp_path / "rec", uuid, STARTED)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(wav_bytes(1.0))
        register_recording(db, uuid, path, "alice", "general", patient.id, STARTED)
        return path, patient.id

    return in_db(url, work)


def site_settings(url: str, tmp_path: Path) -> Settings:
    settings = Settings()
    settings.database.url = url
    settings.recordings_dir = str(tmp_path / "rec")
    settings.fax.faxes_dir = str(tmp_path / "faxes")
    settings.inbox.attachments_dir = str(tmp_path / "attachments")
    settings.storage.key_file = str(keygen(tmp_path / "media.key"))
    return settings


def test_serve_seals_an_ended_calls_recording_and_recordings_get_returns_it_audited(sqlite_url, tmp_path):
    settings = site_settings(sqlite_url, tmp_path)
    done, patient_id = add_call_and_recording(sqlite_url, tmp_path, "done-0001", ended=True)
    talking, _ = add_call_and_recording(sqlite_url, tmp_path, "live-0002", ended=False)
    clear = done.read_bytes()

    run = run_seal(settings)

    assert (run.recordings, is_sealed(done), is_sealed(talking)) == (1, True, False)
    assert not done.read_bytes().startswith(b"RIFF") and talking.read_bytes().startswith(b"RIFF")
    row = in_db(sqlite_url, lambda db: db.scalar(select(Recording).where(Recording.call_uuid == "done-0001")))
    assert (row.size_bytes, row.duration_seconds) == (len(clear), 1.0)  # the clear file's facts, read before sealing
    env = {"CCCTL_DATABASE__URL": sqlite_url, "CCCTL_STORAGE__KEY_FILE": settings.storage.key_file}
    out = tmp_path / "copy.wav"
    result = CliRunner().invoke(main, ["recordings", "get", "done-0001", "--out", str(out), "--as", "qa"], env=env)
    assert result.exit_code == 0, result.output
    assert out.read_bytes() == clear
    trail = in_db(sqlite_url, lambda db: [(r.actor, r.action) for r in audit_trail(db, patient_id)])
    assert trail == [("qa", "recording.get")]

    env["CCCTL_STORAGE__KEY_FILE"] = str(keygen(tmp_path / "other.key"))
    result = CliRunner().invoke(main, ["recordings", "get", "done-0001", "--out", str(tmp_path / "x.wav")], env=env)
    assert result.exit_code == 1
    assert "the key in storage.key_file does not open it" in result.output and len(result.output.splitlines()) == 1
    assert not (tmp_path / "x.wav").exists()


def test_encrypt_existing_seals_media_stored_before_the_key_and_export_checks_still_pass(sqlite_url, tmp_path):
    settings = site_settings(sqlite_url, tmp_path)
    recording, _ = add_call_and_recording(sqlite_url, tmp_path, "old-0001", ended=True)
    hour_ago = time.time() - 3600
    os.utime(recording, (hour_ago, hour_ago))
    clear = recording.read_bytes()
    being_recorded, _ = add_call_and_recording(sqlite_url, tmp_path, "live-0002", ended=False)
    fax = Path(settings.fax.faxes_dir) / "P1" / "fax.pdf"
    arriving = incoming_folder(settings) / "now.tif"
    sending = Path(settings.fax.faxes_dir) / "outgoing" / "000001.tif"
    upload = Path(settings.inbox.attachments_dir) / "uploads" / "2026" / "11" / "a.pdf"
    for path in (fax, arriving, sending, upload):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(MINIMAL_PDF)
    env = {
        "CCCTL_DATABASE__URL": sqlite_url,
        "CCCTL_STORAGE__KEY_FILE": settings.storage.key_file,
        "CCCTL_RECORDINGS_DIR": settings.recordings_dir,
        "CCCTL_FAX__FAXES_DIR": settings.fax.faxes_dir,
        "CCCTL_INBOX__ATTACHMENTS_DIR": settings.inbox.attachments_dir,
    }

    result = CliRunner().invoke(main, ["storage", "encrypt-existing"], env=env)

    assert result.exit_code == 0, result.output
    assert result.output.strip() == (
        "encrypted: 1 attachments, 1 faxes, 1 recordings; 0 already encrypted; "
        "1 recordings still being written left for ccctl serve to encrypt after their call"
    )
    assert all(not p.read_bytes().startswith((b"RIFF", b"%PDF")) for p in (recording, fax, upload))
    assert being_recorded.read_bytes().startswith(b"RIFF")
    # the switch's own fax folders: one arriving, one waiting for txfax
    assert arriving.read_bytes() == sending.read_bytes() == MINIMAL_PDF
    out = tmp_path / "back.wav"
    result = CliRunner().invoke(main, ["recordings", "get", "old-0001", "--out", str(out)], env=env)
    assert result.exit_code == 0, result.output  # the SHA-256 kept on the row is the clear file's
    assert out.read_bytes() == clear
    again = CliRunner().invoke(main, ["storage", "encrypt-existing"], env=env)
    assert again.output.strip().startswith("encrypted: nothing; 3 already encrypted;")


def test_the_console_and_inbox_get_play_a_sealed_voice_message_audited_and_a_wrong_key_says_which_setting(
    sqlite_url, tmp_path
):
    app, controller = console(sqlite_url)
    patients = seed(sqlite_url)
    settings = controller.settings
    settings.storage.key_file = str(keygen(tmp_path / "media.key"))
    voice = tmp_path / "voice" / "call-9.wav"
    voice.parent.mkdir()
    voice.write_bytes(wav_bytes(0.5))
    clear = voice.read_bytes()

    def work(db: Session) -> tuple[int, int]:
        db.add(Call(uuid="call-9", hotline="main", caller_number="+1", started_at=STARTED, ended_at=STARTED))
        db.add(VoiceMessage(call_uuid="call-9", patient_id=patients["anna"], path=str(voice), reason="complaint"))
        item = InboxItem(channel="voice", direction="in", sender="", subject="voice message: complaint", body="")
        item.patient_id = patients["anna"]
        item.attachments.append(InboxAttachment(filename="call-9.wav", content_type="audio/wav", path=str(voice)))
        db.add(item)
        db.flush()
        return item.id, item.attachments[0].id

    item_id, attachment_id = in_db(sqlite_url, work)
    assert run_seal(settings).voice_messages == 1 and not voice.read_bytes().startswith(b"RIFF")
    client = app.test_client()
    log_in(client, "admin")

    answer = client.get(f"/inbox/{item_id}/files/{attachment_id}")

    assert (answer.status_code, answer.mimetype, answer.data) == (200, "audio/wav", clear)
    env = {"CCCTL_DATABASE__URL": sqlite_url, "CCCTL_STORAGE__KEY_FILE": settings.storage.key_file}
    out = tmp_path / "copy.wav"
    args = ["inbox", "get", str(item_id), "call-9.wav", "--out", str(out), "--as", "maria"]
    assert CliRunner().invoke(main, args, env=env).exit_code == 0
    assert out.read_bytes() == clear
    trail = in_db(sqlite_url, lambda db: [(r.actor, r.action, r.source) for r in audit_trail(db, patients["anna"])])
    assert [(actor, action) for actor, action, _ in trail] == [
        ("admin", "inbox attachment"),
        ("maria", "inbox attachment"),
    ]
    assert trail[1][2] == "cli"
    settings.storage.key_file = str(keygen(tmp_path / "other.key"))
    answer = client.get(f"/inbox/{item_id}/files/{attachment_id}")
    assert answer.status_code == 500
    assert "storage.key_file" in answer.get_data(as_text=True) and b"RIFF" not in answer.data


@pytest.mark.skipif(
    not all(shutil.which(tool) for tool in ("gs", "tiff2pdf", "pdftoppm")),
    reason="ghostscript, libtiff-tools and poppler-utils are needed: scripts/install.sh --test",
)
def test_a_received_fax_and_an_uploaded_document_are_sealed_and_the_console_shows_the_pdf(sqlite_url, tmp_path):
    from ccctl.channels.fax_files import to_tiff_f

    app, controller = console(sqlite_url)
    seed(sqlite_url)
    settings = controller.settings
    settings.fax.faxes_dir = str(tmp_path / "faxes")
    settings.inbox.attachments_dir = str(tmp_path / "attachments")
    settings.storage.key_file = str(keygen(tmp_path / "media.key"))
    source = tmp_path / "referral.pdf"
    source.write_bytes(ONE_PAGE_PDF)
    tiff = incoming_folder(settings) / "fax-1.tif"
    to_tiff_f(source, tiff)
    event = {"Unique-ID": "fax-1", "variable_cc_fax_file": str(tiff), "fax-success": "1"}
    event["fax-document-transferred-pages"] = "1"

    item_id = in_db(sqlite_url, lambda db: file_received_fax(db, settings, event))

    files = in_db(
        sqlite_url, lambda db: [(a.id, a.content_type, a.path) for a in db.get(InboxItem, item_id).attachments]
    )
    assert sorted(kind for _, kind, _ in files) == ["application/pdf", "image/png", "image/tiff"]
    assert all(is_sealed(path) for _, _, path in files)
    pdf_id = next(id_ for id_, kind, _ in files if kind == "application/pdf")
    client = app.test_client()
    log_in(client, "admin")
    answer = client.get(f"/inbox/{item_id}/files/{pdf_id}")
    assert answer.status_code == 200 and answer.data.startswith(b"%PDF")

    stored = store_upload(settings, MINIMAL_PDF, "scan.pdf")
    assert not Path(stored.path).read_bytes().startswith(b"%PDF")
    assert read_clear(stored.path, load_key(settings)) == MINIMAL_PDF


def test_the_archive_uploads_a_recording_sealed_and_get_opens_it_audited_after_the_prune(sqlite_url, tmp_path):
    import boto3
    from moto import mock_aws

    from ccctl.config import ArchiveSettings
    from ccctl.recordings.archive import archive_recordings
    from ccctl.recordings.commands import get_recording
    from ccctl.recordings.s3_objects import ObjectStore

    settings = site_settings(sqlite_url, tmp_path)
    sealed_path, first = add_call_and_recording(sqlite_url, tmp_path, "arch-0001", ended=True)
    clear = sealed_path.read_bytes()
    run_seal(settings)
    # a second one the seal job has not reached yet: it is sealed on its way to the bucket
    clear_path, second = add_call_and_recording(sqlite_url, tmp_path, "arch-0002", ended=True)
    key = load_key(settings)
    archive = ArchiveSettings(bucket="rec", prune_after_days=0, max_attempts=1, region="us-east-1")
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket="rec")
        engine = make_engine(sqlite_url)
        with Session(engine, expire_on_commit=False) as db:
            report = archive_recordings(
                db, archive, ObjectStore(client, "rec"), now=STARTED + timedelta(days=1), key=key
            )
        engine.dispose()
        assert (report.uploaded, report.pruned, report.failed) == (["arch-0001", "arch-0002"],) * 2 + ([],)
        for uuid in ("arch-0001", "arch-0002"):
            stored = client.get_object(Bucket="rec", Key=f"recordings/2026/11/23/{uuid}.wav")
            body = stored["Body"].read()
            assert b"RIFF" not in body and b"WAVE" not in body and body.startswith(b"CCSEAL1\n")
            assert stored["Metadata"]["sealed"] == "aes-256-gcm"
        assert not sealed_path.exists() and not clear_path.exists()
        out = get_recording(sqlite_url, "arch-0001", tmp_path / "back.wav", "qa", archive, key)
        assert out.read_bytes() == clear
        again = get_recording(sqlite_url, "arch-0002", tmp_path / "back2.wav", "qa", archive, key)
        assert again.read_bytes() == clear  # the same test tone
    for patient_id in (first, second):
        trail = in_db(sqlite_url, lambda db, p=patient_id: [(r.actor, r.action) for r in audit_trail(db, p)])
        assert trail == [("qa", "recording.get")]


def test_the_serve_loop_seals_a_recording_once_its_call_has_ended(sqlite_url, tmp_path):
    import gevent

    from ccctl.storage.jobs import seal_forever

    settings = site_settings(sqlite_url, tmp_path)
    settings.storage.seal_every_seconds = 0.05
    path, _ = add_call_and_recording(sqlite_url, tmp_path, "loop-0001", ended=False)
    loop = gevent.spawn(seal_forever, settings)
    try:
        gevent.sleep(0.3)
        assert not is_sealed(path)  # the call goes on

        def end(db: Session) -> None:
            db.scalar(select(Call).where(Call.uuid == "loop-0001")).ended_at = STARTED + timedelta(minutes=1)

        in_db(sqlite_url, end)
        with gevent.Timeout(10, AssertionError("the recording was not sealed after its call")):
            while not is_sealed(path):
                gevent.sleep(0.05)
    finally:
        loop.kill()
