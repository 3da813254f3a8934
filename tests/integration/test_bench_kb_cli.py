"""`ccctl bench kb` on a small set: the index is built and every language's searches are timed."""

from __future__ import annotations

import json
import subprocess
import sys


def test_bench_kb_times_searches_in_every_language():
    command = [sys.executable, "-m", "ccctl.cli", "bench", "kb", "--articles", "40", "--rounds", "1", "--json"]
    run = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    assert result["articles_per_language"] == 40
    for language in ("en", "pl", "zh"):
        row = result["languages"][language]
        assert row["searches"] >= 60  # every retrieval-test question of the language, once
        assert 0 < row["p50_ms"] <= row["p99_ms"] <= row["max_ms"]
    assert result["text"].startswith("kb search on 40 articles per language")
