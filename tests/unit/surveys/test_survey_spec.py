"""Survey files: every mistake as FILE:LINE, the shipped example checks, and which rules a set of answers crosses."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from ccctl.cli import main
from ccctl.surveys.spec import SurveyFileError, load_survey, load_surveys, parse_condition

REPO = Path(__file__).resolve().parents[3]
GOOD = """\
name: visit
languages: [en, zh]
questions:
  - name: score
    kind: scale
    prompt: {en: "Rate us 1 to 5", zh: "请按1到5评分"}
  - name: call_me
    kind: call_me
    prompt: {en: "Press 1 to be called by a nurse", zh: "需要护士回电请按1"}
rules:
  - when: score <= 2
    ticket: complaint
  - when: call_me
    callback: nursing
"""


def write(tmp_path: Path, text: str, name: str = "visit") -> Path:
    folder = tmp_path / "surveys"
    folder.mkdir(exist_ok=True)
    path = folder / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def errors_of(path: Path) -> list[str]:
    with pytest.raises(SurveyFileError) as caught:
        load_survey(path)
    return caught.value.errors


def test_the_shipped_survey_checks():
    surveys, errors = load_surveys(REPO / "ivr_flows")
    assert errors == []
    assert [q.kind for q in surveys["after-call"].questions] == ["scale", "yes_no", "call_me"]


def test_a_low_score_and_a_call_me_each_cross_their_rule(tmp_path):
    survey = load_survey(write(tmp_path, GOOD))
    assert [r.action for r in survey.crossed({"score": 2, "call_me": 0})] == ["ticket"]
    assert [r.action for r in survey.crossed({"score": 3, "call_me": 1})] == ["callback"]
    assert survey.crossed({"score": 5, "call_me": 0}) == []
    assert survey.crossed({}) == []  # a question not answered crosses nothing


def test_keys_a_question_takes_and_what_is_stored(tmp_path):
    score, call_me = load_survey(write(tmp_path, GOOD)).questions
    assert [score.accepts(k) for k in ("1", "5", "6", "0", "")] == [True, True, False, False, False]
    assert score.value_of("4") == 4
    assert (call_me.accepts("3"), call_me.value_of("1"), call_me.value_of("2")) == (False, 1, 0)


def test_conditions_are_read_with_or_without_a_comparison():
    assert parse_condition("score <= 2") == ("score", "<=", 2)
    assert parse_condition("call_me") == ("call_me", "==", 1)
    assert parse_condition("score is low") is None


def test_every_mistake_is_reported_with_its_file_and_line(tmp_path):
    text = """\
name: visit
languages: [en, zh]
colour: blue
questions:
  - name: score
    kind: stars
    prompt: {en: "Rate us"}
  - name: call_me
    kind: call_me
    prompt: {en: "Press 1"}
rules:
  - when: mood <= 2
    ticket: complaint
  - when: call_me == 0
  - when: call_me < 1
    callback: nursing
"""
    path = write(tmp_path, text)
    assert errors_of(path) == [
        f"{path}:3: unknown key 'colour' in a survey (expected one of description, intro, languages, name, "
        "questions, rules, thanks, timeout, tries)",
        f"{path}:6: question 'score': kind must be one of scale, yes_no, call_me",
        f"{path}:10: prompt: no text for language 'zh'",
        f"{path}:12: when: no question named 'mood'",
        f"{path}:14: a rule has one of 'ticket: <category>' or 'callback: <queue>'",
        f"{path}:15: when: 'call_me' is yes or no: write 'call_me' or 'call_me == 0'",
    ]


def test_a_survey_is_named_after_its_file(tmp_path):
    path = write(tmp_path, GOOD, name="other")
    assert errors_of(path) == [f"{path}:1: name 'visit' must be the file's name (other.yaml)"]


def test_surveys_check_prints_each_problem_and_exits_1(tmp_path):
    write(tmp_path, GOOD)
    broken = write(tmp_path, GOOD.replace("kind: call_me", "kind: maybe"), name="broken")
    settings = tmp_path / "ccctl.yaml"
    settings.write_text(f"flows_dir: '{tmp_path}'\n")
    result = CliRunner().invoke(main, ["-c", str(settings), "surveys", "check"])
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        f"{broken}:1: name 'visit' must be the file's name (broken.yaml)",
        f"{broken}:8: question 'call_me': kind must be one of scale, yes_no, call_me",
    ]
    good = CliRunner().invoke(main, ["-c", str(settings), "surveys", "check", str(tmp_path / "surveys" / "visit.yaml")])
    assert good.output == f"{tmp_path / 'surveys' / 'visit.yaml'}: survey 'visit' OK (2 questions)\n"
