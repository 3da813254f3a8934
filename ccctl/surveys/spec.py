"""Reading ivr_flows/surveys/<name>.yaml: every mistake reported as FILE:LINE: message, all at once.

A survey is checked when the flows load and by `ccctl surveys check`, never while a patient answers:
each question speaks every language the survey names, and each rule names a question and an action.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ccctl.errors import UserError
from ccctl.ivr.flow_yaml import LineDict, LineList, load_yaml
from ccctl.ivr.nodes.survey import SURVEYS_DIR
from ccctl.surveys.model import ACTIONS, KINDS, Question, Rule, Survey

NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
QUESTION_NAME = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
CONDITION = re.compile(r"^\s*([a-z][a-z0-9_]*)\s*(?:(<=|>=|==|!=|<|>)\s*(-?\d+))?\s*$")
TOP_KEYS = {"name", "description", "languages", "timeout", "tries", "intro", "questions", "thanks", "rules"}
QUESTION_KEYS = {"name", "kind", "prompt"}
RULE_KEYS = {"when", "ticket", "callback"}


class SurveyFileError(UserError):
    """A survey does not check; str() is the first error, `errors` all of them."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__(errors[0] if len(errors) == 1 else f"{errors[0]} (and {len(errors) - 1} more)")
        self.errors = errors


class _Report:
    def __init__(self, source: str) -> None:
        self.source = source
        self.errors: list[str] = []

    def __call__(self, line: int | None, message: str) -> None:
        self.errors.append(f"{self.source}:{line}: {message}" if line else f"{self.source}: {message}")


def survey_files(flows_dir: str | Path) -> list[Path]:
    folder = Path(flows_dir) / SURVEYS_DIR
    return sorted(folder.glob("*.yaml")) if folder.is_dir() else []


def load_survey(path: str | Path) -> Survey:
    """The survey in path; SurveyFileError names every problem."""
    path = Path(path)
    source = str(path)
    document, error = load_yaml(path, source)
    if error is not None:
        raise SurveyFileError([str(error)])
    report = _Report(source)
    if not isinstance(document, LineDict):
        raise SurveyFileError([f"{source}: a survey is a mapping (name:, languages:, questions: ...)"])
    survey = _read(document, report, path.stem)
    if report.errors:
        raise SurveyFileError(report.errors)
    return survey


def load_surveys(flows_dir: str | Path) -> tuple[dict[str, Survey], list[str]]:
    """Every survey under flows_dir/surveys by name, and the errors of those that do not check."""
    surveys: dict[str, Survey] = {}
    errors: list[str] = []
    for path in survey_files(flows_dir):
        try:
            survey = load_survey(path)
        except SurveyFileError as exc:
            errors += exc.errors
            continue
        surveys[survey.name] = survey
    return surveys, errors


def _unknown_keys(doc: LineDict, known: set[str], what: str, report: _Report) -> None:
    for key in doc:
        if key not in known:
            report(doc.line_of(key), f"unknown key '{key}' in {what} (expected one of {', '.join(sorted(known))})")
    for key, line in doc.duplicates:
        report(line, f"'{key}' is given twice")


def _read(doc: LineDict, report: _Report, stem: str) -> Survey:
    _unknown_keys(doc, TOP_KEYS, "a survey", report)
    name = doc.get("name")
    if not isinstance(name, str) or not NAME.match(name):
        report(doc.line_of("name"), "name: lower-case letters, digits, - and _ (at most 64)")
        name = stem
    elif name != stem:
        report(doc.line_of("name"), f"name '{name}' must be the file's name ({stem}.yaml)")
    languages = doc.get("languages")
    if not isinstance(languages, list) or not languages or not all(isinstance(x, str) and x for x in languages):
        report(doc.line_of("languages"), "languages: a list of language codes, such as [en, zh]")
        languages = ["en"]
    timeout = doc.get("timeout", 6)
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not 1 <= timeout <= 60:
        report(doc.line_of("timeout"), "timeout: seconds to wait for a key, 1 to 60")
        timeout = 6
    tries = doc.get("tries", 2)
    if isinstance(tries, bool) or not isinstance(tries, int) or not 1 <= tries <= 5:
        report(doc.line_of("tries"), "tries: how often a question is asked, 1 to 5")
        tries = 2
    intro = _texts(doc, "intro", languages, report, required=False)
    thanks = _texts(doc, "thanks", languages, report, required=False)
    questions = _questions(doc, languages, report)
    raw_questions = doc.get("questions") if isinstance(doc.get("questions"), list) else []
    declared = {q.get("name") for q in raw_questions if isinstance(q, LineDict) and isinstance(q.get("name"), str)}
    rules = _rules(doc, {q.name: q for q in questions}, declared, report)
    return Survey(
        name=name,
        languages=list(languages),
        questions=questions,
        rules=rules,
        intro=intro,
        thanks=thanks,
        timeout_seconds=float(timeout),
        tries=tries,
        source=report.source,
    )


