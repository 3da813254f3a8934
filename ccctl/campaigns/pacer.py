"""The pacer: which due targets to call now, within the campaign's caps and each patient's calling hours.

A plain object (no sockets, no database): given the clock, the targets due, the calls in progress and the
attempts placed today it returns the calls to place. The dialer then claims each target with a
compare-and-set UPDATE before dialling, so what the pacer chose is never dialled twice.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from ccctl.campaigns.model import AgentLoad, CallingHours, Caps, DueTarget

# answered calls before the abandon rate is trusted: one early hang-up must not stop a campaign
ABANDON_MIN_ANSWERED = 20


def progressive_room(load: AgentLoad, abandon_percent: float) -> int:
    """New calls a progressive campaign may place now: one per free agent not already spoken for by a call
    ringing or a patient waiting; none while the abandon rate is over the limit."""
    if load.answered >= ABANDON_MIN_ANSWERED and load.abandoned * 100.0 > abandon_percent * load.answered:
        return 0
    return max(0, load.free_agents - load.ringing - load.waiting)


def preview_agents(free: list[str], reserved: Collection[str]) -> list[str]:
    """The agents a preview campaign may reserve a patient for now, one patient each: those free with its
    skill (in the order given: longest idle first) who hold no reservation of any campaign yet."""
    taken = set(reserved)
    chosen: list[str] = []
    for name in free:
        if name not in taken:
            chosen.append(name)
            taken.add(name)
    return chosen


class Pacer:
    """Holds the rate cap as a token bucket: per_second new calls, at most one second's worth at once."""

    def __init__(self, caps: Caps, hours: CallingHours) -> None:
        self.caps = caps
        self.hours = hours
        self._tokens = max(1.0, caps.per_second)  # a full bucket: the first second may place its share at once
        self._last: datetime | None = None

    def _refill(self, now: datetime) -> None:
        if self._last is not None and now > self._last:
            elapsed = (now - self._last).total_seconds()
            self._tokens = min(max(1.0, self.caps.per_second), self._tokens + elapsed * self.caps.per_second)
        self._last = now if self._last is None or now > self._last else self._last

    def room(self, now: datetime) -> int:
        """How many new calls the rate cap allows now (the dialer reads no more due targets than this)."""
        self._refill(now)
        return int(self._tokens)

    def may_call(self, target: DueTarget, now: datetime) -> bool:
        """A voice call to this patient is allowed now: a number, no opt-out, inside their hours."""
        if not target.number or target.voice_opted_out:
            return False
        return self.hours.allows(now.astimezone(target.zone))

    def calls_to_place(
        self, now: datetime, due: list[DueTarget], in_progress: int, placed_today: int
    ) -> list[DueTarget]:
        """The targets to dial now, in the order given (soonest due first)."""
        self._refill(now)
        room = self.caps.concurrent - in_progress
        if self.caps.daily:
            room = min(room, self.caps.daily - placed_today)
        room = min(room, int(self._tokens))
        chosen: list[DueTarget] = []
        for target in due:
            if len(chosen) >= room:
                break
            if self.may_call(target, now):
                chosen.append(target)
        self._tokens -= len(chosen)
        return chosen
