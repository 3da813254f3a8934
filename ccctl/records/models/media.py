"""Tables for recordings of bridged calls and their archive state (local, uploaded to S3, pruned).

Imported at the end of models.py so Base.metadata (and the migration check) sees them.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ccctl.records.models.base import Base, utc_now


class Recording(Base):
    """One recorded agent-patient conversation: where the file is, what it is, how far its archiving got."""

    __tablename__ = "recordings"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_uuid: Mapped[str] = mapped_column(String(64), unique=True)
    # as given to record_session (absolute, or relative to where serve runs)
    path: Mapped[str] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(index=True)
    # filled in once the file is complete (archive job, or the ACD at hangup); null while recording
    duration_seconds: Mapped[float | None] = mapped_column(Float)
    agent_name: Mapped[str] = mapped_column(String(128), default="", index=True)
    queue: Mapped[str] = mapped_column(String(64), default="", index=True)
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patients.id", ondelete="SET NULL"), index=True)
    size_bytes: Mapped[int | None]
    sha256: Mapped[str | None] = mapped_column(String(64))
    # local -> uploaded (verified copy in S3) -> pruned (local file removed, S3 copy only)
    archive_state: Mapped[str] = mapped_column(String(16), default="local", index=True)
    s3_key: Mapped[str | None] = mapped_column(Text)
    archived_at: Mapped[datetime | None]
    archive_attempts: Mapped[int] = mapped_column(default=0)
    # "" when the last attempt worked; the wallboard's "recording archive failing" alarm reads it
    archive_error: Mapped[str] = mapped_column(Text, default="")
    archive_error_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
