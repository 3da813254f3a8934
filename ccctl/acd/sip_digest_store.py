"""Agents' SIP digests in the database: where Kamailio checks a phone's REGISTER (the view kamailio_subscriber).

`ccctl agents passwd` keeps the same a1-hash here as in freeswitch.agents_credentials, so a new
password counts at Kamailio with its next REGISTER, without a render or a reload.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ccctl.errors import UserError
from ccctl.records.database import make_engine
from ccctl.records.models.acd import Agent
from ccctl.records.models.base import utc_now
from ccctl.records.models.sip_front import AgentSipDigest


def save_agent_digest(url: str, extension: str, domain: str, a1: str) -> None:
    """Set (or replace) the digest of the agent on `extension`."""
    engine = make_engine(url)
    try:
        with Session(engine) as session, session.begin():
            agent_id = session.scalar(select(Agent.id).where(Agent.extension == extension))
            if agent_id is None:
                raise UserError(f"no agent on extension {extension} (ccctl agents add)")
            session.merge(AgentSipDigest(agent_id=agent_id, domain=domain, a1_hash=a1, changed_at=utc_now()))
    finally:
        engine.dispose()
