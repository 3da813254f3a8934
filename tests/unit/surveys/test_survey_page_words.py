"""The survey page says every word in English, Chinese and Polish."""

from __future__ import annotations

import re
from pathlib import Path

import ccctl.surveys
from ccctl.surveys.web_words import CHINESE, ENGLISH, POLISH

TEMPLATE = Path(ccctl.surveys.__file__).parent / "templates" / "surveys_page.html"


def test_every_word_of_the_survey_page_is_in_chinese_and_polish():
    assert set(CHINESE) == set(ENGLISH) and set(POLISH) == set(ENGLISH)
    assert all(CHINESE[key] != ENGLISH[key] and POLISH[key] != ENGLISH[key] for key in ENGLISH)


def test_every_word_the_template_asks_for_has_a_translation():
    asked = set(re.findall(r"w\('([a-z_]+)'\)", TEMPLATE.read_text()))
    asked |= {f"by_{by}" for by in ("question", "agent", "queue")} | {"key_yes", "key_no"}
    assert asked and asked <= set(ENGLISH), asked - set(ENGLISH)
