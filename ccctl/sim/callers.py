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


@dataclass(frozen=True)
class KnownMember:
    """A member the simulated callers can be: their phone, member number and PIN."""

    phone: str
    member_number: str
    pin: str


def hotline_script(rng: random.Random, destination: str, members: list[KnownMember]) -> CallerScript:
    """A caller of the shipped main hotline (ivr_flows/main.yaml), keys in its menu order.

    Members call from their own phone (and take the "this phone's member number" shortcut)
    or from elsewhere, sometimes mistype the PIN once; non-members ask for information,
    registration or leave a complaint; a few (one in ten, as on a hotline that answers
    promptly) stay silent or hang up early. Out of opening hours the same keys lead through
    the after-hours message instead, as a real caller would.
    """
    language = rng.choices("123", weights=(70, 20, 10))[0]
    talk = rng.uniform(8, 40)
    roll = rng.random()
    script = CallerScript(
        "138" + "".join(rng.choice("0123456789") for _ in range(8)),
        destination,
        reaction=rng.uniform(0.4, 2.0),
        message_seconds=talk,
        context="public",
    )
    if members and roll < 0.48:
        member = rng.choice(members)
        own_phone = rng.random() < 0.6
        if own_phone:
            script.caller = member.phone
            identity = ["1"]  # "use the member number of this phone"
        else:
            identity = [member.member_number + "#"]
        pins = [member.pin + "#"]
        if rng.random() < 0.15:
            pins.insert(0, "".join(rng.choice("0123456789") for _ in range(len(member.pin))) + "#")
        choice = rng.choice("123345")
        after = {"2": [rng.choice("123")], "5": [rng.choice("12")]}.get(choice, [])
        script.keys = [language, "1", *identity, *pins, choice, *after]
        return script
    if roll < 0.90:
        choice = rng.choice("1223")
        after = {"2": [rng.choice("1234"), "", "9", ""], "3": [rng.choice("12")]}.get(choice, [])
        script.keys = [language, "2", choice, *after]
        return script
    if roll < 0.95:
        script.keys = [language, "", ""]  # silent: the menus fall back, then the operator queue
        script.hangup_after = rng.uniform(20, 60)
        return script
    script.keys = [language]
    script.hangup_at_prompt = rng.randint(1, 4)
    script.hangup_into_prompt = rng.uniform(0.3, 3.0)
    return script
