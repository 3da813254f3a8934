"""What one simulated call produced, and its text and JSON forms for `ccctl flow simulate`.

Holds no PIN: keys typed at a PIN prompt arrive here already masked.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

TTS_PREFIX = "say:"
TONE_PREFIX = "tone_stream:"
SAY_APP_PREFIX = "say_app:"  # a date, time or number said by the switch's `say` (ccctl.sim.say_app)


@dataclass(frozen=True)
class Prompt:
    """One prompt the caller heard: TTS text, or a file the switch played."""

    kind: str  # "tts" | "file" | "tone" | "say"
    text: str

    @classmethod
    def from_target(cls, target: str) -> Prompt:
        if target.startswith(TTS_PREFIX):
            return cls("tts", target[len(TTS_PREFIX) :])
        if target.startswith(TONE_PREFIX):
            return cls("tone", target)
        if target.startswith(SAY_APP_PREFIX):
            return cls("say", target[len(SAY_APP_PREFIX) :])
        return cls("file", target)


@dataclass(frozen=True)
class Handoff:
    """Where the flow sent the call: a queue (skill -> dial string) or a transfer."""

    kind: str  # "queue" | "transfer"
    skill: str
    target: str
    answered_by: str = ""  # the channel that picked up, "" when nobody did


@dataclass
class SimulationResult:
    """The path, prompts, keys and outcome of one simulated call."""

    hotline: str
    flow_version: str
    caller: str
    at: str
    path: list[str]
    prompts: list[Prompt]
    keys: list[str]  # one per input prompt, "" = silence, PINs masked
    unused_keys: int
    disposition: str
    hangup_cause: str
    hung_up_by: str
    patient_code: str | None
    member: bool
    handoffs: list[Handoff] = field(default_factory=list)
    voice_messages: list[str] = field(default_factory=list)
    error: str = ""
    scratch: bool = False  # ran on a throwaway database (its recordings are gone too)

    def as_json(self) -> dict:
        data = dataclasses.asdict(self)
        data["patient"] = {"code": self.patient_code, "member": self.member} if self.patient_code else None
        del data["patient_code"], data["member"]
        return data


def format_simulation(result: SimulationResult) -> str:
    """The simulated call as text: header, path, prompts, keys, result."""
    lines = [
        f"hotline {result.hotline}, flow version {result.flow_version}, caller {result.caller}, local time {result.at}",
        "database: " + ("scratch SQLite with the demo members, discarded" if result.scratch else "database.url"),
        "",
        "path:",
        *(f"  {label}" for label in result.path),
        "",
        "prompts:",
        *(f"  {n:>2}. [{p.kind}] {p.text}" for n, p in enumerate(result.prompts, start=1)),
        "",
        "keys: " + (", ".join(key if key else "(silence)" for key in result.keys) or "(none asked)"),
    ]
    if result.unused_keys:
        lines.append(f"      ({result.unused_keys} --keys entries left over: the flow asked for fewer inputs)")
    lines += ["", "result:", *_result_lines(result)]
    return "\n".join(lines)


def _result_lines(result: SimulationResult) -> list[str]:
    lines = [f"  disposition: {result.disposition} ({result.hangup_cause}, hung up by {result.hung_up_by})"]
    if result.patient_code:
        lines.append(f"  patient:     {result.patient_code} ({'member' if result.member else 'non-member'})")
    else:
        lines.append("  patient:     none attached")
    for handoff in result.handoffs:
        picked = f", answered by {handoff.answered_by}" if handoff.answered_by else ", not answered"
        what = f"skill {handoff.skill} -> {handoff.target}" if handoff.kind == "queue" else handoff.target
        lines.append(f"  hand-off:    {handoff.kind} {what}{picked}")
    if not result.handoffs:
        lines.append("  hand-off:    none")
    for path in result.voice_messages:
        lines.append(f"  recorded:    {path}")
    if result.error:
        lines.append(f"  error:       {result.error}")
    return lines
