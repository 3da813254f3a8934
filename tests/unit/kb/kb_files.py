"""Article files written for kb tests, and where the shipped articles live."""

from __future__ import annotations

import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
KB_DIR = REPO / "kb"


def article(
    kb_dir: Path,
    language: str,
    slug: str,
    *,
    title: str = "Parking",
    short: str = "Park at the main gate.",
    questions: tuple[str, ...] = ("Where can I park?",),
    valid_until: str = "2030-01-01",
    extra: str = "",
    body: str = "The car park is open day and night.",
) -> Path:
    """Write kb_dir/<language>/<slug>.md with the given front matter."""
    path = kb_dir / language / f"{slug}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    listed = "\n".join(f"  - {q}" for q in questions)
    path.write_text(
        f"---\ntitle: {title}\nquestions:\n{listed}\nshort: {short}\nvalid_until: {valid_until}\n"
        f"owner: facilities@example.org\n{extra}---\n\n{body}\n",
        encoding="utf-8",
    )
    return path


def dedent(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")
