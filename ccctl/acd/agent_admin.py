"""Agents and queues as an administrator changes or retires them: edit, disable, enable, remove; each audited.

A departing employee is disabled (kept in the reports, never offered a call, cannot log in) or removed
(gone from the lists; their past queue events keep their id). A queue with callers in it is never
removed under them. Used by `ccctl agents|queues ...` and the admin page; errors name the agent,
queue, key or value at fault.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from ccctl.acd.agents import AgentError, _agent, _in_session, _skill
from ccctl.acd.model import OFFERED, WAITING
from ccctl.acd.queue_rules import build_rules
from ccctl.records.audit import record_audit
from ccctl.records.models.acd import Agent, AgentSkill, Queue, QueueEntry, QueueEvent, QueueSkill, Skill
from ccctl.records.models.base import utc_now

DISABLED = "disabled"  # agents.status of an agent who may not log in or take calls
BUSY_STATES = ("in_call", "reserved")


def extension_range(text: str) -> tuple[int, int, int] | None:
    """`1000-1099` -> (1000, 1099, width); None when the setting is not such a range."""
    low, sep, high = text.strip().partition("-")
    if not (sep and low.isdigit() and high.isdigit()) or int(low) > int(high):
        return None
    return int(low), int(high), len(low)


def check_extension(extension: str, allowed: str) -> None:
    """An agent's extension must be digits inside freeswitch.agent_extensions (fs render makes only those)."""
    if not extension.isdigit():
        raise AgentError(f"extension {extension!r}: digits only, inside freeswitch.agent_extensions ({allowed})")
    span = extension_range(allowed)
    if span and not (span[0] <= int(extension) <= span[1] and len(extension) == span[2]):
        raise AgentError(
            f"extension {extension!r} is outside freeswitch.agent_extensions ({allowed}): "
            "FreeSWITCH has no phone account for it"
        )


def _audit(session: Session, actor: str, action: str, source: str, detail: str) -> None:
    record_audit(session, actor, action, None, source, detail[:500])


def edit_agent(
    url: str,
    name: str,
    actor: str,
    source: str,
    *,
    new_name: str | None = None,
    extension: str | None = None,
    skills: dict[str, int] | None = None,
    contact: str | None = None,
) -> list[str]:
    """Change what is given (skills replace the agent's skills); the names of the fields changed."""

    def work(session: Session) -> list[str]:
        agent = _agent(session, name)
        changed = []
        if new_name is not None and new_name != agent.name:
            if not new_name.strip():
                raise AgentError(f"agent {agent.name!r}: the new name is empty")
            if session.scalar(select(Agent.id).where(Agent.name == new_name)):
                raise AgentError(f"agent {new_name!r} exists already")
            agent.name = new_name
            changed.append("name")
        if extension is not None and extension != agent.extension:
            if session.scalar(select(Agent.name).where(Agent.extension == extension)):
                raise AgentError(f"extension {extension!r} belongs to another agent")
            agent.extension = extension
            changed.append("extension")
        if contact is not None and contact != agent.contact:
            agent.contact = contact
            changed.append("contact")
        current = session.execute(select(AgentSkill.skill_id, AgentSkill.level).where(AgentSkill.agent_id == agent.id))
        if skills is not None and skills != _skill_names(session, {skill_id: level for skill_id, level in current}):
            session.execute(delete(AgentSkill).where(AgentSkill.agent_id == agent.id))
            for skill, level in skills.items():
                session.add(AgentSkill(agent_id=agent.id, skill_id=_skill(session, skill).id, level=level))
            changed.append("skills")
        if changed:
            _audit(session, actor, "agent_edit", source, f"agent {agent.name}: {', '.join(changed)}")
        return changed

    return _in_session(url, work)


def disable_agent(url: str, name: str, actor: str, source: str) -> None:
    """Logged out for good: no calls, no login (phone feature code, console or ccctl) until enabled."""

    def work(session: Session) -> None:
        agent = _agent(session, name)
        if agent.status == DISABLED:
            return
        if agent.state in BUSY_STATES:
            raise AgentError(f"agent {agent.name!r} is {agent.state.replace('_', ' ')}: disable after the call")
        now = utc_now()
        agent.status, agent.state, agent.state_since = DISABLED, "idle", now
        # the status history: the agent's Available time ends here for occupancy
        session.add(QueueEvent(at=now, queue="", call_uuid="", kind="agent_logged_out", agent_id=agent.id))
        _audit(session, actor, "agent_disable", source, f"agent {agent.name}")

    _in_session(url, work)


