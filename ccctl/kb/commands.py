"""The work behind `ccctl kb check|list|show|search|import`: returns data and text, the CLI prints."""

from __future__ import annotations

import datetime as dt
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ccctl.errors import UserError
from ccctl.kb.articles import Article, ArticleProblem, KbLoad, article_files, load_articles
from ccctl.kb.knowledge import KnowledgeBase
from ccctl.kb.search import SearchResult
from ccctl.kb.text import LANGUAGES


class KbError(UserError):
    """A kb command that cannot be done; one line naming the article, language or directory."""


@dataclass
class CheckReport:
    """What `kb check` found: problems (FILE:LINE), expired articles, slugs missing in some language."""

    load: KbLoad
    today: dt.date

    @property
    def expired(self) -> list[Article]:
        return self.load.expired(self.today)

    def untranslated(self) -> list[tuple[str, list[str]]]:
        """(slug, languages it lacks) for slugs some language has and another has not."""
        languages = sorted({a.language for a in self.load.articles})
        have: dict[str, set[str]] = {}
        for article in self.load.articles:
            have.setdefault(article.slug, set()).add(article.language)
        return [(slug, [x for x in languages if x not in found]) for slug, found in sorted(have.items())
                if len(found) < len(languages)]  # fmt: skip

    @property
    def ok(self) -> bool:
        return not self.load.problems and not self.expired

    def lines(self) -> list[str]:
        found = [str(problem) for problem in self.load.problems]
        found += [f"{a.source}: past valid_until {a.valid_until} (withheld from search and the phone; owner {a.owner})"
                  for a in self.expired]  # fmt: skip
        found += [f"note: '{slug}' has no {', '.join(missing)} version" for slug, missing in self.untranslated()]
        counts = {lang: 0 for lang in sorted({a.language for a in self.load.articles})}
        for article in self.load.current(self.today):
            counts[article.language] += 1
        summary = ", ".join(f"{n} {lang}" for lang, n in counts.items()) or "none"
        verdict = "OK" if self.ok else f"{len(self.load.problems)} problems, {len(self.expired)} past valid_until"
        return [*found, f"articles in search: {summary}; {verdict}"]


def check(kb_dir: str | Path, today: dt.date | None = None) -> CheckReport:
    return CheckReport(load_articles(Path(kb_dir)), today or dt.date.today())


def listing(kb_dir: str | Path, language: str | None, today: dt.date | None = None) -> list[dict[str, Any]]:
    """Every readable article (of one language), with whether search offers it."""
    today = today or dt.date.today()
    load = load_articles(Path(kb_dir))
    return [
        {
            "slug": a.slug,
            "language": a.language,
            "title": a.title,
            "valid_until": a.valid_until.isoformat(),
            "owner": a.owner,
            "status": "expired" if a.expired(today) else "current",
        }
        for a in sorted(load.articles, key=lambda a: (a.language, a.slug))
        if language in (None, a.language)
    ]


def _language(language: str) -> str:
    if language not in LANGUAGES:
        raise KbError(f"--lang must be one of {', '.join(LANGUAGES)}, got {language!r}")
    return language


def show(kb_dir: str | Path, slug: str, language: str) -> Article:
    language = _language(language)
    load = load_articles(Path(kb_dir))
    for article in load.articles:
        if article.slug == slug and article.language == language:
            return article
    if any(p.file.endswith(f"{language}/{slug}.md") for p in load.problems):
        raise KbError(f"article '{slug}' ({language}) does not pass ccctl kb check")
    raise KbError(f"no article '{slug}' in {Path(kb_dir) / language}")


def article_data(article: Article) -> dict[str, Any]:
    return {
        "slug": article.slug,
        "language": article.language,
        "title": article.title,
        "questions": list(article.questions),
        "tags": list(article.tags),
        "departments": list(article.departments),
        "valid_until": article.valid_until.isoformat(),
        "owner": article.owner,
        "short": article.short,
        "body": article.body,
    }


def format_article(article: Article, today: dt.date | None = None) -> str:
    expired = " (past valid_until: withheld)" if article.expired(today or dt.date.today()) else ""
    lines = [
        f"{article.title}",
        f"slug: {article.slug}  language: {article.language}  owner: {article.owner}",
        f"valid until: {article.valid_until}{expired}",
        f"tags: {', '.join(article.tags) or '-'}  departments: {', '.join(article.departments) or '-'}",
        "questions:",
        *(f"  - {q}" for q in article.questions),
        f"phone answer: {article.short}",
        "",
        article.body,
    ]
    return "\n".join(lines)


def search(knowledge: KnowledgeBase, text: str, language: str, limit: int = 5) -> SearchResult:
    return knowledge.search(text, _language(language), limit)


def search_data(result: SearchResult) -> dict[str, Any]:
    answer = result.answer
    return {
        "answer": answer.article.slug if answer else None,
        "min_score": result.min_score,
        "hits": [
            {"slug": h.article.slug, "title": h.article.title, "confidence": h.confidence, "short": h.article.short}
            for h in result.hits
        ],
    }


@dataclass
class ImportReport:
    added: list[str]
    replaced: list[str]
    expired: list[str]


def import_articles(source_dir: str | Path, kb_dir: str | Path, today: dt.date | None = None) -> ImportReport:
    """Check every article under source_dir (<lang>/<slug>.md); copy them into kb_dir only if all pass."""
    source, target = Path(source_dir), Path(kb_dir)
    if not source.is_dir():
        raise KbError(f"{source}: not a directory of <lang>/<slug>.md articles")
    load = load_articles(source)
    if load.problems:
        raise ImportRefused(load.problems)
    if not load.articles:
        raise KbError(f"{source}: no articles (<lang>/<slug>.md)")
    report = ImportReport([], [], [a.source for a in load.expired(today or dt.date.today())])
    for path in article_files(source):
        destination = target / path.parent.name / path.name
        (report.replaced if destination.exists() else report.added).append(f"{path.parent.name}/{path.name}")
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, destination)
    return report


class ImportRefused(KbError):
    """Articles to import that do not pass the check; .problems lists each, nothing was copied."""

    def __init__(self, problems: list[ArticleProblem]) -> None:
        self.problems = problems
        super().__init__(f"{len(problems)} problems in the articles to import; nothing was copied")
