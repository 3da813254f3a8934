"""Alarms of the wallboard: thresholds from settings checked against the live status and the ACD snapshot.

Logic without sockets: evaluate() takes plain dicts; AlarmBoard logs each alarm once when it starts and when it ends,
and hands a starting alarm to its notifier (ccctl/web/alarm_notify.py: the supervisor on duty by e-mail or SMS).
"""

from __future__ import annotations

import logging
import math
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from ccctl.config import AlarmThresholds
from ccctl.records.models.acd import AcdAlarm, Agent
from ccctl.web.words import translator

log = logging.getLogger("ccctl.alarms")


@dataclass(frozen=True)
class Alarm:
    """An alarm is a code with its parameters; each viewer reads it in their language (words.py: alarm_<code>)."""

    kind: str  # esl_lost, node_lost, gateway_down, controller_lost, database, disk_low, caller_waiting, queue_full, service_level, agent_no_answer, recording_archive
    subject: str  # what it is about: a queue, an agent, a path ("" for the whole system)
    code: str  # its words: alarm_<code> in ccctl/web/words.py
    params: dict[str, str] = field(default_factory=dict)  # the words' {names}; never patient data

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.subject}"

    @property
    def text(self) -> str:
        """One English line, for the log."""
        return alarm_text(self.code, self.params, translator("en"))

    def as_dict(self) -> dict:
        return {**asdict(self), "text": self.text}


def alarm_text(code: str, params: dict[str, str], t: Callable[[str], str]) -> str:
    """The alarm's line in t's language; an unknown code (a row written by a newer ccctl) shows its parameters."""
    key = f"alarm_{code}"
    words = t(key)
    try:
        if words != key:
            return words.format(**params)
    except (KeyError, IndexError, ValueError):
        pass
    return f"{code}: {', '.join(f'{name} {value}' for name, value in params.items())}"


def disk_free_percent(path: str) -> float | None:
    """Free space of the file system holding `path` (or its nearest existing parent), None if unknown."""
    folder = Path(path).resolve()
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    try:
        usage = shutil.disk_usage(folder)
    except OSError:
        return None
    return 100.0 * usage.free / usage.total if usage.total else None


def _alarm(kind: str, subject: str, code: str = "", **params: object) -> Alarm:
    return Alarm(kind, subject, code or kind, {name: str(value) for name, value in params.items()})


def _queue_alarms(queue: dict, limits: AlarmThresholds) -> list[Alarm]:
    name = queue.get("name", "?")
    alarms = []
    waits = [w.get("wait_seconds", 0) for w in queue.get("waiting", [])]
    if waits and max(waits) > limits.caller_wait_seconds:
        wait = math.ceil(max(waits))
        alarms.append(_alarm("caller_waiting", name, queue=name, seconds=wait, limit=limits.caller_wait_seconds))
    if len(waits) >= limits.queue_full_callers:
        alarms.append(_alarm("queue_full", name, queue=name, callers=len(waits), limit=limits.queue_full_callers))
    level = queue.get("service_level_today")
    if level is not None and level < limits.service_level_target:
        target = f"{limits.service_level_target * 100:.0f}"
        alarms.append(_alarm("service_level", name, queue=name, level=f"{level * 100:.0f}", target=target))
    return alarms


def _link_alarms(status: dict) -> list[Alarm]:
    inbound = status.get("esl", {}).get("inbound", {})
    nodes = status.get("esl", {}).get("nodes") or []
    if len(nodes) > 1:  # several switches: each one not connected is its own alarm, naming it
        return [
            _alarm(
                "node_lost",
                node.get("name", ""),
                node=node.get("name"),
                address=node.get("address", ""),
                status=node.get("status"),
            )
            for node in nodes
            if node.get("status") != "connected"
        ]
    if inbound.get("status") not in ("connected", "disabled", None):
        return [_alarm("esl_lost", "", address=inbound.get("address", ""), status=inbound.get("status"))]
    return []


