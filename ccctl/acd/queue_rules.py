"""A queue's rules as the router and the hold loop read them (queues.settings JSON + queue_skills).

Defaults are mod_callcenter's where it has one; unknown keys are refused with the queue's name.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from ccctl.errors import UserError

STRATEGIES = (
    "longest-idle-agent",
    "ring-all",
    "round-robin",
    "top-down",
    "agent-with-least-talk-time",
    "agent-with-fewest-calls",
    "random",
    "best-skill-match",
)
OVERFLOW_ACTIONS = ("", "lower-level", "queue", "voice-message", "callback")


class QueueRulesError(UserError, ValueError):
    """A queue's settings are wrong; str() names the queue, the key and the value."""


@dataclass
class QueueRules:
    name: str
    skills: dict[str, int] = field(default_factory=dict)  # skill -> minimum level (1 = any)
    strategy: str = "longest-idle-agent"
    priority: int = 0  # higher: its callers go before other queues' callers for an agent who serves both
    max_wait_seconds: float = 600.0
    max_length: int = 0  # 0 = unlimited
    wrapup_seconds: float = 10.0
    no_answer_timeout: float = 20.0
    max_no_answer: int = 3  # then the agent goes On Break and an alarm is raised
    # seconds an agent rests after a missed offer, by cause (mod_callcenter's agent *_delay_time)
    busy_delay_seconds: float = 0.0  # their phone was busy (USER_BUSY)
    reject_delay_seconds: float = 0.0  # they refused the call (CALL_REJECTED)
    no_answer_delay_seconds: float = 0.0  # it rang out
    overflow_after_seconds: float = 0.0  # 0 = never
    overflow_action: str = ""
    overflow_level: int = 1  # lower-level: the minimum level once overflowed
    overflow_queue: str = ""  # queue: where the caller goes
    service_level_seconds: float = 20.0
    hold_prompt: str = "tone_stream://%(1000,4000,425);loops=2"
    announce_every_seconds: float = 30.0
    callback_key: str = "1"  # "" = no callback offer
    survey: str = ""  # a survey (flows_dir/surveys/<name>.yaml) the caller answers after the agent hangs up

    def to_settings(self) -> dict[str, Any]:
        """The JSON kept in queues.settings (everything but name, skills and strategy)."""
        data = dataclasses.asdict(self)
        for key in ("name", "skills", "strategy"):
            data.pop(key)
        return data


SETTING_KEYS = tuple(f.name for f in dataclasses.fields(QueueRules) if f.name not in ("name", "skills", "strategy"))


def build_rules(name: str, strategy: str, skills: dict[str, int], settings: dict[str, Any]) -> QueueRules:
    """QueueRules from stored or typed values; QueueRulesError names the queue and key at fault."""
    unknown = sorted(set(settings) - set(SETTING_KEYS))
    if unknown:
        raise QueueRulesError(f"queue {name!r}: unknown setting {unknown[0]!r} (known: {', '.join(SETTING_KEYS)})")
    if strategy not in STRATEGIES:
        raise QueueRulesError(f"queue {name!r}: strategy {strategy!r} is not one of {', '.join(STRATEGIES)}")
    rules = QueueRules(name=name, skills=dict(skills), strategy=strategy)
    for key, value in settings.items():
        default = getattr(rules, key)
        try:
            setattr(rules, key, type(default)(value))
        except (TypeError, ValueError):
            raise QueueRulesError(f"queue {name!r}: {key}={value!r} is not a {type(default).__name__}") from None
    if rules.overflow_action not in OVERFLOW_ACTIONS:
        raise QueueRulesError(
            f"queue {name!r}: overflow_action={rules.overflow_action!r} is not one of {', '.join(OVERFLOW_ACTIONS[1:])}"
        )
    if rules.overflow_action == "queue" and not rules.overflow_queue:
        raise QueueRulesError(f"queue {name!r}: overflow_action=queue needs overflow_queue")
    return rules
