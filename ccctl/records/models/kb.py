"""Knowledge-base drafts: an article being written or reviewed in the console, not yet a file in kb/.

A draft never reaches search, the chat or the phone: those read only the published files
(kb/<lang>/<slug>.md). Publishing writes the file and deletes the draft.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ccctl.records.models.base import Base, utc_now


class KbDraft(Base):
    """One article in one language as its editor left it: the whole Markdown file, front matter and body."""

    __tablename__ = "kb_drafts"
    __table_args__ = (UniqueConstraint("language", "slug", name="uq_kb_drafts_language_slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    language: Mapped[str] = mapped_column(String(8))
    slug: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    # draft (being written), review (submitted: a supervisor or admin may publish it)
    state: Mapped[str] = mapped_column(String(16), default="draft")
    author: Mapped[str] = mapped_column(String(64))
    submitted_by: Mapped[str] = mapped_column(String(64), default="")
    updated_at: Mapped[datetime] = mapped_column(default=utc_now)
