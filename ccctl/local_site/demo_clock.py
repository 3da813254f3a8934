"""The local time `ccctl demo`'s flows see, chosen inside the hotline's opening hours.

A demo started on a Saturday afternoon would otherwise send every caller down the closed path and
show an idle ACD. The opening hours are read from the flows' own time-of-day branches, so the
choice follows what an admin writes in ivr_flows/, and `--at` still picks any moment.
"""

from __future__ import annotations

import datetime as dt
import time

from ccctl.ivr.flow import Flow
from ccctl.ivr.nodes.branch import BranchNode
from ccctl.ivr.registry import FlowRegistry

STEP = dt.timedelta(minutes=15)
SEARCH_DAYS = 14
# a clock chosen for the demo stays inside opening hours at least this long
OPEN_AHEAD = dt.timedelta(hours=2)


class DemoClock:
    """Real local time, or a chosen start that runs on at the real pace from when it was set."""

    def __init__(self) -> None:
        self.start: dt.datetime | None = None
        self._origin = time.monotonic()

    def start_at(self, start: dt.datetime | None) -> None:
        self.start = start
        self._origin = time.monotonic()

    def __call__(self) -> dt.datetime:
        if self.start is None:
            return dt.datetime.now()
        return self.start + dt.timedelta(seconds=time.monotonic() - self._origin)


def shifted_clock(start_at: dt.datetime | None) -> DemoClock:
    """A clock that starts at `start_at` and runs on from there (None: the real local time)."""
    clock = DemoClock()
    clock.start_at(start_at)
    return clock


def _hours_branches(flow: Flow) -> list[BranchNode]:
    """The flow's time-of-day branches: a rule tests the time or the weekday."""
    return [
        node
        for node in flow.nodes.values()
        if isinstance(node, BranchNode) and any(rule.spans or rule.weekdays for rule in node.rules)
    ]


def _branch_open(node: BranchNode, flow: Flow, moment: dt.datetime) -> bool:
    """Open: the first rule that holds is a time-of-day rule (a holiday rule or the default is closed)."""
    for rule in node.rules:
        # a rule testing the call's variables needs a call, which a moment alone does not have
        if rule.when is None and rule.holds_at(flow.calendar, moment):
            return bool(rule.spans or rule.weekdays) and rule.holiday is not True
    return False


def is_open(flows: list[Flow], moment: dt.datetime) -> bool | None:
    """Whether every time-of-day branch of the flows takes its opening-hours way (None: the flows have none)."""
    branches = [(node, flow) for flow in flows for node in _hours_branches(flow)]
    if not branches:
        return None
    return all(_branch_open(node, flow, moment) for node, flow in branches)


def _stays_open(flows: list[Flow], moment: dt.datetime) -> bool:
    steps = int(OPEN_AHEAD / STEP)
    return all(is_open(flows, moment + n * STEP) for n in range(steps + 1))


def next_open(flows: list[Flow], now: dt.datetime) -> dt.datetime | None:
    """The first quarter hour from `now` that stays inside opening hours for OPEN_AHEAD."""
    moment = now.replace(minute=now.minute - now.minute % 15, second=0, microsecond=0) + STEP
    for _ in range(int(dt.timedelta(days=SEARCH_DAYS) / STEP)):
        if _stays_open(flows, moment):
            return moment
        moment += STEP
    return None


def _shown(moment: dt.datetime) -> str:
    return f"{moment:%a %Y-%m-%d %H:%M}"


def choose_time(registry: FlowRegistry, hotlines: list[str], now: dt.datetime, at: dt.datetime | None):
    """(the start the flows see, None for the real time; the line saying which hours path runs)."""
    flows = [registry.get(name) for name in hotlines]
    if at is not None:
        state = {True: "open hours", False: "closed", None: "no opening hours in the flows"}[is_open(flows, at)]
        return at, f"flows see {_shown(at)} ({state}: --at {at:%Y-%m-%dT%H:%M})"
    open_now = is_open(flows, now)
    if open_now is None:
        return None, f"flows see {_shown(now)} (no opening hours in the flows)"
    if open_now and _stays_open(flows, now):
        return None, f"flows see {_shown(now)} (open hours)"
    start = next_open(flows, now)
    if start is None:
        return None, f"flows see {_shown(now)} (closed: the flows open at no time in the next {SEARCH_DAYS} days)"
    return start, f"flows see {_shown(start)} (open hours; it is {_shown(now)} here: --at sets another time)"
