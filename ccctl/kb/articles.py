"""Knowledge-base articles: Markdown files with YAML front matter in <kb_dir>/<lang>/<slug>.md.

Loading checks every file and reports each problem as FILE:LINE: message, so an editor
fixes the line it names; an article past its valid_until date is loaded but withheld.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ccctl.kb.text import LANGUAGES

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*$")
FENCE = "---"
REQUIRED_KEYS = ("title", "questions", "short", "valid_until", "owner")
OPTIONAL_KEYS = ("tags", "departments")
KNOWN_KEYS = REQUIRED_KEYS + OPTIONAL_KEYS
# the phone speaks `short` in one breath: longer answers belong in the body
MAX_SHORT_CHARS = 400


class _FrontMatterLoader(yaml.SafeLoader):
    """SafeLoader that leaves dates as text: a date that does not exist is a problem at its line, not a crash."""


_FrontMatterLoader.add_constructor("tag:yaml.org,2002:timestamp", lambda loader, node: loader.construct_scalar(node))


@dataclass(frozen=True)
class Article:
    """One article in one language."""

    slug: str
    language: str
    title: str
    questions: tuple[str, ...]
    short: str
    body: str
    valid_until: dt.date
    owner: str
    source: str
    tags: tuple[str, ...] = ()
    departments: tuple[str, ...] = ()

    def expired(self, today: dt.date) -> bool:
        return self.valid_until < today


@dataclass(frozen=True)
class ArticleProblem:
    """One thing wrong with an article file; str() is FILE:LINE: message."""

    file: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.message}"


@dataclass
class KbLoad:
    """Every readable article (expired ones included) and every problem found."""

    articles: list[Article] = field(default_factory=list)
    problems: list[ArticleProblem] = field(default_factory=list)

    def current(self, today: dt.date) -> list[Article]:
        return [a for a in self.articles if not a.expired(today)]

    def expired(self, today: dt.date) -> list[Article]:
        return [a for a in self.articles if a.expired(today)]


def article_files(kb_dir: Path) -> list[Path]:
    """<kb_dir>/<lang>/*.md, in a stable order."""
    return sorted(kb_dir.glob("*/*.md"))


def load_articles(kb_dir: Path) -> KbLoad:
    """Read and check every article under kb_dir; a broken file is a problem, never an article."""
    load = KbLoad()
    if not kb_dir.is_dir():
        load.problems.append(ArticleProblem(str(kb_dir), None, "knowledge base directory not found (check kb.dir)"))
        return load
    for lang_dir in sorted(p for p in kb_dir.iterdir() if p.is_dir()):
        if lang_dir.name not in LANGUAGES:
            known = ", ".join(LANGUAGES)
            load.problems.append(
                ArticleProblem(str(lang_dir), None, f"no search for language '{lang_dir.name}' ({known})")
            )
    seen: set[tuple[str, str]] = set()
    for path in article_files(kb_dir):
        if path.parent.name not in LANGUAGES:
            continue
        article, problems = read_article(path)
        load.problems.extend(problems)
        if article is not None and (article.language, article.slug) not in seen:
            seen.add((article.language, article.slug))
            load.articles.append(article)
    return load


def read_article(path: Path, display: str | None = None) -> tuple[Article | None, list[ArticleProblem]]:
    """One article file: its front matter checked key by key, then its body."""
    display = display or str(path)
    problems: list[ArticleProblem] = []

    def problem(line: int | None, message: str) -> None:
        problems.append(ArticleProblem(display, line, message))

    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        problem(None, "the file is not UTF-8 text")
        return None, problems
    except OSError as exc:
        problem(None, f"cannot read the file ({exc.strerror})")
        return None, problems
    return parse_article(text, path.stem, path.parent.name, display)


def parse_article(text: str, slug: str, language: str, display: str) -> tuple[Article | None, list[ArticleProblem]]:
    """An article's text as it would be read from <language>/<slug>.md: the checks of `ccctl kb check`."""
    problems: list[ArticleProblem] = []

    def problem(line: int | None, message: str) -> None:
        problems.append(ArticleProblem(display, line, message))

    if not SLUG.match(slug):
        problem(None, f"the file name '{slug}' is not a slug (lower-case letters, digits and -)")
    lines = text.splitlines()
    if not lines or lines[0].strip() != FENCE:
        problem(1, f"an article starts with front matter between '{FENCE}' lines")
        return None, problems
    end = next((i for i in range(1, len(lines)) if lines[i].strip() == FENCE), None)
    if end is None:
        problem(1, f"the front matter has no closing '{FENCE}' line")
        return None, problems
    header = "\n".join(lines[1:end])
    meta, key_lines = _front_matter(header, display, problems)
    if meta is None:
        return None, problems
    body = "\n".join(lines[end + 1 :]).strip()
    if not body:
        problem(end + 1, "the article has no text after its front matter")
    values = _check_keys(meta, key_lines, problem)
    if problems:
        return None, problems
    return Article(slug=slug, language=language, body=body, source=display, **values), problems


def _front_matter(header: str, display: str, problems: list[ArticleProblem]) -> tuple[dict | None, dict[str, int]]:
    """The front matter as a mapping and the file line of each key (the opening fence is line 1)."""
    try:
        node = yaml.compose(header, Loader=_FrontMatterLoader)
        data = yaml.load(header, Loader=_FrontMatterLoader)  # noqa: S506 - SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 2 if mark else None
        problems.append(
            ArticleProblem(display, line, f"front matter is not valid YAML ({getattr(exc, 'problem', exc)})")
        )
        return None, {}
    if not isinstance(data, dict) or not isinstance(node, yaml.MappingNode):
        problems.append(ArticleProblem(display, 2, "the front matter must be a mapping of key: value"))
        return None, {}
    key_lines = {str(k.value): k.start_mark.line + 2 for k, _ in node.value}
    return data, key_lines


def _check_keys(meta: dict, key_lines: dict[str, int], problem) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for key in meta:
        if key not in KNOWN_KEYS:
            problem(key_lines.get(str(key)), f"unknown key '{key}' (known: {', '.join(KNOWN_KEYS)})")
    for key in REQUIRED_KEYS:
        if key not in meta:
            problem(1, f"missing required key '{key}'")
    for key in ("title", "short", "owner"):
        if key in meta:
            value = meta[key]
            if not isinstance(value, str) or not value.strip():
                problem(key_lines[key], f"'{key}' must be text")
            else:
                values[key] = value.strip()
    if len(values.get("short", "")) > MAX_SHORT_CHARS:
        problem(key_lines["short"], f"'short' is read on the phone: keep it under {MAX_SHORT_CHARS} characters")
    for key in ("questions", "tags", "departments"):
        if key in meta:
            items = meta[key]
            if not isinstance(items, list) or not all(isinstance(x, str) and x.strip() for x in items):
                problem(key_lines[key], f"'{key}' must be a list of texts")
            elif key == "questions" and not items:
                problem(key_lines[key], "'questions' needs at least one question the article answers")
            else:
                values[key] = tuple(x.strip() for x in items)
    if "valid_until" in meta:
        value = meta["valid_until"]
        if isinstance(value, str):
            try:
                value = dt.date.fromisoformat(value)
            except ValueError:
                value = None
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            values["valid_until"] = value
        else:
            problem(
                key_lines["valid_until"], f"'valid_until' must be a date like 2027-12-31, got {meta['valid_until']!r}"
            )
    return values
