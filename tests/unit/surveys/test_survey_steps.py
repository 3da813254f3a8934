"""A survey's call steps without a switch: one play_and_get_digits per try, wrong keys asked again, a hang-up
ends it with what was pressed so far."""

from __future__ import annotations

import re
import sys
from pathlib import Path

from ccctl.callflow import Execute
from ccctl.surveys.call import survey_steps
from ccctl.surveys.model import Question, Survey

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "ivr"))
from call_driver import app_result  # noqa: E402

SURVEY = Survey(
    name="visit",
    languages=["en", "zh"],
    questions=[
        Question("score", "scale", {"en": "Rate us", "zh": "请评分"}),
        Question("ok", "yes_no", {"en": "OK?", "zh": "好吗"}),
    ],
    thanks={"en": "Thanks", "zh": "谢谢"},
    tries=2,
)


def drive(keys: list[str | None], language: str = "en") -> tuple[list[str], dict[str, int], bool]:
    """keys: what each play_and_get_digits gets ("" nothing, None: the caller hangs up)."""
    answers: dict[str, int] = {}
    steps = survey_steps(SURVEY, language, answers)
    played: list[str] = []
    command = next(steps)
    try:
        while True:
            assert isinstance(command, Execute)
            played.append(command.arg)
            if command.app != "play_and_get_digits":
                command = steps.send(app_result(command.app))
                continue
            key = keys.pop(0)
            if key is None:
                result = app_result(command.app)
                result.caller_gone = True
            else:
                var = re.search(r"cc_survey_\w+", command.arg).group(0)
                result = app_result(command.app, {"read_result": "success", var: key} if key else {})
            command = steps.send(result)
    except StopIteration as stop:
        return played, answers, stop.value


def test_a_wrong_key_is_asked_again_and_both_answers_are_kept():
    played, answers, complete = drive(["7", "4", "1"])
    assert answers == {"score": 4, "ok": 1} and complete
    assert sum("Rate us" in arg for arg in played) == 2 and played[-1] == "say:Thanks"


def test_the_patients_language_is_spoken():
    played, answers, _ = drive(["5", "2"], language="zh")
    assert "say:请评分" in played[0] and answers == {"score": 5, "ok": 0}


def test_a_hang_up_ends_the_survey_with_what_was_pressed():
    played, answers, complete = drive(["3", None])
    assert answers == {"score": 3} and not complete
    assert not any("Thanks" in arg for arg in played)


def test_no_key_after_every_try_leaves_the_question_unanswered():
    _, answers, complete = drive(["", "", "2"])
    assert answers == {"ok": 0} and not complete
