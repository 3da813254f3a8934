"""Agents whose phones registered through a FreeSWITCH node that stopped answering leave routing until it is back.

Without a SIP front a phone is reachable only through the node it registered with: while that node is
down, offering its agents a caller would ring nowhere. With Kamailio as the registrar (sip_front) any live
node reaches every phone, so nothing changes there.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ccctl.records.models.acd import AcdAlarm, Agent, QueueEvent

AVAILABLE, ON_BREAK = "available", "on_break"


def pause_agents(session: Session, extensions: list[str], node: str, now: datetime) -> list[str]:
    """The available agents with these extensions go on break (the status history and an alarm row name the
    node); returns their names, to be set back once the node answers again."""
    if not extensions:
        return []
    found = session.scalars(select(Agent).where(Agent.extension.in_(extensions), Agent.status == AVAILABLE))
    names = []
    for agent in found:
        _set(session, agent, ON_BREAK, now)
        session.add(AcdAlarm(at=now, kind="status", agent_id=agent.id, detail=f"on_break: FreeSWITCH node {node} lost",
                             cleared_at=now))  # fmt: skip
        names.append(agent.name)
    return names


def resume_agents(session: Session, names: list[str], now: datetime) -> list[str]:
    """Those of `names` still on the break their node's loss gave them are available again."""
    if not names:
        return []
    found = session.scalars(select(Agent).where(Agent.name.in_(names), Agent.status == ON_BREAK))
    back = []
    for agent in found:
        _set(session, agent, AVAILABLE, now)
        agent.no_answer_count = 0
        back.append(agent.name)
    return back


def _set(session: Session, agent: Agent, status: str, now: datetime) -> None:
    agent.status = status
    session.add(QueueEvent(at=now, queue="", call_uuid="", kind=f"agent_{status}", agent_id=agent.id))
    if agent.state not in ("in_call", "reserved"):
        agent.state, agent.state_since = "idle", now
