"""An emulated site with the ACD: one test hotline whose flow queues the caller, agents on simulated phones.

Builds on emulated_site.EmulatedSite; queues and agents go into the real database like `ccctl queues add` does.
"""

from __future__ import annotations

import dataclasses
import time

import gevent
from emulated_site import EmulatedSite, site_settings
from sqlalchemy import select
from sqlalchemy.orm import Session

from ccctl.acd.agents import add_agent, add_queue, set_status
from ccctl.records.database import make_engine
from ccctl.records.models.acd import AcdAlarm, Agent, QueueEntry, QueueEvent
from ccctl.serve.controller import build_flow_registry
from ccctl.sim.originate import AgentEndpoint

FLOW = """\
flow: main
description: ACD test hotline
language: en
start: hello
nodes:
  hello:
    type: play
    prompt: "say:Hello"
    next: to_agent
  to_agent:
    type: queue
    skill: cardio
    priority: {priority}
    on_failure: bye
  bye:
    type: hangup
    prompt: "say:Nobody could take your call"
"""


def acd_settings(db_url: str, tmp_path, priority: int = 0):
    flows = tmp_path / "flows"
    flows.mkdir(exist_ok=True)
    (flows / "main.yaml").write_text(FLOW.format(priority=priority))
    settings = site_settings(db_url, tmp_path, flows_dir=str(flows))
    return dataclasses.replace(settings, acd=dataclasses.replace(settings.acd, router_tick_seconds=0.05))


class AcdSite(EmulatedSite):
    """EmulatedSite whose controller runs the ACD; `phones` are the agents' simulated endpoints by extension."""

    def __init__(self, settings, phones: dict[str, AgentEndpoint], time_factor: float = 50.0) -> None:
        super().__init__(settings, registry=build_flow_registry(settings), time_factor=time_factor)
        self.switch.agents.update(phones)
        self.switch.default_agent = None

    def __exit__(self, *exc) -> None:
        super().__exit__(*exc)
        self.registry.services.close()


def add_agents(url: str, agents: dict[str, tuple[str, str]]) -> None:
    """{name: (extension, skills text)}, all logged in Available."""
    from ccctl.acd.agents import parse_skills

    for name, (extension, skills) in agents.items():
        add_agent(url, name, extension, parse_skills(skills))
        set_status(url, name, "Available")


def queue(url: str, name: str = "cardio", strategy: str = "longest-idle-agent", **settings) -> None:
    base = {"announce_every_seconds": 0, "wrapup_seconds": 0.2, "callback_key": ""}
    skills = settings.pop("skills", {"cardio": 1})
    add_queue(url, name, strategy, skills, {**base, **settings})


def events(url: str, with_times: bool = False) -> list[tuple]:
    """(call uuid, kind, agent name[, at]) in the order they happened."""
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            names = {a.id: a.name for a in session.scalars(select(Agent))}
            calls_only = QueueEvent.call_uuid != ""  # agents' status changes are not call events
            rows = session.scalars(select(QueueEvent).where(calls_only).order_by(QueueEvent.at, QueueEvent.id))
            if with_times:
                return [(r.call_uuid, r.kind, names.get(r.agent_id), r.at) for r in rows]
            return [(r.call_uuid, r.kind, names.get(r.agent_id)) for r in rows]
    finally:
        engine.dispose()


def alarms(url: str) -> list[AcdAlarm]:
    engine = make_engine(url)
    try:
        with Session(engine, expire_on_commit=False) as session:
            return list(session.scalars(select(AcdAlarm).where(AcdAlarm.cleared_at.is_(None))))
    finally:
        engine.dispose()


def entries(url: str) -> dict[str, str]:
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            return {e.call_uuid: e.status for e in session.scalars(select(QueueEntry))}
    finally:
        engine.dispose()


def agent_rows(url: str) -> dict[str, Agent]:
    engine = make_engine(url)
    try:
        with Session(engine, expire_on_commit=False) as session:
            return {a.name: a for a in session.scalars(select(Agent))}
    finally:
        engine.dispose()


def recording_rows(url: str) -> list[tuple]:
    from ccctl.records.models.media import Recording

    engine = make_engine(url)
    try:
        with Session(engine) as session:
            return [(r.call_uuid, r.path, r.agent_name, r.queue) for r in session.scalars(select(Recording))]
    finally:
        engine.dispose()


def set_counters(url: str, name: str, idle_since, last_offered_at, calls: int, talk: int) -> None:
    """What strategies look at, as if the agent had worked a while."""
    engine = make_engine(url)
    try:
        with Session(engine) as session, session.begin():
            agent = session.scalar(select(Agent).where(Agent.name == name))
            agent.last_call_ended_at, agent.last_offered_at = idle_since, last_offered_at
            agent.calls_answered, agent.talk_seconds = calls, talk
    finally:
        engine.dispose()


def wait_until(condition, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        gevent.sleep(0.02)
    return True
