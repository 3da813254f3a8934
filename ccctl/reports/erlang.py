"""Erlang C: how many calls a team of agents carries at a service level.

The standard M/M/N queue model contact centers staff by: calls arrive at random, handle times are
exponential, callers wait for the first free agent. `ccctl demo` sizes its traffic with it.
"""

from __future__ import annotations

import math


def erlang_c(agents: int, offered_erlangs: float) -> float:
    """The probability that a call waits, with `agents` agents and `offered_erlangs` of traffic (1.0 when
    the traffic is more than they can carry)."""
    if agents < 1:
        raise ValueError(f"agents must be at least 1, not {agents}")
    if offered_erlangs < 0:
        raise ValueError(f"offered_erlangs must be >= 0, not {offered_erlangs}")
    if offered_erlangs >= agents:
        return 1.0
    # Erlang B by its recurrence (no factorials to overflow), then C from B
    blocking = 1.0
    for n in range(1, agents + 1):
        blocking = offered_erlangs * blocking / (n + offered_erlangs * blocking)
    occupancy = offered_erlangs / agents
    return blocking / (1 - occupancy * (1 - blocking))


def service_level(agents: int, offered_erlangs: float, handle_seconds: float, target_seconds: float) -> float:
    """The share of calls answered within `target_seconds`."""
    if handle_seconds <= 0:
        raise ValueError(f"handle_seconds must be > 0, not {handle_seconds}")
    waits = erlang_c(agents, offered_erlangs)
    if waits >= 1.0:
        return 0.0
    return 1 - waits * math.exp(-(agents - offered_erlangs) * target_seconds / handle_seconds)


def average_speed_of_answer(agents: int, offered_erlangs: float, handle_seconds: float) -> float:
    """The mean wait in seconds over all calls (infinite when the traffic is more than the agents carry)."""
    if offered_erlangs >= agents:
        return math.inf
    return erlang_c(agents, offered_erlangs) * handle_seconds / (agents - offered_erlangs)


def carried_load(agents: int, handle_seconds: float, target_seconds: float, level: float) -> float:
    """The most traffic, in Erlangs, that `agents` answer at `level` within `target_seconds`."""
    if not 0 < level < 1:
        raise ValueError(f"level must be between 0 and 1, not {level}")
    low, high = 0.0, float(agents)
    for _ in range(60):
        middle = (low + high) / 2
        if service_level(agents, middle, handle_seconds, target_seconds) >= level:
            low = middle
        else:
            high = middle
    return low
