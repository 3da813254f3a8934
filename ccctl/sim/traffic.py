"""Load generation: simulated patients arriving as a Poisson process, and the run's summary.

drive() places calls at `rate` per real second until `calls` were placed or `seconds`
passed, waits for them to end and counts outcomes (per-call failures keep their reason).
Traffic does the same step by step for a run someone watches: its counts are live, the rate
may change with time (peaks), and placing stops when asked.
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
RateAt = Callable[[float], float]  # calls per real second, given the real seconds since the start


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
    traffic = Traffic(switch, lambda _elapsed: rate, profile or (lambda rng: random_script(rng, destination)))
    traffic.place(calls, seconds)
    traffic.wait(drain_seconds)
    return traffic.summary()


class Traffic:
    """Simulated callers placed on `switch` at `rate_at(elapsed)` calls per real second (Poisson)."""

    def __init__(self, switch: Switch, rate_at: RateAt, profile: Profile) -> None:
        self.switch = switch
        self.rate_at = rate_at
        self.profile = profile
        self.handles: list[CallHandle] = []
        self.peak_active = 0
        self._stopping = False
        self._started = time.monotonic()

    @property
    def placed(self) -> int:
        return len(self.handles)

    def still_up(self) -> list[CallHandle]:
        return [handle for handle in self.handles if not handle.done]

    def stop_placing(self) -> None:
        self._stopping = True

    def place(self, calls: int | None = None, seconds: float | None = None) -> None:
        """Place calls until `calls` were placed, `seconds` passed or stop_placing() was called."""
        if calls is None and seconds is None:
            raise ValueError("placing calls needs calls=N or seconds=S")
        self._started = time.monotonic()
        next_at = self._started
        while not self._stopping and (calls is None or self.placed < calls):
            elapsed = time.monotonic() - self._started
            if seconds is not None and elapsed >= seconds:
                break
            delay = next_at - time.monotonic()
            if delay > 0:
                gevent.sleep(delay)
                if self._stopping:
                    break
            self.handles.append(self.switch.place_call(self.profile(self.switch.rng)))
            self.peak_active = max(self.peak_active, self.switch.active)
            rate = self.rate_at(time.monotonic() - self._started)
            if rate <= 0:
                raise ValueError(f"rate must be > 0 calls per second, not {rate}")
            next_at += self.switch.rng.expovariate(rate)

    def wait(self, seconds: float) -> bool:
        """Wait up to `seconds` for the placed calls to end; True when none is still up."""
        deadline = time.monotonic() + seconds
        for handle in self.handles:
            handle.wait(max(0.0, deadline - time.monotonic()))
        return not self.still_up()

    def summary(self) -> DriveSummary:
        """The outcomes so far: a call still up is unfinished (not failed)."""
        summary = DriveSummary(placed=self.placed, peak_active=self.peak_active)
        for handle in self.handles:
            _count(summary, handle, handle.wait(0) if handle.done else None)
        summary.real_seconds = time.monotonic() - self._started
        return summary


def _count(summary: DriveSummary, handle: CallHandle, outcome: CallOutcome | None) -> None:
    if outcome is None:
        summary.unfinished += 1
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
