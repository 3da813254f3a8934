"""When the hotline opens next, read from the flow's own opening-hours branch node.

A `branch` node such as main.yaml's `opening_hours` says where a call goes at each moment; the hotline is
open while its first rule that holds (rules without `when`) leads elsewhere than its `default`. The answer
can only change at a rule's span start or end, or at midnight, so only those moments are tried.
"""

from __future__ import annotations

import datetime as dt

from ccctl.ivr.nodes.branch import BranchNode

LOOK_AHEAD_DAYS = 14


def open_at(hours: BranchNode, calendar, at: dt.datetime) -> bool:
    for rule in hours.rules:
        if rule.when is None and rule.holds_at(calendar, at):
            return rule.next != hours.values.get("default")
    return False


def next_opening(hours: BranchNode, calendar, now: dt.datetime) -> dt.datetime | None:
    """`now` when open, else the first moment within LOOK_AHEAD_DAYS it opens (None: it does not).
    Times are the flow clock's (naive local time, as the branch node reads them)."""
    if open_at(hours, calendar, now):
        return now
    times = {start for rule in hours.rules for span in rule.spans for start in span} | {dt.time(0, 0)}
    for offset in range(LOOK_AHEAD_DAYS + 1):
        day = now.date() + dt.timedelta(days=offset)
        for moment in sorted(times):
            candidate = dt.datetime.combine(day, moment, tzinfo=now.tzinfo)
            if candidate > now and open_at(hours, calendar, candidate):
                return candidate
    return None