def _texts(doc: LineDict, key: str, languages: list[str], report: _Report, required: bool) -> dict[str, str]:
    """A text per language: {en: ..., zh: ...}; every language of the survey must be there."""
    value = doc.get(key)
    line = doc.line_of(key)
    if value is None:
        if required:
            report(doc.line, f"missing '{key}'")
        return {}
    if not isinstance(value, LineDict):
        report(line, f"{key}: a text per language, such as {{en: ..., zh: ...}}")
        return {}
    texts = {}
    for language in languages:
        text = value.get(language)
        if not isinstance(text, str) or not text.strip():
            report(line, f"{key}: no text for language '{language}'")
        else:
            texts[language] = text
    for language in value:
        if language not in languages:
            report(value.line_of(language), f"{key}: language '{language}' is not in the survey's languages")
    return texts


def _questions(doc: LineDict, languages: list[str], report: _Report) -> list[Question]:
    raw = doc.get("questions")
    if not isinstance(raw, LineList) or not raw:
        report(doc.line_of("questions"), "questions: a list of at least one question (name, kind, prompt)")
        return []
    questions: list[Question] = []
    seen: set[str] = set()
    for item in raw:
        if not isinstance(item, LineDict):
            report(raw.line, "each question is a mapping (name, kind, prompt)")
            continue
        _unknown_keys(item, QUESTION_KEYS, "a question", report)
        name = item.get("name")
        if not isinstance(name, str) or not QUESTION_NAME.match(name):
            report(item.line_of("name"), "a question's name: lower-case letters, digits and _ (at most 32)")
            continue
        if name in seen:
            report(item.line_of("name"), f"question '{name}' appears twice")
        seen.add(name)
        kind = item.get("kind")
        if kind not in KINDS:
            report(item.line_of("kind"), f"question '{name}': kind must be one of {', '.join(KINDS)}")
            continue
        prompts = _texts(item, "prompt", languages, report, required=True)
        questions.append(Question(name, kind, prompts, item.line))
    return questions


def parse_condition(text: Any) -> tuple[str, str, int] | None:
    """`score <= 2` -> ("score", "<=", 2); `call_me` -> ("call_me", "==", 1); None when unreadable."""
    found = CONDITION.match(str(text)) if isinstance(text, str) else None
    if found is None:
        return None
    question, operator, number = found.groups()
    return (question, operator, int(number)) if operator else (question, "==", 1)


def _rules(doc: LineDict, questions: dict[str, Question], declared: set, report: _Report) -> list[Rule]:
    """The rules; one naming a question written wrong is left out (that question's error says why)."""
    raw = doc.get("rules", [])
    if not isinstance(raw, list):
        report(doc.line_of("rules"), "rules: a list of {when: ..., ticket: category} or {when: ..., callback: queue}")
        return []
    rules = []
    for item in raw:
        if not isinstance(item, LineDict):
            report(doc.line_of("rules"), "each rule is a mapping (when, and ticket or callback)")
            continue
        _unknown_keys(item, RULE_KEYS, "a rule", report)
        when = item.get("when")
        condition = parse_condition(when)
        if condition is None:
            report(item.line_of("when"), f"when: {when!r} is not '<question> <= <number>' or a question's name")
            continue
        question, operator, threshold = condition
        if question not in questions:
            if question not in declared:
                report(item.line_of("when"), f"when: no question named '{question}'")
            continue
        if questions[question].kind != "scale" and (operator, threshold) not in (("==", 1), ("==", 0)):
            report(item.line_of("when"), f"when: '{question}' is yes or no: write '{question}' or '{question} == 0'")
            continue
        actions = [key for key in ACTIONS if key in item]
        if len(actions) != 1:
            report(item.line, "a rule has one of 'ticket: <category>' or 'callback: <queue>'")
            continue
        target = item[actions[0]]
        if not isinstance(target, str) or not NAME.match(target):
            report(item.line_of(actions[0]), f"{actions[0]}: a category or queue name, got {target!r}")
            continue
        rules.append(
            Rule(
                when=str(when).strip(),
                question=question,
                operator=operator,
                threshold=threshold,
                action=actions[0],
                category=target if actions[0] == "ticket" else "",
                queue=target if actions[0] == "callback" else "",
                line=item.line,
            )
        )
    return rules
