"""Load generation: simulated patients arriving as a Poisson process, and the run's summary.

drive() places calls at `rate` per real second until `calls` were placed or `seconds`
passed, waits for them to end and counts outcomes (per-call failures keep their reason).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from random import Random
from typing import TYPE_CHECKING

import gevent

from ccctl.sim.callers import CallerScript, random_script

if TYPE_CHECKING:
    from ccctl.sim.switch import CallHandle, CallOutcome, Switch

Profile = Callable[[Random], CallerScript]


@dataclass
class DriveSummary:
    placed: int = 0
    completed: int = 0
    failed: int = 0
    unfinished: int = 0
    answered: int = 0
    hung_up_by: Counter = field(default_factory=Counter)
    hangup_causes: Counter = field(default_factory=Counter)
    failures: list[dict[str, str]] = field(default_factory=list)
    real_seconds: float = 0.0
    peak_active: int = 0
    outcomes: list[CallOutcome] = field(default_factory=list)

    def as_dict(self) -> dict:
        rate = self.placed / self.real_seconds if self.real_seconds else 0.0
        return {
            "placed": self.placed,
            "completed": self.completed,
            "failed": self.failed,
            "unfinished": self.unfinished,
            "answered": self.answered,
            "hung_up_by": dict(self.hung_up_by),
            "hangup_causes": dict(self.hangup_causes),
            "failures": self.failures,
            "real_seconds": round(self.real_seconds, 3),
            "calls_per_second": round(rate, 2),
            "peak_active": self.peak_active,
        }


def drive(
    switch: Switch,
    rate: float,
    calls: int | None = None,
    seconds: float | None = None,
    profile: Profile | None = None,
    destination: str = "7000",
    drain_seconds: float = 60.0,
) -> DriveSummary:
    """Poisson arrivals at `rate` calls per real second; returns once every call ended or drain ran out."""
    if rate <= 0:
        raise ValueError(f"rate must be > 0 calls per second, not {rate}")
    if calls is None and seconds is None:
        raise ValueError("drive needs calls=N or seconds=S")
    make = profile or (lambda rng: random_script(rng, destination))
    summary = DriveSummary()
    handles: list[CallHandle] = []
    started = time.monotonic()
    next_at = started
    while (calls is None or len(handles) < calls) and (seconds is None or time.monotonic() - started < seconds):
        delay = next_at - time.monotonic()
        if delay > 0:
            gevent.sleep(delay)
        script = make(switch.rng)
        handles.append(switch.place_call(script))
        summary.peak_active = max(summary.peak_active, switch.active)
        next_at += switch.rng.expovariate(rate)
    summary.placed = len(handles)
    deadline = time.monotonic() + drain_seconds
    for handle in handles:
        outcome = handle.wait(max(0.0, deadline - time.monotonic()))
        _count(summary, handle, outcome)
    summary.real_seconds = time.monotonic() - started
    return summary


def _count(summary: DriveSummary, handle: CallHandle, outcome: CallOutcome | None) -> None:
    if outcome is None:
        summary.unfinished += 1
        summary.failures.append({"uuid": handle.uuid, "reason": "call still up when the run ended"})
        return
    summary.outcomes.append(outcome)
    summary.answered += outcome.answered
    summary.hung_up_by[outcome.hung_up_by or "unknown"] += 1
    summary.hangup_causes[outcome.hangup_cause or "NONE"] += 1
    if outcome.failure:
        summary.failed += 1
        summary.failures.append({"uuid": outcome.uuid, "reason": outcome.failure})
    else:
        summary.completed += 1
