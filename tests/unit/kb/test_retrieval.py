"""Top-1 accuracy of the shipped articles on questions written for this test (tests/fixtures/kb_questions).

The questions are how patients type or speak (typos, no diacritics, colloquial words), not the
articles' own questions. The figures are printed (pytest -s) for the closing note.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from kb_files import KB_DIR

from ccctl.kb.knowledge import KnowledgeBase

QUESTIONS = Path(__file__).resolve().parents[2] / "fixtures" / "kb_questions"
REQUIRED_ACCURACY = 0.85
MIN_QUESTIONS = 60


@pytest.fixture(scope="module")
def knowledge() -> KnowledgeBase:
    return KnowledgeBase(KB_DIR, min_score=0.2)


@pytest.mark.parametrize("language", ["en", "pl", "zh"])
def test_top1_accuracy_is_at_least_85_percent(knowledge, language):
    questions = yaml.safe_load((QUESTIONS / f"{language}.yaml").read_text(encoding="utf-8"))
    assert len(questions) >= MIN_QUESTIONS
    slugs = {a.slug for a in knowledge.snapshot().load.articles if a.language == language}
    assert set(questions.values()) <= slugs  # a typo in an expected slug must not pass as a miss
    right = []
    wrong = []
    for question, slug in questions.items():
        answer = knowledge.search(question, language).answer
        (right if answer and answer.article.slug == slug else wrong).append(question)
    accuracy = len(right) / len(questions)
    print(f"\nkb top-1 accuracy {language}: {len(right)}/{len(questions)} = {accuracy:.1%}; missed: {wrong}")
    assert accuracy >= REQUIRED_ACCURACY
