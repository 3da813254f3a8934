"""Articles for the agent beside a call: what the caller's IVR path and queue say they called about.

An article the IVR already read to the caller comes first (its `kb` node left `<node>:<slug>` in the
path), then the articles of the queue's department (or tag), then a search over the words of the path
and the queue. Only published articles within valid_until: the knowledge base serves nothing else.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ccctl.kb.articles import Article
from ccctl.kb.knowledge import KnowledgeBase

SUGGESTIONS_SHOWN = 5
_WORD_SPLIT = re.compile(r"[\s:_\-./]+")


@dataclass(frozen=True)
class Suggestion:
    article: Article
    why: str  # ivr (the caller heard it), queue (the queue's department or tag), search (words of the path)
    confidence: float

    def data(self) -> dict:
        a = self.article
        return {"slug": a.slug, "language": a.language, "title": a.title, "short": a.short,
                "why": self.why, "confidence": round(self.confidence, 3)}  # fmt: skip


def suggest(
    kb: KnowledgeBase, path: list[str], queue: str, language: str, limit: int = SUGGESTIONS_SHOWN
) -> list[Suggestion]:
    found: dict[str, Suggestion] = {}

    def add(article: Article | None, why: str, confidence: float) -> None:
        if article is not None and article.slug not in found and len(found) < limit:
            found[article.slug] = Suggestion(article, why, confidence)

    for label in reversed(path):
        outcome = label.partition(":")[2]
        if outcome:
            add(kb.article(outcome, language), "ivr", 1.0)
    wanted = queue.strip().lower()
    if wanted:
        for article in kb.current_articles(language):
            if wanted in (x.lower() for x in (*article.departments, *article.tags)):
                add(article, "queue", 1.0)
    words = " ".join(w for w in _WORD_SPLIT.split(" ".join([*path, queue])) if w)
    if words:
        for hit in kb.search(words, language, limit).hits:
            if hit.confidence > 0:
                add(hit.article, "search", hit.confidence)
    return list(found.values())
