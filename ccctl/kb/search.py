"""BM25 search over the articles of one language, with a confidence the callers can threshold.

Each article is one document: its title and questions repeated (what a patient asks
looks like them), its tags, short answer and body once. The confidence of a hit is its
BM25 score over the most the query's terms could score (each term's idf), so 1.0 means
every term of the question matched strongly and a question about nothing the articles
know scores near 0. A term the index does not know (a typo) is replaced by the closest
known term of the language, when one is close enough.
"""

from __future__ import annotations

import difflib
import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import bm25s
import numpy as np

from ccctl.kb.articles import Article
from ccctl.kb.text import AUXILIARY, terms

TITLE_REPEATS = 3
QUESTION_REPEATS = 3
TAG_REPEATS = 2
# a known term replaces an unknown one when difflib's ratio reaches this
TYPO_RATIO = 0.8
# an unknown term still counts this much of a rare term's idf against the confidence
UNKNOWN_TERM_WEIGHT = 1.0
# a term that only helps others meet (ccctl.kb.text.AUXILIARY) counts this much of a word
AUXILIARY_WEIGHT = 0.5
DEFAULT_LIMIT = 5


@dataclass(frozen=True)
class Hit:
    """One article found, with how sure the search is (0..1)."""

    article: Article
    confidence: float


@dataclass(frozen=True)
class SearchResult:
    """The best articles for a question; `answer` is the first when it clears min_score."""

    hits: tuple[Hit, ...]
    min_score: float

    @property
    def answer(self) -> Hit | None:
        if self.hits and self.hits[0].confidence >= self.min_score:
            return self.hits[0]
        return None


def document_terms(article: Article) -> list[str]:
    """The terms an article is indexed under, title and questions weighted by repetition."""
    language = article.language
    found: list[str] = []
    found += terms(article.title, language) * TITLE_REPEATS
    for question in article.questions:
        found += terms(question, language) * QUESTION_REPEATS
    for tag in article.tags:
        found += terms(tag, language) * TAG_REPEATS
    found += terms(article.short, language)
    found += terms(article.body, language)
    return found


class LanguageIndex:
    """The BM25 index of one language's articles."""

    def __init__(self, language: str, articles: Sequence[Article]) -> None:
        self.language = language
        self.articles = list(articles)
        documents = [document_terms(a) for a in self.articles]
        self.bm25 = bm25s.BM25()
        if documents:
            self.bm25.index(documents, show_progress=False)
        frequency: Counter[str] = Counter()
        for document in documents:
            frequency.update(set(document))
        count = len(documents)
        self.idf = {t: math.log(1 + (count - df + 0.5) / (df + 0.5)) for t, df in frequency.items()}
        self.rare_idf = math.log(1 + (count + 0.5) / 1.5) if count else 1.0
        # typo candidates by first letter and length: a mended term shares its first letter, give or take two letters
        self._by_shape: dict[tuple[str, int], list[str]] = {}
        for term in self.idf:
            if not term.endswith(AUXILIARY):
                self._by_shape.setdefault((term[:1], len(term)), []).append(term)

    def _known(self, query_terms: Iterable[str]) -> tuple[list[str], list[str], float]:
        """The query's terms the index knows (typos mended; main, auxiliary) and the most they could score."""
        main: list[str] = []
        auxiliary: list[str] = []
        ceiling = 0.0
        for term in dict.fromkeys(query_terms):
            helper = term.endswith(AUXILIARY)
            if term not in self.idf and len(term) >= 4 and not helper:
                term = self._mended(term)
            found = auxiliary if helper else main
            if term in self.idf:
                if term not in found:
                    found.append(term)
                    ceiling += self.idf[term] * (AUXILIARY_WEIGHT if helper else 1.0)
            elif not helper:
                ceiling += self.rare_idf * UNKNOWN_TERM_WEIGHT
        return main, auxiliary, ceiling

    def _mended(self, term: str) -> str:
        """The closest known term of about the same length and the same first letter, or term itself."""
        candidates = [
            known for size in range(len(term) - 2, len(term) + 3) for known in self._by_shape.get((term[:1], size), ())
        ]
        close = difflib.get_close_matches(term, candidates, n=1, cutoff=TYPO_RATIO)
        return close[0] if close else term

    def search(self, text: str, limit: int = DEFAULT_LIMIT) -> list[Hit]:
        if not self.articles:
            return []
        main, auxiliary, ceiling = self._known(terms(text, self.language))
        if not (main or auxiliary) or ceiling <= 0:
            return []
        scores = self.bm25.get_scores(main) if main else np.zeros(len(self.articles), dtype=np.float32)
        if auxiliary:
            scores = scores + AUXILIARY_WEIGHT * self.bm25.get_scores(auxiliary)
        count = min(limit, len(scores))
        best = np.argpartition(-scores, count - 1)[:count] if count < len(scores) else np.arange(len(scores))
        ranked = sorted(best, key=lambda i: (-float(scores[i]), self.articles[i].slug))
        return [Hit(self.articles[i], round(min(1.0, float(scores[i]) / ceiling), 3)) for i in ranked if scores[i] > 0]


class SearchIndex:
    """One LanguageIndex per language, built together from one load of the articles."""

    def __init__(self, articles: Iterable[Article]) -> None:
        by_language: dict[str, list[Article]] = {}
        for article in articles:
            by_language.setdefault(article.language, []).append(article)
        self.languages = {lang: LanguageIndex(lang, found) for lang, found in by_language.items()}

    def search(self, text: str, language: str, min_score: float, limit: int = DEFAULT_LIMIT) -> SearchResult:
        index = self.languages.get(language)
        hits = index.search(text, limit) if index else []
        return SearchResult(tuple(hits), min_score)
