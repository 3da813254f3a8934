"""How long a queued caller can expect to wait: what the callback offer tells them, so they can choose.

The estimate is the simple one callers are used to: the callers ahead of them and they, times the
queue's recent average handle time, shared among the agents logged in who can take the queue's
calls. No estimate (nothing said) when nobody is logged in or the queue handled no call lately.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ccctl.acd.queue_rules import QueueRules
from ccctl.records.models.acd import Agent, AgentSkill, QueueEvent, Skill

RECENT_HOURS = 8  # the handle times that speak for the queue now
HANDLED_KINDS = ("answered", "ended", "wrapup_end")


def expected_wait_seconds(session: Session, rules: QueueRules, position: int, now: datetime) -> float | None:
    handle = _average_handle_seconds(session, rules.name, now - timedelta(hours=RECENT_HOURS))
    agents = _agents_logged_in(session, rules.skills)
    if handle is None or not agents or position < 1:
        return None
    return position * handle / agents


def expected_wait_minutes(seconds: float | None) -> int | None:
    """Whole minutes, rounded up (a caller told "about 2 minutes" should not wait 3)."""
    return None if seconds is None else max(1, math.ceil(seconds / 60))


def _average_handle_seconds(session: Session, queue: str, since: datetime) -> float | None:
    rows = session.execute(
        select(QueueEvent.call_uuid, QueueEvent.kind, QueueEvent.at).where(
            QueueEvent.queue == queue, QueueEvent.at >= since, QueueEvent.kind.in_(HANDLED_KINDS)
        )
    ).all()
    by_call: dict[str, dict[str, datetime]] = {}
    for call_uuid, kind, at in rows:
        by_call.setdefault(call_uuid, {}).setdefault(kind, at)
    handled = [
        ((kinds.get("wrapup_end") or kinds["ended"]) - kinds["answered"]).total_seconds()
        for kinds in by_call.values()
        if "answered" in kinds and "ended" in kinds
    ]
    return sum(handled) / len(handled) if handled else None


def _agents_logged_in(session: Session, skills: dict[str, int]) -> int:
    """Agents Available (idle or busy) with every skill the queue needs at its level."""
    rows = session.execute(
        select(Agent.id, Skill.name, AgentSkill.level)
        .join(AgentSkill, AgentSkill.agent_id == Agent.id, isouter=True)
        .join(Skill, Skill.id == AgentSkill.skill_id, isouter=True)
        .where(Agent.status == "available")
    ).all()
    levels: dict[int, dict[str, int]] = {}
    for agent_id, skill, level in rows:
        levels.setdefault(agent_id, {})
        if skill is not None:
            levels[agent_id][skill] = level
    return sum(1 for held in levels.values() if all(held.get(s, 0) >= need for s, need in skills.items()))
