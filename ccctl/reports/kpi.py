"""`ccctl report kpi`: offered, answered, abandoned, ASA, service level, AHT, callback rate, time to callback,
FCR, occupancy, and the callers who hung up in the IVR before reaching a queue.

Computed from queue_events (every queue timestamp is there) and, for the IVR hang-ups, the calls table;
the definitions are in docs/acd.md.
"""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from ccctl.acd.model import CHANNELS
from ccctl.acd.store import load_queues
from ccctl.errors import UserError
from ccctl.records.models.acd import QueueEvent
from ccctl.records.models.base import utc_now
from ccctl.records.models.calls import Call

AGENT_STATUS_KINDS = ("agent_available", "agent_on_break", "agent_logged_out")
# a callback is done when the ACD reached the caller or staff marked it called back by hand
CALLBACK_DONE_KINDS = ("callback_made", "callback_done")


@dataclass
class KpiReport:
    since: str
    until: str
    queue: str  # "" = every queue
    offered: int = 0
    answered: int = 0
    abandoned: int = 0
    abandonment_rate: float | None = None
    asa_seconds: float | None = None  # average speed of answer
    service_level: float | None = None  # answered within the queue's target / (answered + abandoned)
    aht_seconds: float | None = None  # talk + wrap-up
    callback_rate: float | None = None
    callback_seconds: float | None = None  # from asking for a callback to being called back, on average
    fcr_rate: float | None = None  # answered patients not queueing again (same queue) within fcr_days
    occupancy: float | None = None  # handle time / time Available
    channel: str = ""  # voice, chat or task; "" = every channel
    ivr_hangups: int | None = None  # callers who hung up before reaching a queue (all queues' calls only)


class UnknownQueue(UserError, LookupError):
    """A report asked for a queue that does not exist."""


def _ratio(part: float, whole: float) -> float | None:
    return round(part / whole, 4) if whole else None


def _mean(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 2) if values else None


def compute_kpis(
    session: Session,
    since: datetime,
    until: datetime,
    queue: str = "",
    fcr_days: int = 7,
    now: datetime | None = None,
    channel: str = "",
) -> KpiReport:
    """The KPIs of contacts (of one channel, or all) that entered a queue in [since, until); agents' time
    counts up to `now` at most."""
    targets = {name: rules.service_level_seconds for name, rules in load_queues(session).items()}
    if queue and queue not in targets:
        known = ", ".join(sorted(targets)) or "none"
        raise UnknownQueue(f"no queue named {queue!r} (queues: {known})")
    # from a day before: an agent Available since before the period counts from the period's start
    query = (
        select(QueueEvent)
        .where(QueueEvent.at >= since - timedelta(days=1), QueueEvent.at < until + timedelta(days=fcr_days))
        .order_by(QueueEvent.at, QueueEvent.id)
    )
    rows = list(session.scalars(query))
    calls: dict[str, dict[str, QueueEvent]] = defaultdict(dict)
    for event in rows:
        if event.call_uuid:
            calls[event.call_uuid].setdefault(event.kind, event)
    mine = {
        uuid: kinds
        for uuid, kinds in calls.items()
        if "entered" in kinds
        and since <= kinds["entered"].at < until
        and (not queue or kinds["entered"].queue == queue)
        and (not channel or kinds["entered"].channel == channel)
    }
    report = KpiReport(since.isoformat(), until.isoformat(), queue, offered=len(mine), channel=channel)
    answered = [k for k in mine.values() if "answered" in k]
    report.answered = len(answered)
    report.abandoned = sum(1 for k in mine.values() if "abandoned" in k)
    report.abandonment_rate = _ratio(report.abandoned, report.offered)
    waits = [(k["answered"].at - k["entered"].at).total_seconds() for k in answered]
    report.asa_seconds = _mean(waits)
    within = sum(1 for k, wait in zip(answered, waits, strict=True) if wait <= targets.get(k["entered"].queue, 20.0))
    report.service_level = _ratio(within, report.answered + report.abandoned)
    handled = [_handle_seconds(k) for k in answered if "ended" in k]
    report.aht_seconds = _mean(handled)
    report.callback_rate = _ratio(sum(1 for k in mine.values() if "callback_requested" in k), report.offered)
    report.callback_seconds = _mean([_callback_seconds(k) for k in mine.values() if _called_back(k)])
    if not queue and channel in ("", "voice"):
        report.ivr_hangups = _ivr_hangups(session, since, until)
    report.fcr_rate = _first_call_resolution(answered, rows, fcr_days)
    # an agent logged in now is not Available in the rest of a period that has not happened yet
    report.occupancy = _occupancy(rows, answered, since, min(until, now or utc_now()))
    return report


