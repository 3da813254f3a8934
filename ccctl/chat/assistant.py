"""The chat's assistant: a patient's question answered with the best knowledge-base article when it is sure.

It never guesses: below kb.min_score it says it found nothing and offers a person. The same search
suggests articles to the agent holding the chat.
"""

from __future__ import annotations

from ccctl.kb.articles import Article
from ccctl.kb.knowledge import KnowledgeBase


def answer(kb: KnowledgeBase, question: str, language: str) -> Article | None:
    """The article that answers the question, None when none clears kb.min_score."""
    hit = kb.search(question, language, limit=1).answer
    return hit.article if hit is not None else None


def suggestions(kb: KnowledgeBase, text: str, language: str, limit: int = 3) -> list[dict]:
    """Articles for an agent to paste, best first: slug, title, the short answer, confidence."""
    hits = kb.search(text, language, limit=limit).hits
    return [
        {
            "slug": h.article.slug,
            "title": h.article.title,
            "short": h.article.short,
            "confidence": round(h.confidence, 3),
        }
        for h in hits
        if h.confidence > 0
    ]
