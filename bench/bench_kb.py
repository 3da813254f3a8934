"""`ccctl bench kb`: knowledge-base search latency on a large generated set of articles.

Writes `articles` articles per language (en, pl, zh) into a scratch kb dir: each one borrows
the title, questions, answer and text of a shipped article (kb/) and mixes in sentences of
others and a unique made-up term, so the vocabulary and lengths are those of real articles and
no two are the same. Then it times KnowledgeBase.search for the retrieval test's questions
(tests/fixtures/kb_questions), one search at a time, as the chat and the IVR ask.
"""

from __future__ import annotations

import random
import statistics
import tempfile
import time
from pathlib import Path

import yaml

from ccctl.kb.articles import load_articles
from ccctl.kb.knowledge import KnowledgeBase

ROOT = Path(__file__).resolve().parents[1]
LANGUAGES = ("en", "pl", "zh")


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def _write_articles(kb_dir: Path, count: int, rng: random.Random) -> None:
    shipped = load_articles(ROOT / "kb").articles
    for language in LANGUAGES:
        seeds = [a for a in shipped if a.language == language]
        sentences = [s for a in seeds for s in a.body.replace("。", ".").split(".") if s.strip()]
        folder = kb_dir / language
        folder.mkdir(parents=True)
        for number in range(count):
            seed = seeds[number % len(seeds)]
            term = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(8))  # a name, a code
            meta = {
                "title": f"{seed.title} {term}",
                "questions": [*seed.questions[:2], f"{rng.choice(seed.questions)} {term}"],
                "tags": list(seed.tags[:2]),
                "valid_until": "2099-12-31",
                "owner": "bench@example.org",
                "short": seed.short,
            }
            body = " ".join(rng.sample(sentences, 4)) + f" {term}."
            text = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False)
            (folder / f"a{number:05d}.md").write_text(f"---\n{text}---\n{body}\n", encoding="utf-8")


def run(articles: int = 5000, rounds: int = 3, seed: int = 1) -> dict:
    """Build the index over `articles` articles per language; time every question `rounds` times."""
    rng = random.Random(seed)
    result: dict = {"articles_per_language": articles, "languages": {}}
    with tempfile.TemporaryDirectory(prefix="ccctl-bench-kb-") as scratch:
        kb_dir = Path(scratch) / "kb"
        _write_articles(kb_dir, articles, rng)
        knowledge = KnowledgeBase(kb_dir)
        started = time.perf_counter()
        knowledge.snapshot()
        result["index_build_s"] = round(time.perf_counter() - started, 2)
        for language in LANGUAGES:
            questions = list(yaml.safe_load((ROOT / "tests/fixtures/kb_questions" / f"{language}.yaml").read_text()))
            knowledge.search(questions[0], language)  # first-use costs (jieba's dictionary) are not a search
            times = []
            for _ in range(rounds):
                for question in questions:
                    started = time.perf_counter()
                    knowledge.search(question, language)
                    times.append((time.perf_counter() - started) * 1000)
            result["languages"][language] = {
                "searches": len(times),
                "p50_ms": round(statistics.median(times), 2),
                "p99_ms": round(_percentile(times, 0.99), 2),
                "max_ms": round(max(times), 2),
            }
    result["text"] = format_result(result)
    return result


def format_result(result: dict) -> str:
    lines = [
        f"kb search on {result['articles_per_language']} articles per language "
        f"(index built in {result['index_build_s']} s)",
        f"{'language':<10} {'searches':>9} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}",
    ]
    for language, row in result["languages"].items():
        lines.append(f"{language:<10} {row['searches']:>9} {row['p50_ms']:>8} {row['p99_ms']:>8} {row['max_ms']:>8}")
    return "\n".join(lines)
