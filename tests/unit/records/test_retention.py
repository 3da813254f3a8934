"""Retention: what is older than the `retention` settings keep goes (files and rows, or bodies blanked), what is
younger stays, 0 days keeps forever, --dry-run removes nothing; counts printed, never names or paths."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session

from ccctl.cli import main
from ccctl.config import ConfigError, RetentionSettings, Settings, load_settings
from ccctl.records.audit import record_audit
from ccctl.records.database import make_engine
from ccctl.records.models.audit import AuditEntry
from ccctl.records.models.calls import VoiceMessage
from ccctl.records.models.channels import FaxJob, SmsMessage
from ccctl.records.models.inbox import InboxAttachment, InboxItem
from ccctl.records.models.media import Recording
from ccctl.records.retention import retention_forever, run_retention

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
OLD, YOUNG = NOW - timedelta(days=40), NOW - timedelta(days=5)


def write(path: Path) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"data")
    return str(path)


def seed(url: str, files: Path) -> None:
    """One old and one young of everything retention looks at."""
    engine = make_engine(url)
    with Session(engine) as db, db.begin():
        for age, at in (("old", OLD), ("young", YOUNG)):
            db.add(Recording(call_uuid=f"{age}-call", path=write(files / f"{age}-rec.wav"), started_at=at))
            db.add(VoiceMessage(call_uuid=f"{age}-call", path=write(files / f"{age}-voice.wav"), reason="complaint",
                                created_at=at))  # fmt: skip
            item = InboxItem(channel="email", sender="a@example.org", subject=f"{age} subject", body=f"{age} body",
                             received_at=at)  # fmt: skip
            item.attachments = [InboxAttachment(filename="x.pdf", path=write(files / f"{age}-att.pdf"))]
            db.add(item)
            db.add(SmsMessage(recipient="+48600100200", body=f"{age} sms", created_at=at))
            db.add(FaxJob(number="+48221234567", tiff_path=write(files / f"{age}-fax.tiff"), created_at=at))
            record_audit(db, "maria", "show", 1, "cli", detail=f"{age} audit", at=at)
    engine.dispose()


def texts(url: str) -> dict[str, list]:
    engine = make_engine(url)
    with Session(engine) as db:
        found = {
            "recordings": db.scalars(select(Recording.call_uuid).order_by(Recording.call_uuid)).all(),
            "voice": db.scalars(select(VoiceMessage.call_uuid).order_by(VoiceMessage.call_uuid)).all(),
            "bodies": db.scalars(select(InboxItem.body).order_by(InboxItem.id)).all(),
            "attachments": len(db.scalars(select(InboxAttachment.id)).all()),
            "sms": db.scalars(select(SmsMessage.body).order_by(SmsMessage.id)).all(),
            "audit": db.scalars(select(AuditEntry.detail).order_by(AuditEntry.id)).all(),
        }
    engine.dispose()
    return found


def settings_for(url: str, **days: float) -> Settings:
    return dataclasses.replace(Settings(), database=dataclasses.replace(Settings().database, url=url),
                               retention=RetentionSettings(**days))  # fmt: skip


ALL_30_DAYS = {"recordings_days": 30, "voice_messages_days": 30, "message_bodies_days": 30, "audit_days": 30}


def test_a_run_removes_what_is_past_its_age_and_keeps_the_rest(db_url, tmp_path):
    seed(db_url, tmp_path / "files")
    settings = settings_for(db_url, **ALL_30_DAYS)
    dry = run_retention(settings, NOW, dry_run=True)
    assert dry.lines() == [
        "would remove 1 recording(s)",
        "would remove 1 voice message(s)",
        "would remove 1 attachment(s)",
        "would remove 1 inbox message body(ies)",
        "would remove 1 SMS body(ies)",
        "would remove 1 fax(es) sent",
        "would remove 1 audit row(s)",
    ]
    assert len(list((tmp_path / "files").iterdir())) == 8 and texts(db_url)["sms"] == ["old sms", "young sms"]

    report = run_retention(settings, NOW)
    assert [line.replace("removed", "would remove") for line in report.lines()] == dry.lines()
    assert sorted(p.name for p in (tmp_path / "files").iterdir()) == [
        "young-att.pdf", "young-fax.tiff", "young-rec.wav", "young-voice.wav"]  # fmt: skip
    left = texts(db_url)
    assert left["recordings"] == ["young-call"] and left["voice"] == ["young-call"]
    assert (left["bodies"], left["attachments"], left["sms"]) == (["", "young body"], 1, ["", "young sms"])
    assert left["audit"][0] == "young audit" and left["audit"][1].startswith("1 recording(s), 1 voice message(s)")
    assert run_retention(settings, NOW).lines() == [
        "removed nothing: nothing is past its age (or every age is 0, keep forever)"
    ]
    # a month later the young ones are old too
    later = run_retention(settings, NOW + timedelta(days=30))
    assert "removed 1 recording(s)" in later.lines() and not list((tmp_path / "files").iterdir())


def test_zero_days_keeps_forever_and_only_the_aged_kinds_go(sqlite_url, tmp_path):
    seed(sqlite_url, tmp_path / "files")
    report = run_retention(settings_for(sqlite_url, recordings_days=30), NOW + timedelta(days=3650))
    assert report.lines() == ["removed 2 recording(s)"]
    left = texts(sqlite_url)
    assert left["recordings"] == [] and left["voice"] == ["old-call", "young-call"]
    assert left["sms"] == ["old sms", "young sms"] and left["audit"][:2] == ["old audit", "young audit"]


def test_ccctl_retention_run_prints_counts_and_the_settings_are_checked(sqlite_url, tmp_path):
    seed(sqlite_url, tmp_path / "files")
    config = tmp_path / "ccctl.yaml"
    config.write_text(f"database:\n  url: {sqlite_url}\nretention:\n  voice_messages_days: 1\n")
    dry = CliRunner().invoke(main, ["-c", str(config), "retention", "run", "--dry-run"])
    assert (dry.exit_code, dry.output) == (0, "would remove 2 voice message(s)\n")
    done = CliRunner().invoke(main, ["-c", str(config), "retention", "run"])
    assert (done.exit_code, done.output) == (0, "removed 2 voice message(s)\n")
    assert texts(sqlite_url)["voice"] == []
    config.write_text("retention:\n  audit_days: -1\n")
    with pytest.raises(ConfigError, match="'retention.audit_days' must be 0 or more, got -1"):
        load_settings(str(config))


def test_serve_runs_retention_every_period_with_its_clock(sqlite_url, tmp_path):
    seed(sqlite_url, tmp_path / "files")
    settings = settings_for(sqlite_url, recordings_days=30, every_seconds=86400)
    clock = iter([NOW - timedelta(days=20), NOW])  # the first run finds nothing old enough, the next day's does
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) == 3:
            raise StopIteration

    with pytest.raises(StopIteration):
        retention_forever(settings, clock=lambda: next(clock), sleep=sleep)
    assert waits == [60.0, 86400, 86400]
    assert texts(sqlite_url)["recordings"] == ["young-call"]
