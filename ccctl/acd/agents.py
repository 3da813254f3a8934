"""Agents and queues as an administrator changes them: add, log in/out, breaks, skills, queue definitions.

Used by `ccctl agents ...` / `ccctl queues ...` and the web workstation; errors name the agent, queue or value.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from ccctl.acd.queue_rules import build_rules
from ccctl.acd.registrations import shown_node
from ccctl.acd.store import shown_state
from ccctl.errors import UserError
from ccctl.records.database import make_engine, sqlite_file
from ccctl.records.models.acd import AcdAlarm, Agent, AgentSkill, Queue, QueueEvent, QueueSkill, Skill
from ccctl.records.models.base import utc_now

STATUSES = {"available": "available", "on break": "on_break", "on_break": "on_break", "logged out": "logged_out",
            "logged_out": "logged_out", "break": "on_break"}  # fmt: skip


class AgentError(UserError, ValueError):
    """An agent or queue command cannot be done; str() names the agent, queue, key or value at fault."""


@dataclass
class AgentRow:
    name: str
    extension: str
    status: str
    state: str
    skills: dict[str, int]
    contact: str
    node: str = ""  # the switch node the phone is registered through now ("" unknown or none)


def _in_session(url: str, work):
    engine = make_engine(url)
    try:
        with Session(engine) as session, session.begin():
            return work(session)
    finally:
        engine.dispose()


def _skill(session: Session, name: str) -> Skill:
    skill = session.scalar(select(Skill).where(Skill.name == name))
    if skill is None:
        skill = Skill(name=name)
        session.add(skill)
        session.flush()
    return skill


def parse_skills(text: str) -> dict[str, int]:
    """`cardio:5,spanish` -> {cardio: 5, spanish: 1}; AgentError names the item at fault."""
    skills: dict[str, int] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, _, level = item.partition(":")
        if not name or (level and not level.isdigit()) or (level and not 1 <= int(level) <= 10):
            raise AgentError(f"skill {item!r}: write name or name:level with a level from 1 to 10")
        skills[name.strip().lower()] = int(level or 1)
    return skills


def add_agent(url: str, name: str, extension: str, skills: dict[str, int], contact: str = "") -> None:
    def work(session: Session) -> None:
        if session.scalar(select(Agent).where((Agent.name == name) | (Agent.extension == extension))):
            raise AgentError(f"agent {name!r} or extension {extension!r} exists already")
        agent = Agent(name=name, extension=extension, contact=contact, state_since=utc_now())
        session.add(agent)
        session.flush()
        for skill, level in skills.items():
            session.add(AgentSkill(agent_id=agent.id, skill_id=_skill(session, skill).id, level=level))

    _in_session(url, work)


def _agent(session: Session, name: str) -> Agent:
    agent = session.scalar(select(Agent).where((Agent.name == name) | (Agent.extension == name)))
    if agent is None:
        raise AgentError(f"no agent named {name!r} (ccctl agents add)")
    return agent


def agent_extension(url: str, name: str) -> str:
    """The SIP extension of the agent named (or numbered) `name`."""
    return _in_session(url, lambda session: _agent(session, name).extension)


def set_status(url: str, agent_name: str, status: str, reason: str = "") -> None:
    """Available / On Break / Logged Out; logging in or back from a break clears the missed-call count."""
    wanted = STATUSES.get(status.strip().lower())
    if wanted is None:
        raise AgentError(f"status {status!r} is not Available, On Break or Logged Out")

    def work(session: Session) -> None:
        agent = _agent(session, agent_name)
        if agent.status == "disabled":  # ccctl.acd.agent_admin: a departed agent logs in nowhere
            raise AgentError(f"agent {agent.name!r} is disabled (ccctl agents enable {agent.name})")
        now = utc_now()
        if agent.status != wanted:
            agent.status = wanted
            # the status history: occupancy in `ccctl report kpi` is handle time over time Available
            session.add(QueueEvent(at=now, queue="", call_uuid="", kind=f"agent_{wanted}", agent_id=agent.id))
            if agent.state not in ("in_call", "reserved"):
                agent.state, agent.state_since = "idle", now
        if wanted == "available":
            agent.no_answer_count = 0
        if reason:
            session.add(AcdAlarm(at=now, kind="status", agent_id=agent.id, detail=f"{wanted}: {reason}"[:500],
                                 cleared_at=now))  # fmt: skip

    _in_session(url, work)


CAPACITY_COLUMNS = {"voice": "voice_capacity", "chat": "chat_capacity", "task": "task_capacity"}


def parse_capacity(channel: str, text: str) -> int | None:
    """`3` -> 3, `default` -> None (the acd setting); AgentError names the channel and value."""
    if text.strip().lower() == "default":
        return None
    if not text.strip().isdigit() or int(text) > 50 or (channel == "voice" and int(text) > 1):
        most = 1 if channel == "voice" else 50
        raise AgentError(f"--{channel} {text!r}: write a number from 0 to {most}, or default")
    return int(text)


def set_capacity(url: str, agent_name: str, changes: dict[str, int | None]) -> tuple[dict[str, int | None], int, int]:
    """Change the agent's own capacity per channel (None: back to the setting); their capacities as now
    stored, and their open chats and tasks."""

    def work(session: Session) -> tuple[dict[str, int | None], int, int]:
        agent = _agent(session, agent_name)
        for channel, value in changes.items():
            setattr(agent, CAPACITY_COLUMNS[channel], value)
        own = {channel: getattr(agent, column) for channel, column in CAPACITY_COLUMNS.items()}
        return own, agent.chats_open, agent.tasks_open

    return _in_session(url, work)


def list_agents(url: str) -> list[AgentRow]:
    def work(session: Session) -> list[AgentRow]:
        skills: dict[int, dict[str, int]] = {}
        for agent_id, skill, level in session.execute(
            select(AgentSkill.agent_id, Skill.name, AgentSkill.level).join(Skill)
        ):
            skills.setdefault(agent_id, {})[skill] = level
        agents = session.scalars(select(Agent).order_by(Agent.name))
        now = utc_now()
        return [
            AgentRow(
                a.name, a.extension, a.status, shown_state(a, now), skills.get(a.id, {}), a.contact, shown_node(a, now)
            )
            for a in agents
        ]

    return _in_session(url, work)


def add_queue(url: str, name: str, strategy: str, skills: dict[str, int], settings: dict[str, Any]) -> None:
    """Create or replace a queue; the settings are checked before anything is written."""
    rules = build_rules(name, strategy, skills, settings)

    def work(session: Session) -> None:
        queue = session.scalar(select(Queue).where(Queue.name == name))
        if queue is None:
            queue = Queue(name=name)
            session.add(queue)
        queue.strategy, queue.settings = rules.strategy, rules.to_settings()
        session.flush()
        for old in session.scalars(select(QueueSkill).where(QueueSkill.queue_id == queue.id)):
            session.delete(old)
        session.flush()
        for skill, level in skills.items():
            session.add(QueueSkill(queue_id=queue.id, skill_id=_skill(session, skill).id, min_level=level))

    _in_session(url, work)


def queue_names(url: str) -> set[str] | None:
    """The queues in the database; None when there is none to ask (a SQLite file not made yet, no connection,
    no tables): `flow check` then checks queue nodes against the demo's queues."""
    path = sqlite_file(url)
    if path is not None and not path.is_file():
        return None
    try:
        return set(_in_session(url, lambda session: list(session.scalars(select(Queue.name)))))
    except (SQLAlchemyError, UserError):
        return None
