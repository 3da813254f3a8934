"""Text to search terms, per language: jieba words for Chinese, Snowball stems for Polish and English.

Articles and questions go through the same function, so a patient's wording meets the
article's. Polish is typed with and without diacritics ("zaparkować", "zaparkowac"):
every stem is folded to ASCII, and a word written with diacritics also gives the stem of
its folded spelling, so both spellings share terms.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from functools import lru_cache

import jieba
import Stemmer

LANGUAGES = ("en", "pl", "zh")
# marks a term that only helps other terms meet (a Polish prefix, a Chinese character pair): a query term
# of this kind the index does not know costs no confidence
AUXILIARY = "~"

jieba.setLogLevel(logging.WARNING)

WORD = re.compile(r"[^\W_]+", re.UNICODE)
HAN = re.compile(r"[\u3400-\u9fff]")
AMPERSAND = re.compile(r"(\w)&(\w)")  # A&E, B&B: one word
FOLD = str.maketrans({"ł": "l", "Ł": "L", "ø": "o", "ß": "ss"})

# words that say nothing about the topic; kept short: BM25's idf already damps common words
STOPWORDS = {
    "en": frozenset(
        "a an and are as at be been but by can could do does did for from had has have how i if in is it its "
        "me my of on or our please should so that the their them then there these they this to us was we "
        "what when where which who will with would you your i'm im".split()
    ),
    "pl": frozenset(
        "a aby ale bo by być czy dla do go i ich jak jaki jakie jest jestem już ja mi mnie mam może można na "
        "nie o od po pod przez się so ta tak te to tu w we z za że czy co coś jaka jakie który która proszę "
        "prosze sie ze moze mozna juz byc ktory ktora cos".split()
    ),
    "zh": frozenset(
        "的 了 吗 呢 吧 啊 我 你 您 他 她 是 在 有 和 就 都 也 要 会 能 可以 怎么 怎样 如何 什么 哪里 哪 请问 "
        "请 一下 一个 这 那 还 吧 呀 嗯 么 个 想 问 下 去 我们 你们 着 过 得 地 把 被 给".split()
    ),
}


def fold(text: str) -> str:
    """Lower-case ASCII where the letters allow it: 'Zażółć' -> 'zazolc'."""
    decomposed = unicodedata.normalize("NFKD", text.translate(FOLD))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


@lru_cache(maxsize=4)
def _stemmer(language: str) -> Stemmer.Stemmer:
    return Stemmer.Stemmer({"en": "english", "pl": "polish"}[language])


@lru_cache(maxsize=200_000)
def _stems(language: str, word: str) -> tuple[str, ...]:
    stemmer = _stemmer(language)
    folded = fold(word)
    stems = {fold(stemmer.stemWord(word))}
    if folded != word:
        stems.add(fold(stemmer.stemWord(folded)))
    if language == "pl" and len(folded) > 5:
        # the Polish stemmer leaves many inflections apart; a fixed prefix joins them
        stems.add(folded[:5] + AUXILIARY)
    return tuple(sorted(stems))


def terms(text: str, language: str) -> list[str]:
    """The search terms of a text in language (en, pl or zh)."""
    if language == "zh":
        return _chinese_terms(text)
    stop = STOPWORDS[language]
    found: list[str] = []
    for word in WORD.findall(AMPERSAND.sub(r"\1\2", text.lower())):
        if word in stop or fold(word) in stop:
            continue
        if word.isdigit():
            found.append(word)
            continue
        if len(word) == 1:
            continue  # "e" of e-prescription, "i" of i.e.: letters alone say nothing
        found.extend(_stems(language, word))
    return found


def _chinese_terms(text: str) -> list[str]:
    """jieba's search-mode words, plus each Han character and pair of adjacent ones (other segmentations meet)."""
    stop = STOPWORDS["zh"]
    found: list[str] = []
    for word in jieba.cut_for_search(text.lower()):
        word = word.strip()
        if not word or word in stop or not WORD.fullmatch(word):
            continue
        if HAN.search(word):
            found.append(word)
        else:
            found.extend(_stems("en", word))  # Latin words in a Chinese text: "CT", "app"
    han = [c for c in text if HAN.match(c)]
    found.extend(c + AUXILIARY for c in han if c not in stop)
    found.extend(a + b + AUXILIARY for a, b in zip(han, han[1:], strict=False) if a + b not in stop)
    return found
