"""The IVR's kb node on the real switch: a caller picks a topic by key and FreeSWITCH speaks that article's
short answer by TTS (the playback of its `say:` text is in the switch's own EXECUTE lines)."""

from __future__ import annotations

import re

import sipp
from switch_site import SwitchSite

KB_FLOW = """\
flow: main
description: an information line answered from the knowledge base
language: en
start: topics
nodes:
  topics:
    type: kb
    prompt: "say:Hours one, parking two"
    topics:
      "1": opening-hours
      "2": parking
    timeout: 5
    tries: 1
    next: bye
  bye:
    type: hangup
"""

ARTICLE = """\
---
title: {title}
questions:
- {question}
valid_until: 2099-12-31
owner: patient.services@example.org
short: {short}
---

# {title}

{short}
"""

PARKING_SHORT = "Park on Park Street, the first half hour is free."
HOURS_SHORT = "The clinics open at eight."


def write_articles(site: SwitchSite) -> None:
    for slug, title, question, short in (
        ("parking", "Parking", "Where can I park?", PARKING_SHORT),
        ("opening-hours", "Opening hours", "When are you open?", HOURS_SHORT),
    ):
        path = site.root / "kb" / "en" / f"{slug}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(ARTICLE.format(title=title, question=question, short=short), encoding="utf-8")


def spoken(log: str, uuid: str) -> list[str]:
    """The texts the switch played by TTS on this call (its `playback(say:...)` EXECUTE lines)."""
    return re.findall(rf"^{re.escape(uuid)} EXECUTE \[depth=\d+\] \S+ playback\(say:(.*)\)$", log, re.MULTILINE)


def test_a_caller_presses_a_topic_key_and_the_switch_speaks_that_articles_short_answer(tmp_path):
    site = SwitchSite(tmp_path, {"main.yaml": KB_FLOW}, settings={"kb": {"dir": str(tmp_path / "kb")}})
    write_articles(site)
    with site:
        patient = site.patient([sipp.wait(1500), *sipp.press("2"), sipp.until_switch_hangs_up()])
        assert patient.wait(60) == 0, patient.errors()
        [call] = site.wait_for_calls(1)
        assert call["disposition"] == "completed", call
        assert call["path"] == ["topics", "topics:parking", "bye"], call
        said = spoken(site.freeswitch_log(), call["uuid"])
        assert said == [PARKING_SHORT], (said, site.log_tail())
