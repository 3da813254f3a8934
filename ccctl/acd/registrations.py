"""Agents' phones as FreeSWITCH registers them: sofia::register gives the contact and the node it came
through, unregister and expire clear them.

The contact is kept as a dial string (sofia/<profile>/sip:<user>@<host>:<port>) in agents.contact; the node
(its esl.nodes name) in agents.registered_node with when the registration lapses, so `ccctl agents status`
and the command-line tools (`monitor`, `transfer`) know where a phone is whichever controller saw it.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from ccctl.records.models.acd import Agent

_SIP_URI = re.compile(r"<?(sips?:[^>;\s]+)")
_FORGOTTEN = {"registered_node": "", "registered_at": None, "registration_expires_at": None}


def contact_dial_string(profile: str, contact: str) -> str:
    """`"1001" <sip:1001@10.0.0.5:5060;ob>` on profile internal -> sofia/internal/sip:1001@10.0.0.5:5060."""
    match = _SIP_URI.search(contact or "")
    if not match or not profile or "/" in profile:
        return ""
    return f"sofia/{profile}/{match.group(1)}"


def expires_seconds(text: str | None) -> int:
    """sofia::register's `expires` header as seconds; 0 for a missing or malformed one."""
    return int(text) if text and text.isdigit() else 0


def learn_registration(
    session: Session, user: str, dial_string: str, node: str, now: datetime, expires: int = 0
) -> int:
    """The phone of the agent whose extension is `user` registered through `node` (`dial_string` set, lapsing
    `expires` seconds from `now`, 0: unknown), or unregistered or expired there (""): then it is forgotten,
    unless it registered through another node since. Rows changed."""
    extension = Agent.extension == user
    if dial_string:
        values = {
            "contact": dial_string,
            "registered_node": node,
            "registered_at": now,
            "registration_expires_at": now + timedelta(seconds=expires) if expires > 0 else None,
        }
        return session.execute(update(Agent).where(extension).values(**values)).rowcount
    here = or_(Agent.registered_node == node, Agent.registered_node == "")
    return session.execute(update(Agent).where(extension, here).values(contact="", **_FORGOTTEN)).rowcount


def _current(now: datetime):
    """A registration seen and not yet lapsed (one without a lapse time lasts until it is cleared)."""
    return Agent.contact != "", or_(Agent.registration_expires_at.is_(None), Agent.registration_expires_at > now)


def registered_through(session: Session, node: str, now: datetime) -> list[str]:
    """The extensions whose phones are registered through `node` now."""
    query = select(Agent.extension).where(Agent.registered_node == node, *_current(now)).order_by(Agent.extension)
    return list(session.scalars(query))


def forget_node(session: Session, node: str) -> int:
    """`node` was lost: no agent is shown registered through it any more (their contacts stay, for when
    they register again). Rows changed."""
    if not node:
        return 0
    return session.execute(update(Agent).where(Agent.registered_node == node).values(**_FORGOTTEN)).rowcount


def shown_node(agent: Agent, now: datetime) -> str:
    """The node an agent's phone is registered through now; "" when none is known or it lapsed."""
    lapses = agent.registration_expires_at
    if not agent.contact or (lapses is not None and lapses <= now):
        return ""
    return agent.registered_node


def agent_registration_node(session: Session, agent: str, now: datetime) -> str:
    """The node the phone of the agent named (by name or extension) is registered through now, or ""."""
    row = session.scalar(select(Agent).where(or_(Agent.name == agent, Agent.extension == agent)).limit(1))
    return shown_node(row, now) if row is not None else ""
