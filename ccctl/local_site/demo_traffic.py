"""How many calls `ccctl demo` places: sized by Erlang C to the agents it seeds, with occasional peaks.

A supervisor watching the demo should see a realistic day: queues mostly within their service level,
a peak now and then that turns an alarm red and passes. The load is a share of what the agents carry
at a service level (reports/erlang.py), from the demo's own rates: its agents, their talk and wrap-up.
"""

from __future__ import annotations

from dataclasses import dataclass

from ccctl.reports.erlang import carried_load

# hotline_script callers that reach an agent queue (measured; the rest hear information, leave a message or hang up)
QUEUED_SHARE = 0.73
TARGET_SECONDS = 20.0  # the queues' service level target (queue_rules.service_level_seconds)
USUAL_LEVEL = 0.9  # usually 90% of callers answered within the target: green
PEAK_LEVEL = 0.6  # during a peak 60%: the alarm turns red, then the day recovers
PEAK_EVERY_HANDLES = 12  # a peak every this many handle times ...
PEAK_HANDLES = 2  # ... lasting this many


@dataclass(frozen=True)
class DemoTraffic:
    """Calls per real second over time: `rate`, and `peak_rate` during each peak (none when equal)."""

    rate: float
    peak_rate: float
    peak_every_seconds: float = 0.0
    peak_seconds: float = 0.0
    summary: str = ""

    def rate_at(self, elapsed: float) -> float:
        if self.peak_rate == self.rate or self.peak_every_seconds <= 0:
            return self.rate
        into = elapsed % self.peak_every_seconds
        return self.peak_rate if into >= self.peak_every_seconds - self.peak_seconds else self.rate


def steady_traffic(rate: float) -> DemoTraffic:
    if rate <= 0:
        raise ValueError(f"--rate must be > 0 calls per second, not {rate}")
    return DemoTraffic(rate, rate, summary=f"traffic: {rate:g} calls/s (--rate)")


def sized_traffic(agents: int, handle_seconds: float, time_factor: float = 1.0) -> DemoTraffic:
    """The demo's default: the calls `agents` answer at USUAL_LEVEL within the target, PEAK_LEVEL in a peak.

    `handle_seconds` are real seconds (ringing, talk, wrap-up); with the emulator `time_factor` times
    faster the target shrinks with it, so an accelerated demo keeps the proportions of a real day.
    """
    target = TARGET_SECONDS / time_factor
    usual = carried_load(agents, handle_seconds, target, USUAL_LEVEL)
    peak = carried_load(agents, handle_seconds, target, PEAK_LEVEL)
    rate = usual / handle_seconds / QUEUED_SHARE
    every, lasting = PEAK_EVERY_HANDLES * handle_seconds, PEAK_HANDLES * handle_seconds
    summary = (
        f"traffic: {rate:.2f} calls/s for {agents} agents, sized by Erlang C ({handle_seconds:.0f} s a call, "
        f"{USUAL_LEVEL:.0%} answered within {TARGET_SECONDS:.0f} s); peaks of {peak / usual:.2f}x for "
        f"{lasting:.0f} s every {_duration(every)} ({PEAK_LEVEL:.0%})"
    )
    return DemoTraffic(rate, rate * peak / usual, every, lasting, summary)


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} min"