def compute_queue_kpis(
    session: Session, since: datetime, until: datetime, fcr_days: int = 7, now: datetime | None = None
) -> list[KpiReport]:
    """Every queue's KPIs by name, then each channel's over all queues when the period saw more than one
    channel (calls and chats), then all queues together (queue "", channel "")."""
    names = sorted(load_queues(session))
    reports = [compute_kpis(session, since, until, name, fcr_days, now) for name in names]
    channels = session.scalars(
        select(QueueEvent.channel)
        .where(QueueEvent.kind == "entered", QueueEvent.at >= since, QueueEvent.at < until)
        .distinct()
    ).all()
    if len(channels) > 1:
        order = {name: n for n, name in enumerate(CHANNELS)}
        for channel in sorted(channels, key=lambda name: order.get(name, len(order))):
            reports.append(compute_kpis(session, since, until, "", fcr_days, now, channel))
    return [*reports, compute_kpis(session, since, until, "", fcr_days, now)]


def _called_back(kinds: dict[str, QueueEvent]) -> bool:
    return "callback_requested" in kinds and any(kind in kinds for kind in CALLBACK_DONE_KINDS)


def _callback_seconds(kinds: dict[str, QueueEvent]) -> float:
    done = min(kinds[kind].at for kind in CALLBACK_DONE_KINDS if kind in kinds)
    return (done - kinds["callback_requested"].at).total_seconds()


def _ivr_hangups(session: Session, since: datetime, until: datetime) -> int:
    """Calls that started in the period and ended by the caller hanging up with no queue event: in the IVR."""
    queued = exists().where(QueueEvent.call_uuid == Call.uuid)
    query = select(func.count(Call.id)).where(
        Call.started_at >= since, Call.started_at < until, Call.disposition == "abandoned", ~queued
    )
    return int(session.scalar(query) or 0)


def _handle_seconds(kinds: dict[str, QueueEvent]) -> float:
    talk = (kinds["ended"].at - kinds["answered"].at).total_seconds()
    wrap = (kinds["wrapup_end"].at - kinds["ended"].at).total_seconds() if "wrapup_end" in kinds else 0.0
    return talk + wrap


def _first_call_resolution(answered: list[dict], rows: list[QueueEvent], days: int) -> float | None:
    """Share of answered calls (with a known patient) after which that patient did not queue again, same queue."""
    entries = [e for e in rows if e.kind == "entered" and e.patient_id is not None]
    known = [k for k in answered if k["entered"].patient_id is not None]
    resolved = 0
    for kinds in known:
        first = kinds["entered"]
        again = any(
            e.patient_id == first.patient_id
            and e.queue == first.queue
            and e.call_uuid != first.call_uuid
            and first.at < e.at <= first.at + timedelta(days=days)
            for e in entries
        )
        resolved += not again
    return _ratio(resolved, len(known))


def _occupancy(rows: list[QueueEvent], answered: list[dict], since: datetime, until: datetime) -> float | None:
    """Talk + wrap-up of the period's answered calls over the agents' Available time in the period
    (`until`: the period's end, or now if that is earlier)."""
    available = 0.0
    opened: dict[int, datetime] = {}
    for event in rows:
        if event.kind not in AGENT_STATUS_KINDS or event.agent_id is None:
            continue
        start = opened.pop(event.agent_id, None)
        if start is not None:
            available += max(0.0, (min(event.at, until) - max(start, since)).total_seconds())
        if event.kind == "agent_available":
            opened[event.agent_id] = event.at
    for start in opened.values():
        available += max(0.0, (until - max(start, since)).total_seconds())
    busy = sum(_handle_seconds(k) for k in answered if "ended" in k)
    return _ratio(busy, available)


def format_kpis(report: KpiReport, fmt: str = "text") -> str:
    data = asdict(report)
    if fmt == "json":
        return json.dumps(data, indent=2)
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(data.keys())
        writer.writerow("" if v is None else v for v in data.values())
        return out.getvalue()
    width = max(len(k) for k in data)
    return "\n".join(f"{k.ljust(width)}  {'-' if v is None else v}" for k, v in data.items())
