"""Simulated patients: what a caller keys in at each prompt and when they lose patience.

A CallerScript is the plan for one call; PatientSession plays it against a channel
(DTMF timeline per digit-collecting attempt, hang-up deadline); random_script mixes callers.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ccctl.sim.channel import Channel

PROMPT_APPS = frozenset({"playback", "speak", "play_and_get_digits", "read"})


@dataclass
class CallerScript:
    """One simulated caller. `keys` is consumed one entry per digit-collecting attempt ("" = silence)."""

    caller: str = "13800000001"
    destination: str = "7000"
    keys: list[str] = field(default_factory=list)
    hangup_after: float | None = None  # simulated seconds after the call arrives
    hangup_at_prompt: int | None = None  # 1-based: hang up during the N-th prompt
    hangup_into_prompt: float = 0.5  # ... this many seconds into it
    reaction: float = 0.8  # seconds between the end of a prompt and the first key
    barge_in: bool = False  # start keying while the prompt still plays
    key_interval: float = 0.25
    message_seconds: float = 0.0  # how long the caller talks when recorded
    caller_name: str = ""
    context: str = "default"


class PatientSession:
    """A CallerScript acting on one channel."""

    def __init__(self, script: CallerScript) -> None:
        self.script = script
        self.attempt = 0
        self.prompt_count = 0
        self.digits_sent: list[str] = []

    @property
    def message_seconds(self) -> float:
        return self.script.message_seconds

    def on_start(self, ch: Channel) -> None:
        if self.script.hangup_after is not None:
            ch.set_deadline(ch.switch.clock.now() + self.script.hangup_after, by="caller")

    def on_app(self, ch: Channel, app: str, arg: str) -> None:
        if app not in PROMPT_APPS:
            return
        self.prompt_count += 1
        if self.script.hangup_at_prompt == self.prompt_count:
            ch.set_deadline(ch.switch.clock.now() + self.script.hangup_into_prompt, by="caller")

    def on_read(self, ch: Channel, prompt_seconds: float) -> None:
        """A read attempt starts: schedule this attempt's key presses."""
        keys = self.script.keys[self.attempt] if self.attempt < len(self.script.keys) else ""
        self.attempt += 1
        if not keys:
            return
        start = ch.switch.clock.now() + self.script.reaction + (0.0 if self.script.barge_in else prompt_seconds)
        for index, digit in enumerate(keys):
            ch.queue_dtmf(digit, due=start + index * self.script.key_interval)
        self.digits_sent.append(keys)


def random_script(rng: random.Random, destination: str = "7000", menu_keys: str = "12") -> CallerScript:
    """A realistic mix: most callers cooperate, some key wrongly first, stay silent or hang up early."""
    caller = "138" + "".join(rng.choice("0123456789") for _ in range(8))
    roll = rng.random()
    member = "".join(rng.choice("0123456789") for _ in range(6)) + "#"
    pin = "".join(rng.choice("0123456789") for _ in range(4)) + "#"
    choice = rng.choice(menu_keys)
    if roll < 0.65:
        keys = [choice, member, pin, rng.choice(menu_keys)]
        return CallerScript(caller, destination, keys, reaction=rng.uniform(0.3, 2.0))
    if roll < 0.80:
        return CallerScript(caller, destination, ["9", choice, member, pin], reaction=rng.uniform(0.5, 2.5))
    if roll < 0.90:
        return CallerScript(caller, destination, [], hangup_after=rng.uniform(15, 40))
    return CallerScript(caller, destination, [choice], hangup_at_prompt=rng.randint(1, 3), hangup_into_prompt=0.7)
