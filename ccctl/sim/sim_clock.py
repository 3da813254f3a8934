"""Simulated time: a clock that runs `time_factor` times faster than the wall clock.

Prompts, timeouts and patience are simulated seconds; waits last simulated / factor real seconds.
"""

from __future__ import annotations

import time

import gevent

FRAME_SECONDS = 0.02  # a session notices a hangup from elsewhere at its next 20 ms media frame


class SimClock:
    """Simulated time: runs `time_factor` times faster than the wall clock, in microseconds."""

    def __init__(self, time_factor: float = 1.0) -> None:
        if time_factor <= 0:
            raise ValueError(f"time_factor must be > 0, not {time_factor}")
        self.factor = time_factor
        self._mono0 = time.monotonic()
        self._us0 = int(time.time() * 1_000_000)

    def now(self) -> float:
        """Simulated seconds since the epoch."""
        return self._us0 / 1_000_000 + (time.monotonic() - self._mono0) * self.factor

    def now_us(self) -> int:
        return self._us0 + int((time.monotonic() - self._mono0) * self.factor * 1_000_000)

    def real(self, sim_seconds: float) -> float:
        return max(0.0, sim_seconds) / self.factor

    def sleep(self, sim_seconds: float) -> None:
        gevent.sleep(self.real(sim_seconds))
