"""Drafts of articles (kb_drafts) and their publication as kb/<lang>/<slug>.md; each takes an open Session.

A draft is saved only when it passes the checks of `ccctl kb check`; it goes draft -> review -> published
(the file written, the draft deleted). Every step leaves an audit row naming the article and what changed.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from ccctl.errors import UserError
from ccctl.kb.articles import Article, parse_article, read_article
from ccctl.kb.editing import ArticleForm, changes
from ccctl.records.audit import record_audit
from ccctl.records.models.base import utc_now
from ccctl.records.models.kb import KbDraft

DRAFT, REVIEW = "draft", "review"


class DraftError(UserError):
    """A draft step that cannot be done: one line naming the article."""


def drafts(db: Session) -> list[KbDraft]:
    return list(db.scalars(select(KbDraft).order_by(KbDraft.language, KbDraft.slug)))


def draft_for(db: Session, language: str, slug: str) -> KbDraft | None:
    return db.scalars(select(KbDraft).where(KbDraft.language == language, KbDraft.slug == slug)).first()


def published(kb_dir: str | Path, language: str, slug: str) -> Article | None:
    """The article as its file reads now (None: no file, or a file that does not pass kb check)."""
    path = Path(kb_dir) / language / f"{slug}.md"
    return read_article(path)[0] if path.is_file() else None


def draft_article(draft: KbDraft) -> Article:
    article, problems = parse_article(draft.text, draft.slug, draft.language, _name(draft))
    if article is None:  # saved only after the same checks: the checks themselves changed since
        raise DraftError(f"draft {_name(draft)} no longer passes kb check: {problems[0].message}")
    return article


def save_draft(db: Session, kb_dir: str | Path, form: ArticleForm, actor: str, source: str) -> KbDraft:
    """Keep a checked article as the draft of its slug (back to `draft` if it was in review); audited."""
    article, problems = form.check()
    if article is None:
        raise DraftError(f"{form.language}/{form.slug}.md does not pass kb check; nothing saved")
    draft = draft_for(db, form.language, form.slug)
    before = draft_article(draft) if draft else published(kb_dir, form.language, form.slug)
    if draft is None:
        draft = KbDraft(language=form.language, slug=form.slug, author=actor)
        db.add(draft)
    draft.text, draft.state, draft.submitted_by, draft.updated_at = form.file_text(), DRAFT, "", utc_now()
    db.flush()
    record_audit(db, actor, "kb draft", None, source, detail=f"{_name(draft)}: {changes(before, article)}")
    return draft


def submit(db: Session, draft_id: int, actor: str, source: str) -> KbDraft:
    draft = _draft(db, draft_id)
    draft.state, draft.submitted_by, draft.updated_at = REVIEW, actor, utc_now()
    record_audit(db, actor, "kb review asked", None, source, detail=_name(draft))
    return draft


def publish(db: Session, kb_dir: str | Path, draft_id: int, actor: str, source: str) -> Article:
    """Write a reviewed draft as the article's file (replacing it whole, at once) and drop the draft."""
    draft = _draft(db, draft_id)
    if draft.state != REVIEW:
        raise DraftError(f"draft {_name(draft)} was not submitted for review")
    article = draft_article(draft)
    detail = f"{_name(draft)}: {changes(published(kb_dir, draft.language, draft.slug), article)}"
    _write_atomically(Path(kb_dir) / draft.language / f"{draft.slug}.md", draft.text)
    record_audit(db, actor, "kb publish", None, source, detail=f"{detail} (written by {draft.author})")
    db.delete(draft)
    return article


def discard(db: Session, draft_id: int, actor: str, source: str) -> None:
    draft = _draft(db, draft_id)
    record_audit(db, actor, "kb draft discarded", None, source, detail=_name(draft))
    db.delete(draft)


def _draft(db: Session, draft_id: int) -> KbDraft:
    draft = db.get(KbDraft, draft_id)
    if draft is None:
        raise DraftError(f"no draft {draft_id} (published or discarded meanwhile)")
    return draft


def _name(draft: KbDraft) -> str:
    return f"{draft.language}/{draft.slug}.md"


def _write_atomically(path: Path, text: str) -> None:
    """Search re-reads a file whose size or time changed: it must never see half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, scratch = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            file.write(text)
        os.replace(scratch, path)
    except BaseException:
        Path(scratch).unlink(missing_ok=True)
        raise
