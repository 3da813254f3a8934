"""A survey on a live call, as call-flow steps: each question asked by TTS, its key judged here, answers stored.

Run by the flows' `survey` node (a campaign's call) and by the ACD when an agent leaves a queue's call
(`survey:` in the queue's settings). What was answered is stored when the survey ends, or when the
patient hangs up part-way (as not completed); a crossed rule opens its ticket or callback then.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Generator
from pathlib import Path
from typing import TypeVar

from sqlalchemy.orm import Session

from ccctl.callflow import AppResult, Command, Execute
from ccctl.config import Settings
from ccctl.ivr.fs_args import KEYPAD_REGEX, SILENCE, play_and_get_digits_arg, say
from ccctl.records.database import make_engine
from ccctl.records.models.patients import Patient
from ccctl.surveys.model import Question, Response, Survey
from ccctl.surveys.spec import load_surveys
from ccctl.surveys.store import save_response

log = logging.getLogger("ccctl.surveys")
Steps = Generator[Command, AppResult, str]
T = TypeVar("T")
InTransaction = Callable[[Callable[[Session], T]], T]
DIGIT_TIMEOUT_MS = 3000


def ask_question(
    survey: Survey, question: Question, language: str
) -> Generator[Command, AppResult, tuple[str | None, bool]]:
    """(the accepted key or None, whether the caller is gone); asked up to survey.tries times."""
    var_name = f"cc_survey_{question.name}"
    arg = play_and_get_digits_arg(
        min_digits=1,
        max_digits=1,
        tries=1,
        timeout_ms=int(survey.timeout_seconds * 1000),
        terminators="none",
        prompt=say(question.prompts[language]),
        invalid_prompt=SILENCE,
        var_name=var_name,
        regex=KEYPAD_REGEX,
        digit_timeout_ms=DIGIT_TIMEOUT_MS,
    )
    for _ in range(survey.tries):
        result = yield Execute("play_and_get_digits", arg)
        if result.caller_gone:
            return None, True
        key = result.variable(var_name) if result.variable("read_result") == "success" else ""
        if question.accepts(key):
            return key, False
    return None, False


def survey_steps(survey: Survey, language: str, answers: dict[str, int]) -> Generator[Command, AppResult, bool]:
    """Ask every question, filling `answers` (question -> value) as keys arrive; whether all were answered."""
    complete = True
    if language in survey.intro:
        yield Execute("playback", say(survey.intro[language]))
    for question in survey.questions:
        key, gone = yield from ask_question(survey, question, language)
        if gone:
            return False
        if key is None:
            complete = False
            continue
        answers[question.name] = question.value_of(key)
    if language in survey.thanks:
        yield Execute("playback", say(survey.thanks[language]))
    return complete


class DbSurveys:
    """Runs the site's surveys on calls and stores their answers (the flows' Surveys, the ACD's PostCallSurveys)."""

    def __init__(self, settings: Settings, engine=None, in_transaction: InTransaction | None = None) -> None:
        self.settings = settings
        self.engine = engine if engine is not None else make_engine(settings.database.url)
        self._own_engine = engine is None
        # the flows' database thread (DbCallServices._in_transaction): a greenlet never blocks on SQL
        self._in_transaction = in_transaction or self._own_transaction
        self.surveys, errors = load_surveys(Path(settings.flows_dir))
        for error in errors:  # a broken file is `ccctl surveys check`'s to report; its survey is not offered
            log.error("survey not loaded: %s", error)

    def close(self) -> None:
        if self._own_engine:
            self.engine.dispose()

    def has_survey(self, name: str) -> bool:
        return name in self.surveys

    def run_survey(
        self,
        name: str,
        call_uuid: str,
        caller_number: str,
        patient_id: int | None,
        language: str = "",
        *,
        agent: str = "",
        queue: str = "",
        campaign: str = "",
    ) -> Steps:
        """Call-flow steps: ask survey `name`; returns completed, partial or unavailable (no such survey).

        Spoken in `language` when given (the caller chose it), else the patient's recorded language, else
        the survey's first; a language the survey lacks falls back to its first."""
        survey = self.surveys.get(name)
        if survey is None:
            log.warning("call %s: survey %r is not loaded", call_uuid, name)
            return "unavailable"
        spoken = survey.language_for(language or self._language_of(patient_id))
        answers: dict[str, int] = {}
        complete = False
        try:
            complete = yield from survey_steps(survey, spoken, answers)
        finally:  # a patient who hangs up part-way still counts for what they pressed
            response = Response(name, call_uuid, patient_id, answers, spoken, agent, queue, campaign, complete)
            self._save(survey, response, caller_number)
        return "completed" if complete else "partial"

    def _own_transaction(self, work: Callable[[Session], T]) -> T:
        with Session(self.engine, expire_on_commit=False) as session, session.begin():
            return work(session)

    def _language_of(self, patient_id: int | None) -> str:
        if patient_id is None:
            return ""

        def work(session: Session) -> str:
            patient = session.get(Patient, patient_id)
            return patient.language if patient is not None else ""

        try:
            return self._in_transaction(work)
        except Exception:  # the survey is then asked in its first language
            log.warning("survey: the patient's language could not be read")
            return ""

    def _save(self, survey: Survey, response: Response, caller_number: str) -> None:
        if not response.answers:
            return
        try:
            self._in_transaction(
                lambda session: save_response(
                    session, survey, response, caller_number=caller_number, inbox=self.settings.inbox
                )
            )
        except Exception:  # a busy database must not cut the patient off; the log names the call only
            log.exception("survey %s of call %s not stored", survey.name, response.call_uuid)
