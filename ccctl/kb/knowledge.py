"""The process's knowledge base: the articles of kb.dir, their search index, rebuilt when files change.

The index is built on first use and again when an article file is added, removed or
edited (looked at most every RECHECK_SECONDS, so a search stays cheap). Articles past
valid_until are withheld from search and from the phone. It answers the IVR's
`KbAnswers` protocol (ccctl.ivr.services) for the `kb` node.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ccctl.config import Settings
from ccctl.kb.articles import Article, KbLoad, article_files, load_articles
from ccctl.kb.search import DEFAULT_LIMIT, SearchIndex, SearchResult

log = logging.getLogger(__name__)

RECHECK_SECONDS = 2.0


@dataclass(frozen=True)
class _Snapshot:
    signature: tuple
    load: KbLoad
    today: dt.date
    index: SearchIndex
    current: dict[tuple[str, str], Article]  # (language, slug) -> article not past valid_until


class KnowledgeBase:
    """Articles of one directory and their search; safe to share between greenlets and threads."""

    def __init__(
        self, kb_dir: str | Path, min_score: float = 0.2, today: Callable[[], dt.date] = dt.date.today
    ) -> None:
        self.kb_dir = Path(kb_dir)
        self.min_score = min_score
        self.today = today
        self._snapshot: _Snapshot | None = None
        self._checked_at = 0.0
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> KnowledgeBase:
        return cls(settings.kb.dir, settings.kb.min_score)

    def _signature(self) -> tuple:
        try:
            return tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in article_files(self.kb_dir))
        except OSError:
            return ("changing",)  # a file went away between the listing and its stat: read again next time

    def snapshot(self) -> _Snapshot:
        """The current articles and index, rebuilt first when files (or the date) changed."""
        with self._lock:
            now = time.monotonic()
            snapshot = self._snapshot
            if snapshot is not None and now - self._checked_at < RECHECK_SECONDS:
                return snapshot
            self._checked_at = now
            signature = self._signature()
            today = self.today()
            if snapshot is None or snapshot.signature != signature or snapshot.today != today:
                snapshot = self._build(signature, today)
                self._snapshot = snapshot
            return snapshot

    def _build(self, signature: tuple, today: dt.date) -> _Snapshot:
        load = load_articles(self.kb_dir)
        if load.problems:
            log.warning("knowledge base %s: %d problems, those articles are left out (ccctl kb check)",
                        self.kb_dir, len(load.problems))  # fmt: skip
        current = {(a.language, a.slug): a for a in load.current(today)}
        return _Snapshot(signature, load, today, SearchIndex(current.values()), current)

    def search(self, text: str, language: str, limit: int = DEFAULT_LIMIT) -> SearchResult:
        return self.snapshot().index.search(text, language, self.min_score, limit)

    def article(self, slug: str, language: str) -> Article | None:
        """The article if it exists and is not past valid_until."""
        return self.snapshot().current.get((language, slug))

    def current_articles(self, language: str) -> list[Article]:
        """Every article of the language search offers (not past valid_until), by slug."""
        current = self.snapshot().current
        return sorted((a for (lang, _), a in current.items() if lang == language), key=lambda a: a.slug)

    # KbAnswers (ccctl.ivr.services), for the IVR's kb node

    def missing_article(self, slug: str, language: str) -> str | None:
        snapshot = self.snapshot()
        if (language, slug) in snapshot.current:
            return None
        if any(a.slug == slug and a.language == language for a in snapshot.load.articles):
            return f"article '{slug}' ({language}) is past its valid_until date"
        return f"no article '{slug}' in {self.kb_dir / language} (or it does not pass ccctl kb check)"

    def short_answer(self, slug: str, language: str) -> str | None:
        article = self.article(slug, language)
        return article.short if article else None
