"""Search: Polish with or without diacritics, typos, Chinese segmentation, the no-answer threshold, rebuilds."""

from __future__ import annotations

import json

import pytest
from kb_files import KB_DIR, article

import ccctl.kb.knowledge
from ccctl.kb.knowledge import KnowledgeBase
from ccctl.kb.text import terms


@pytest.fixture(scope="module")
def knowledge() -> KnowledgeBase:
    return KnowledgeBase(KB_DIR, min_score=0.2)


def test_polish_typed_with_or_without_diacritics_gives_the_same_terms():
    # the spelling with diacritics also carries every term of the one without
    assert set(terms("gdzie moge zaparkowac", "pl")) <= set(terms("Gdzie mogę zaparkować?", "pl"))
    assert "zaparkow" in terms("Gdzie mogę zaparkować?", "pl")  # the Snowball stem, folded to ASCII
    assert terms("Where are the PARKING spaces", "en") == terms("where is parking space", "en")


def test_chinese_is_segmented_into_words_and_character_pairs():
    found = terms("医院有停车场吗", "zh")
    assert "停车场" in found and "停车" in found  # jieba's search mode gives the word and its parts
    assert "吗" not in found


@pytest.mark.parametrize(
    "question, language, slug",
    [
        ("gdzie moge zaparkowac", "pl", "parking"),
        ("Gdzie mogę zaparkować?", "pl", "parking"),
        ("wher can i prk my car", "en", "parking"),  # typos mended to the nearest known term
        ("vacinations for my daughter", "en", "vaccinations"),
        ("停车场在哪里", "zh", "parking"),
        ("探视时间", "zh", "visiting-hours"),
    ],
)
def test_questions_find_their_article(knowledge, question, language, slug):
    result = knowledge.search(question, language)
    assert result.answer is not None and result.answer.article.slug == slug
    assert 0 < result.hits[0].confidence <= 1


@pytest.mark.parametrize(
    "question, language",
    [
        ("what is the capital of france", "en"),
        ("how do i reset my router", "en"),
        ("kto wygrał wczoraj mecz", "pl"),
        ("法国的首都是哪里", "zh"),
        ("路由器怎么重置", "zh"),
    ],
)
def test_a_question_the_articles_do_not_answer_gets_no_answer(knowledge, question, language):
    assert knowledge.search(question, language).answer is None


def test_the_index_is_rebuilt_when_an_article_changes(tmp_path, monkeypatch):
    monkeypatch.setattr(ccctl.kb.knowledge, "RECHECK_SECONDS", 0.0)
    kb = tmp_path / "kb"
    article(kb, "en", "parking", questions=("Where can I park?",))
    knowledge = KnowledgeBase(kb)
    assert knowledge.search("is there free wifi", "en").answer is None
    article(kb, "en", "wifi", title="Wi-Fi", short="The network is Guest.", questions=("Is there free Wi-Fi?",))
    assert knowledge.search("is there free wifi", "en").answer.article.slug == "wifi"
    (kb / "en" / "wifi.md").unlink()
    assert knowledge.search("is there free wifi", "en").answer is None
    assert knowledge.short_answer("parking", "en") == "Park at the main gate."


def test_kb_search_prints_the_answer_or_says_there_is_none(tmp_path, ccctl):
    article(tmp_path / "kb", "pl", "parking", title="Parking", short="Parkuj przy bramie.",
            questions=("Gdzie mogę zaparkować samochód?",))  # fmt: skip
    found = ccctl("kb", "search", "gdzie zaparkowac auto", "--lang", "pl")
    assert found.exit_code == 0, found.output
    lines = found.output.splitlines()
    assert lines[0] == "answer: parking"
    assert lines[1].split() == ["CONFIDENCE", "SLUG", "TITLE"] and lines[2].split()[1:] == ["parking", "Parking"]
    data = json.loads(ccctl("kb", "search", "gdzie zaparkowac", "--lang", "pl", "--json").output)
    assert data["answer"] == "parking" and data["hits"][0]["short"] == "Parkuj przy bramie."
    none = ccctl("kb", "search", "jaka jest stolica francji", "--lang", "pl")
    assert none.output == "no answer (nothing matched; kb.min_score 0.2)\n"
    wrong = ccctl("kb", "search", "parking", "--lang", "de")
    assert wrong.exit_code == 1 and wrong.output == "ccctl: --lang must be one of en, pl, zh, got 'de'\n"
