"""The demo's ACD: one queue per skill the shipped main hotline asks for, and agents logged in to take them.

Seeded once into the demo database (`ccctl demo`); the emulator's default agent phone answers for every agent.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ccctl.acd.agents import add_agent, add_queue, set_status
from ccctl.records.database import make_engine
from ccctl.records.models.acd import Agent, Queue

DEMO_SKILLS = (
    "registration",
    "cardiology",
    "pediatrics",
    "specialist",
    "results",
    "follow_up",
    "complaints",
    "operator",
)
DEMO_AGENT_COUNT = 12
# real seconds: the ACD's clock is the wall clock even when the emulator runs faster
DEMO_QUEUE_SETTINGS = {"wrapup_seconds": 1, "max_wait_seconds": 120, "announce_every_seconds": 30}


def seed_demo_acd(url: str) -> int:
    """Add the demo queues and agents that are missing and log every demo agent in; how many agents take calls.

    An agent someone logged out or sent on a break in an earlier run comes back: the demo's traffic is
    sized to DEMO_AGENT_COUNT agents.
    """
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            queues = set(session.scalars(select(Queue.name)))
            agents = set(session.scalars(select(Agent.name)))
    finally:
        engine.dispose()
    for skill in DEMO_SKILLS:
        if skill not in queues:
            add_queue(url, skill, "longest-idle-agent", {skill: 1}, dict(DEMO_QUEUE_SETTINGS))
    for n in range(1, DEMO_AGENT_COUNT + 1):
        name = f"agent{n:02d}"
        if name not in agents:
            # every demo agent takes every queue, the first four at a higher level
            add_agent(url, name, f"{1000 + n}", {skill: 5 if n <= 4 else 2 for skill in DEMO_SKILLS})
        set_status(url, name, "Available")
    return DEMO_AGENT_COUNT
