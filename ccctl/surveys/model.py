"""The types a survey's parts pass each other: its questions and rules as checked at load, and one response."""

from __future__ import annotations

from dataclasses import dataclass, field

# question kinds and the keys each accepts
KINDS = ("scale", "yes_no", "call_me")
KIND_KEYS = {"scale": "12345", "yes_no": "12", "call_me": "12"}

ACTIONS = ("ticket", "callback")


@dataclass(frozen=True)
class Question:
    name: str
    kind: str  # scale (1-5), yes_no (1 yes, 2 no), call_me (1 call me, 2 no)
    prompts: dict[str, str]  # language -> text spoken by TTS
    line: int = 0

    def accepts(self, key: str) -> bool:
        return len(key) == 1 and key in KIND_KEYS[self.kind]

    def value_of(self, key: str) -> int:
        """The stored value: the scale's number; 1 for yes / call me, 0 for no."""
        if self.kind == "scale":
            return int(key)
        return 1 if key == "1" else 0


@dataclass(frozen=True)
class Rule:
    """`when` crosses on an answer: `<question> <op> <number>`, or a question's name alone (its value is 1)."""

    when: str
    question: str
    operator: str
    threshold: int
    action: str  # ticket, callback
    category: str = ""  # the ticket's category
    queue: str = ""  # the callback's queue
    line: int = 0

    def crossed(self, answers: dict[str, int]) -> bool:
        value = answers.get(self.question)
        if value is None:
            return False
        return {
            "<=": value <= self.threshold,
            ">=": value >= self.threshold,
            "<": value < self.threshold,
            ">": value > self.threshold,
            "==": value == self.threshold,
            "!=": value != self.threshold,
        }[self.operator]


@dataclass(frozen=True)
class Survey:
    name: str
    languages: list[str]  # the first is spoken when the patient's language is not among them
    questions: list[Question]
    rules: list[Rule] = field(default_factory=list)
    intro: dict[str, str] = field(default_factory=dict)
    thanks: dict[str, str] = field(default_factory=dict)
    timeout_seconds: float = 6.0
    tries: int = 2
    source: str = ""

    def language_for(self, wanted: str) -> str:
        return wanted if wanted in self.languages else self.languages[0]

    def crossed(self, answers: dict[str, int]) -> list[Rule]:
        return [rule for rule in self.rules if rule.crossed(answers)]


@dataclass(frozen=True)
class Response:
    """Where an answered survey came from and what was pressed (values by question name)."""

    survey: str
    call_uuid: str
    patient_id: int | None
    answers: dict[str, int]
    language: str
    agent: str = ""
    queue: str = ""
    campaign: str = ""
    completed: bool = True