def evaluate(status: dict, acd: dict | None, limits: AlarmThresholds, disk_free: float | None) -> list[Alarm]:
    """The alarms the data shows now (an ACD snapshot per the ACD contract, or None when no ACD runs)."""
    alarms = _link_alarms(status)
    under = f"{limits.disk_free_percent}"
    if disk_free is not None and disk_free < limits.disk_free_percent:
        path = limits.disk_path
        alarms.append(_alarm("disk_low", path, path=path, free=f"{disk_free:.1f}", limit=under))
    for queue in (acd or {}).get("queues", []):
        alarms.extend(_queue_alarms(queue, limits))
    for agent in (acd or {}).get("agents", []):
        # the ACD may count offers an agent let ring out; alarm once the count reaches the limit
        missed = agent.get("no_answer_count", 0) or 0
        if missed >= limits.agent_max_no_answer:
            alarms.append(_alarm("agent_no_answer", agent.get("name", "?"), agent=agent.get("name"), missed=missed))
    for name, folder in (status.get("storage") or {}).items():
        free = folder.get("free_percent")
        if free is not None and free < limits.disk_free_percent:
            path = folder.get("path", "")
            alarms.append(
                _alarm("disk_low", path, "folder_low", folder=name, path=path, free=f"{free:.1f}", limit=under)
            )
    database = status.get("database") or {}
    if database.get("status") == "unreachable":
        alarms.append(_alarm("database", "", error=database.get("last_error", "")))
    for row in status.get("controllers") or []:
        if row.get("health") == "silent":
            instance = row.get("instance", "")
            alarms.append(_alarm("controller_lost", instance, instance=instance, seconds=row.get("seen_seconds_ago")))
    for name, gateway in (status.get("gateways") or {}).items():
        if gateway.get("status") == "down":
            alarms.append(_alarm("gateway_down", name, gateway=name, error=gateway.get("last_error", "")))
    archive = status.get("recordings_archive") or {}
    if archive.get("failing"):
        alarms.append(_alarm("recording_archive", "", error=archive.get("last_error", "")))
    return alarms


def stored_acd_alarms(db: Session) -> list[Alarm]:
    """The ACD's own uncleared alarms (acd_alarms: an agent benched after missed offers, a full queue...).

    A row is its kind, queue and agent; its English detail is shown only for a kind without words of its own.
    """
    rows = db.execute(
        select(AcdAlarm.kind, AcdAlarm.queue, AcdAlarm.detail, Agent.name)
        .outerjoin(Agent, Agent.id == AcdAlarm.agent_id)
        .where(AcdAlarm.cleared_at.is_(None), AcdAlarm.kind != "status")
        .order_by(AcdAlarm.at)
        .limit(50)
    )
    alarms = []
    for kind, queue, detail, agent in rows:
        if kind == "agent_no_answer" and agent:
            alarms.append(_alarm(kind, agent, "agent_on_break", agent=agent, queue=queue or "-"))
            continue
        about = " ".join(
            part for part in (f"queue {queue}" if queue else "", f"agent {agent}" if agent else "") if part
        )
        alarms.append(_alarm(kind, agent or queue or "", "acd", about=about or "ACD", detail=detail or kind))
    return alarms


class AlarmBoard:
    """The alarms now active; each is logged as a warning when it starts and at info level when it ends."""

    def __init__(
        self,
        limits: AlarmThresholds,
        notify: Callable[[Alarm], object] | None = None,
        gateways: Callable[[], dict] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limits = limits
        # called once for each alarm that has lasted notify_after_seconds (a blip at start-up tells nobody)
        self._notify = notify
        self._clock = clock
        self._since: dict[str, float] = {}
        self._notified: set[str] = set()
        self._gateways = gateways  # the watched gateways' last state (ccctl.web.alarm_notify.GatewayWatch)
        self._active: dict[str, Alarm] = {}

    def update(self, status: dict, acd: dict | None, stored: list[Alarm] = ()) -> list[Alarm]:
        """Alarms from the thresholds plus `stored` ones (the ACD's), each key once; logs the changes."""
        if self._gateways is not None:
            status = {**status, "gateways": self._gateways()}
        alarms = evaluate(status, acd, self.limits, disk_free_percent(self.limits.disk_path))
        now = {a.key: a for a in [*alarms, *stored]}
        at = self._clock()
        for key, alarm in now.items():
            if key not in self._active:
                log.warning("alarm: %s", alarm.text)
                self._since[key] = at
            lasted = at - self._since.get(key, at) >= self.limits.notify_after_seconds
            if self._notify is not None and key not in self._notified and lasted:
                self._notified.add(key)
                self._notify(alarm)
        for key, alarm in self._active.items():
            if key not in now:
                log.info("alarm cleared: %s", alarm.text)
                self._since.pop(key, None)
                self._notified.discard(key)
        self._active = now
        return list(now.values())
