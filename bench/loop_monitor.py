"""Event-loop lag and command round-trip samples, shared by both controllers under bench.

A greenlet asks to sleep a fixed tick and records how late it wakes: that lateness
is the loop lag every call on the process suffers.
"""

from __future__ import annotations

import time

import gevent


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


class LoopLagMonitor:
    """Samples loop lag every `tick` seconds into a bounded list (milliseconds)."""

    def __init__(self, tick: float = 0.01, keep: int = 100_000) -> None:
        self.tick = tick
        self.keep = keep
        self.samples: list[float] = []
        self._greenlet: gevent.Greenlet | None = None

    def start(self) -> None:
        self._greenlet = gevent.spawn(self._run)

    def stop(self) -> None:
        if self._greenlet is not None:
            self._greenlet.kill()

    def reset(self) -> None:
        self.samples = []

    def _run(self) -> None:
        while True:
            before = time.perf_counter()
            gevent.sleep(self.tick)
            lag = (time.perf_counter() - before - self.tick) * 1000
            if len(self.samples) < self.keep:
                self.samples.append(max(0.0, lag))

    def summary(self) -> dict:
        return {"loop_lag_p50_ms": percentile(self.samples, 50), "loop_lag_p99_ms": percentile(self.samples, 99)}
