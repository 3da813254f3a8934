"""AcdEngine.snapshot(): queues (waiting contacts by channel, agents by state, today's figures) and agents (with
their open chats and tasks), for the wallboard.

A handful of queries whatever the number of callers; times are seconds relative to `now`.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ccctl.acd import model, store
from ccctl.records.models.acd import Agent, QueueEntry, QueueEvent


def build_snapshot(session: Session, now: datetime) -> dict[str, Any]:
    queues = store.load_queues(session)
    agents = session.scalars(select(Agent).order_by(Agent.name)).all()
    skills_of = _agent_skills(session)
    entries = session.scalars(select(QueueEntry).where(QueueEntry.status.in_((model.WAITING, model.OFFERED)))).all()
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    today = session.scalars(select(QueueEvent).where(QueueEvent.at >= midnight, QueueEvent.at <= now)).all()
    talking = select(QueueEntry).where(QueueEntry.status == model.BRIDGED, QueueEntry.channel == model.VOICE)
    active = {e.agent_id: e for e in session.scalars(talking)}
    queue_rows = []
    for name, rules in sorted(queues.items()):
        waiting = sorted((e for e in entries if e.queue == name), key=lambda e: (-e.priority, e.entered_at, e.id))
        members = [a for a in agents if all(skills_of.get(a.id, {}).get(s, 0) >= 1 for s in rules.skills)]
        queue_rows.append(
            {
                "name": name,
                "waiting": [
                    {
                        "call_uuid": e.call_uuid,
                        "wait_seconds": _age(now, e.entered_at),
                        "priority": e.priority,
                        "channel": e.channel,
                    }
                    for e in waiting
                ],
                "waiting_by_channel": dict(Counter(e.channel for e in waiting if e.status == model.WAITING)),
                "longest_wait_seconds": max((_age(now, e.entered_at) for e in waiting), default=0.0),
                "agents_by_state": dict(
                    Counter(store.shown_state(a, now) for a in members if a.status != "logged_out")
                ),
                **_today_figures([ev for ev in today if ev.queue == name], rules.service_level_seconds),
            }
        )
    agent_rows = [
        {
            "name": a.name,
            "extension": a.extension,
            "status": a.status,
            "state": store.shown_state(a, now),
            "seconds_in_state": _age(now, a.state_since) if a.state_since else 0.0,
            "call_uuid": active[a.id].call_uuid if a.id in active else None,
            "patient_id": active[a.id].patient_id if a.id in active else None,
            "chats_open": a.chats_open,
            "tasks_open": a.tasks_open,
        }
        for a in agents
    ]
    return {"queues": queue_rows, "agents": agent_rows}


def _agent_skills(session: Session) -> dict[int, dict[str, int]]:
    from ccctl.records.models.acd import AgentSkill, Skill

    found: dict[int, dict[str, int]] = {}
    for agent_id, name, level in session.execute(select(AgentSkill.agent_id, Skill.name, AgentSkill.level).join(Skill)):
        found.setdefault(agent_id, {})[name] = level
    return found


def _age(now: datetime, since: datetime) -> float:
    return round(max(0.0, (now - since).total_seconds()), 1)


def _today_figures(events: list[QueueEvent], target_seconds: float) -> dict[str, Any]:
    entered = {e.call_uuid: e.at for e in events if e.kind == "entered"}
    answered = [e for e in events if e.kind == "answered"]
    abandoned = sum(1 for e in events if e.kind == "abandoned")
    by_channel = Counter(e.channel for e in answered)
    within = sum(1 for e in answered if e.call_uuid in entered and (e.at - entered[e.call_uuid]).total_seconds()
                 <= target_seconds)  # fmt: skip
    counted = len(answered) + abandoned
    return {
        "service_level_today": round(within / counted, 3) if counted else None,
        "abandoned_today": abandoned,
        "answered_today": len(answered),
        "answered_today_by_channel": dict(by_channel),
    }