def enable_agent(url: str, name: str, actor: str, source: str) -> None:
    """Back to Logged Out: the agent may log in again."""

    def work(session: Session) -> None:
        agent = _agent(session, name)
        if agent.status != DISABLED:
            raise AgentError(f"agent {agent.name!r} is not disabled (status {agent.status})")
        agent.status = "logged_out"
        _audit(session, actor, "agent_enable", source, f"agent {agent.name}")

    _in_session(url, work)


def remove_agent(url: str, name: str, actor: str, source: str) -> None:
    """Delete the agent and their skills; refused while they are on a call or being rung."""

    def work(session: Session) -> None:
        agent = _agent(session, name)
        if agent.state in BUSY_STATES:
            raise AgentError(f"agent {agent.name!r} is {agent.state.replace('_', ' ')}: remove after the call")
        session.execute(delete(AgentSkill).where(AgentSkill.agent_id == agent.id))
        session.delete(agent)
        _audit(session, actor, "agent_remove", source, f"agent {agent.name} (extension {agent.extension})")

    _in_session(url, work)


def _queue(session: Session, name: str) -> Queue:
    queue = session.scalar(select(Queue).where(Queue.name == name))
    if queue is None:
        raise AgentError(f"no queue named {name!r} (ccctl queues list)")
    return queue


def edit_queue(
    url: str,
    name: str,
    actor: str,
    source: str,
    *,
    strategy: str | None = None,
    skills: dict[str, int] | None = None,
    settings: dict[str, Any] | None = None,
) -> list[str]:
    """Change the strategy, the required skills (replaced) or some settings, keeping the rest; what changed."""

    def work(session: Session) -> list[str]:
        queue = _queue(session, name)
        old_skills = {
            skill_id: level
            for skill_id, level in session.execute(
                select(QueueSkill.skill_id, QueueSkill.min_level).where(QueueSkill.queue_id == queue.id)
            ).all()
        }
        kept_skills = _skill_names(session, old_skills)
        merged = {**(queue.settings or {}), **(settings or {})}
        rules = build_rules(name, strategy or queue.strategy, kept_skills if skills is None else skills, merged)
        changed = [key for key in (settings or {}) if (queue.settings or {}).get(key) != getattr(rules, key)]
        if strategy is not None and strategy != queue.strategy:
            changed.insert(0, "strategy")
        queue.strategy, queue.settings = rules.strategy, rules.to_settings()
        if skills is not None and skills != kept_skills:
            session.execute(delete(QueueSkill).where(QueueSkill.queue_id == queue.id))
            for skill, level in skills.items():
                session.add(QueueSkill(queue_id=queue.id, skill_id=_skill(session, skill).id, min_level=level))
            changed.append("skills")
        if changed:
            _audit(session, actor, "queue_edit", source, f"queue {name}: {', '.join(changed)}")
        return changed

    return _in_session(url, work)


def _skill_names(session: Session, by_id: dict[int, int]) -> dict[str, int]:
    if not by_id:
        return {}
    rows = session.execute(select(Skill.id, Skill.name).where(Skill.id.in_(by_id))).all()
    return {skill_name: by_id[skill_id] for skill_id, skill_name in rows}


def remove_queue(url: str, name: str, actor: str, source: str) -> None:
    """Delete a queue; refused while callers wait in it or are being offered to an agent, naming how many."""

    def work(session: Session) -> None:
        queue = _queue(session, name)
        waiting = session.scalar(
            select(func.count()).where(QueueEntry.queue == name, QueueEntry.status.in_((WAITING, OFFERED)))
        )
        if waiting:
            callers = "caller is" if waiting == 1 else "callers are"
            raise AgentError(f"queue {name!r}: {waiting} {callers} waiting in it; remove it when it is empty")
        session.execute(delete(QueueSkill).where(QueueSkill.queue_id == queue.id))
        session.delete(queue)
        _audit(session, actor, "queue_remove", source, f"queue {name}")

    _in_session(url, work)
