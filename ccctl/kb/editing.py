"""An article as the console's editor shows it: one form field per front-matter key, and the body.

The form becomes the article's Markdown file text and is checked by parse_article, the checks of
`ccctl kb check`; each problem is put beside the field whose line it names.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, fields

import yaml

from ccctl.kb.articles import FENCE, Article, ArticleProblem, parse_article

FORM_FIELDS = ("slug", "title", "questions", "tags", "departments", "valid_until", "owner", "short", "body")
_KEY_LINE = re.compile(r"^([a-z_]+):")


@dataclass
class ArticleForm:
    """What the editor sends: lists as text (questions one per line; tags and departments comma-separated)."""

    language: str
    slug: str = ""
    title: str = ""
    questions: str = ""
    tags: str = ""
    departments: str = ""
    valid_until: str = ""
    owner: str = ""
    short: str = ""
    body: str = ""

    @classmethod
    def from_mapping(cls, language: str, values) -> ArticleForm:
        names = [f.name for f in fields(cls) if f.name != "language"]
        return cls(language, **{name: str(values.get(name, "")).strip() for name in names})

    @classmethod
    def from_article(cls, article: Article) -> ArticleForm:
        return cls(
            language=article.language,
            slug=article.slug,
            title=article.title,
            questions="\n".join(article.questions),
            tags=", ".join(article.tags),
            departments=", ".join(article.departments),
            valid_until=article.valid_until.isoformat(),
            owner=article.owner,
            short=article.short,
            body=article.body,
        )

    def file_text(self) -> str:
        """The article's file: front matter in the shipped articles' layout, then the body."""
        meta: dict = {"title": self.title, "questions": _lines(self.questions)}
        for key in ("tags", "departments"):
            if _items(getattr(self, key)):
                meta[key] = _items(getattr(self, key))
        meta["valid_until"] = _date_or_text(self.valid_until)
        meta["owner"] = self.owner
        meta["short"] = " ".join(self.short.split())
        header = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False, default_flow_style=False, width=10**6)
        body = self.body.replace("\r\n", "\n").strip()
        return f"{FENCE}\n{header}{FENCE}\n\n{body}\n"

    def check(self) -> tuple[Article | None, dict[str, list[str]]]:
        """The article if it passes `kb check`, else the problems by form field."""
        text = self.file_text()
        article, problems = parse_article(text, self.slug, self.language, f"{self.language}/{self.slug}.md")
        return article, problems_by_field(text, problems)


def problems_by_field(text: str, problems: list[ArticleProblem]) -> dict[str, list[str]]:
    """Each problem under the field whose line it names: a key's lines run to the next key; after the front
    matter is the body; no line is the file name (the slug)."""
    lines = text.splitlines()
    end = next(i for i in range(1, len(lines)) if lines[i].strip() == FENCE) + 1  # 1-based line of the fence
    starts = [(number, m[1]) for number, line in enumerate(lines[: end - 1], 1) if (m := _KEY_LINE.match(line))]
    found: dict[str, list[str]] = {}
    for problem in problems:
        if problem.line is None:
            field = "slug"
        elif problem.line >= end:
            field = "body"
        else:
            field = next((key for number, key in reversed(starts) if number <= problem.line), "title")
        found.setdefault(field if field in FORM_FIELDS else "title", []).append(problem.message)
    return found


def changes(old: Article | None, new: Article) -> str:
    """What an edit changed, for the audit log: the fields by name, dates and owners with both values."""
    if old is None:
        return "new article"
    changed = []
    for name in ("title", "questions", "tags", "departments", "short", "body"):
        if getattr(old, name) != getattr(new, name):
            changed.append(name)
    for name in ("valid_until", "owner"):
        if getattr(old, name) != getattr(new, name):
            changed.append(f"{name} {getattr(old, name)} -> {getattr(new, name)}")
    return ", ".join(changed) or "nothing changed"


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _items(text: str) -> list[str]:
    return [item.strip() for item in re.split(r"[,\n]", text) if item.strip()]


def _date_or_text(text: str) -> dt.date | str:
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        return text.strip()
