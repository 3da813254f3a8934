"""Retention: what is kept only so long (settings section `retention`), removed once it is older.

Recordings and voice messages go with their files; message bodies (inbox items, SMS, faxes sent) are
blanked and their files deleted while the rows stay for the counts; audit rows older than their age
are deleted. One run is one transaction; files are deleted after it commits, and one audit row says
what went, as counts. `ccctl retention run` runs it once, `ccctl serve` every `every_seconds`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from ccctl.config import RetentionSettings, Settings
from ccctl.errors import UserError
from ccctl.records.audit import record_audit
from ccctl.records.database import in_transaction
from ccctl.records.models.audit import AuditEntry
from ccctl.records.models.base import utc_now
from ccctl.records.models.calls import VoiceMessage
from ccctl.records.models.channels import FaxJob, SmsMessage
from ccctl.records.models.inbox import InboxAttachment, InboxItem
from ccctl.records.models.media import Recording

log = logging.getLogger("ccctl.retention")
SOURCE = "retention"
FAILED_RUN_RETRY_SECONDS = 3600.0


class RetentionError(UserError, RuntimeError):
    """A retention run that could not be done; str() names the database problem."""


@dataclass
class RetentionReport:
    """What one run removed (or, dry, would remove): counts only, never names, numbers or paths."""

    dry_run: bool = False
    counts: dict[str, int] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)
    files_left: int = 0

    def add(self, what: str, n: int) -> None:
        self.counts[what] = self.counts.get(what, 0) + n

    def lines(self) -> list[str]:
        verb = "would remove" if self.dry_run else "removed"
        found = [f"{verb} {n} {what}" for what, n in self.counts.items() if n]
        if self.files_left:
            found.append(f"{self.files_left} file(s) could not be deleted (check the permissions)")
        return found or [f"{verb} nothing: nothing is past its age (or every age is 0, keep forever)"]


def _cutoff(now: datetime, days: float) -> datetime | None:
    return now - timedelta(days=days) if days > 0 else None


def _recordings(session: Session, cutoff: datetime, report: RetentionReport) -> None:
    rows = session.execute(select(Recording.id, Recording.path).where(Recording.started_at < cutoff)).all()
    report.files += [path for _, path in rows if path]
    report.add("recording(s)", len(rows))
    if not report.dry_run and rows:
        session.execute(delete(Recording).where(Recording.id.in_([row_id for row_id, _ in rows])))


def _voice_messages(session: Session, cutoff: datetime, report: RetentionReport) -> None:
    rows = session.execute(select(VoiceMessage.id, VoiceMessage.path).where(VoiceMessage.created_at < cutoff)).all()
    report.files += [path for _, path in rows if path]
    report.add("voice message(s)", len(rows))
    if not report.dry_run and rows:
        session.execute(delete(VoiceMessage).where(VoiceMessage.id.in_([row_id for row_id, _ in rows])))


def _blank(session: Session, report: RetentionReport, what: str, model, where, **values) -> None:
    if report.dry_run:
        report.add(what, session.scalar(select(func.count()).select_from(model).where(where)) or 0)
    else:
        query = update(model).where(where).values(**values).execution_options(synchronize_session=False)
        report.add(what, session.execute(query).rowcount)


def _message_bodies(session: Session, cutoff: datetime, report: RetentionReport) -> None:
    """Bodies blanked, files deleted; the rows stay (channel, time, flags) for the inbox's counts."""
    old_items = select(InboxItem.id).where(InboxItem.received_at < cutoff)
    attachments = session.execute(
        select(InboxAttachment.id, InboxAttachment.path).where(InboxAttachment.item_id.in_(old_items))
    ).all()
    report.files += [path for _, path in attachments if path]
    report.add("attachment(s)", len(attachments))
    if not report.dry_run and attachments:
        session.execute(delete(InboxAttachment).where(InboxAttachment.id.in_([a for a, _ in attachments])))
    with_text = (InboxItem.body != "") | (InboxItem.subject != "")
    _blank(session, report, "inbox message body(ies)", InboxItem, (InboxItem.received_at < cutoff) & with_text,
           body="", subject="")  # fmt: skip
    _blank(session, report, "SMS body(ies)", SmsMessage, (SmsMessage.created_at < cutoff) & (SmsMessage.body != ""),
           body="")  # fmt: skip
    faxes = session.execute(
        select(FaxJob.id, FaxJob.tiff_path).where(FaxJob.created_at < cutoff, FaxJob.tiff_path != "")
    ).all()
    report.files += [path for _, path in faxes]
    report.add("fax(es) sent", len(faxes))
    if not report.dry_run and faxes:
        session.execute(update(FaxJob).where(FaxJob.id.in_([f for f, _ in faxes])).values(tiff_path=""))


def _audit_rows(session: Session, cutoff: datetime, report: RetentionReport) -> None:
    old = AuditEntry.at < cutoff
    if report.dry_run:
        report.add("audit row(s)", session.scalar(select(func.count()).select_from(AuditEntry).where(old)) or 0)
    else:
        report.add("audit row(s)", session.execute(delete(AuditEntry).where(old)).rowcount)


def retention_in(session: Session, settings: RetentionSettings, now: datetime, dry_run: bool) -> RetentionReport:
    """One run in the caller's transaction; the files to delete are in the report."""
    report = RetentionReport(dry_run=dry_run)
    for days, work in (
        (settings.recordings_days, _recordings),
        (settings.voice_messages_days, _voice_messages),
        (settings.message_bodies_days, _message_bodies),
        (settings.audit_days, _audit_rows),
    ):
        cutoff = _cutoff(now, days)
        if cutoff is not None:
            work(session, cutoff, report)
    if not dry_run and any(report.counts.values()):
        done = ", ".join(f"{n} {what}" for what, n in report.counts.items() if n)
        record_audit(session, "retention", "retention run", None, SOURCE, detail=done, at=now)
    return report


def delete_files(report: RetentionReport) -> None:
    for path in dict.fromkeys(report.files):
        try:
            Path(path).unlink(missing_ok=True)
        except OSError:
            report.files_left += 1


def run_retention(settings: Settings, now: datetime | None = None, dry_run: bool = False) -> RetentionReport:
    """`ccctl retention run`: one transaction, then the files (none when dry)."""
    at = now or utc_now()
    report = in_transaction(
        settings.database.url, RetentionError, lambda session: retention_in(session, settings.retention, at, dry_run)
    )
    if not dry_run:
        delete_files(report)
    return report


def retention_forever(
    settings: Settings,
    clock: Callable[[], datetime] = utc_now,
    sleep: Callable[[float], None] | None = None,
) -> None:
    """`ccctl serve`'s job: a run every retention.every_seconds (the first one a minute after start)."""
    import gevent

    sleep = sleep or gevent.sleep
    sleep(60.0)
    while True:
        try:
            report = run_retention(settings, clock())
            log.info("retention: %s", "; ".join(report.lines()))
            wait = settings.retention.every_seconds
        except RetentionError as exc:  # a busy or unreachable database: try again sooner
            log.warning("retention run failed: %s", exc)
            wait = min(settings.retention.every_seconds, FAILED_RUN_RETRY_SECONDS)
        sleep(wait)
