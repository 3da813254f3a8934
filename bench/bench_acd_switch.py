"""`ccctl bench acd`, second part: agent freed -> `bridge` executed at the switch, through the emulator.

The decision bench stops at the claim. Here the whole way is timed on one controller with the ACD and
the emulator in the same process: callers wait in a queue on a long hold prompt, every agent is busy;
an agent is freed (committed, the router woken as the controller does when wrap-up ends) and the clock
stops when the emulator starts the `bridge` application on a caller's channel: router pass, claim,
`uuid_break` of the hold prompt, the caller's greenlet sending record_session, the call variables and
`bridge`. Only ccctl: the mod_callcenter-style reference has no switch side to compare.
"""

from __future__ import annotations

import dataclasses
import secrets
import tempfile
import time
from pathlib import Path

import gevent
from gevent.event import Event as Flag
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ccctl.acd.agents import add_queue
from ccctl.config import load_settings
from ccctl.records.database import make_engine
from ccctl.records.migrate import upgrade
from ccctl.records.models.acd import Agent, AgentSkill, Skill
from ccctl.records.models.base import utc_now
from ccctl.sim.callers import CallerScript
from ccctl.sim.originate import AgentEndpoint

FLOW = """\
flow: main
description: bench acd through the switch
language: en
start: to_agent
nodes:
  to_agent:
    type: queue
    skill: line
    on_failure: bye
  bye:
    type: hangup
"""
HOLD_PROMPT = "silence_stream://36000000"  # ten emulated hours: only the router's uuid_break ends it


class BridgeWatch:
    """An in-process listener on the emulator's event bus: when `bridge` starts on a channel."""

    myevents, channel = False, None

    def __init__(self) -> None:
        self.started: list[float] = []
        self.flag = Flag()

    def wants(self, name: str) -> bool:
        return name == "CHANNEL_EXECUTE"

    def accepts(self, event) -> bool:
        return event.name == "CHANNEL_EXECUTE" and event.get("Application") == "bridge"

    def deliver(self, event) -> None:
        self.started.append(time.perf_counter())
        self.flag.set()


def _site_database(url: str, agents: int) -> list[int]:
    """One queue `line`, `agents` agents with its skill, all busy (in_call); their ids."""
    upgrade(url)
    engine = make_engine(url)
    try:
        with Session(engine) as db, db.begin():
            skill = Skill(name="line")
            db.add(skill)
            db.flush()
            now = utc_now()
            for n in range(agents):
                agent = Agent(name=f"a{n:04d}", extension=str(20000 + n), status="available", state="in_call")
                agent.state_since = now
                db.add(agent)
                db.flush()
                db.add(AgentSkill(agent_id=agent.id, skill_id=skill.id, level=5))
        with Session(engine) as db:
            ids = db.scalars(select(Agent.id).order_by(Agent.id)).all()
    finally:
        engine.dispose()
    settings = {"hold_prompt": HOLD_PROMPT, "announce_every_seconds": 0, "callback_key": ""}
    add_queue(url, "line", "longest-idle-agent", {"line": 1}, {**settings, "max_wait_seconds": 36000})
    return ids


def run(callers: int = 50, events: int = 100, warmup: int = 5) -> dict:
    from bench.bench_acd import _percentiles
    from ccctl.local_site.site import start_local_site
    from ccctl.serve.controller import build_flow_registry
    from ccctl.serve.main import freeze_startup_heap

    callers = max(callers, events + warmup + 5)  # the line never runs dry
    agents = events + warmup + 5
    with tempfile.TemporaryDirectory(prefix="bench-acd-switch-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'ccctl.db'}"
        ids = _site_database(url, agents)
        flows = Path(tmp) / "flows"
        flows.mkdir()
        (flows / "main.yaml").write_text(FLOW)
        base = load_settings("ccctl.yaml", environ={})
        settings = dataclasses.replace(
            base,
            database=dataclasses.replace(base.database, url=url),
            esl=dataclasses.replace(base.esl, outbound_port=0, inbound_port=0),
            web=dataclasses.replace(base.web, port=0, secret_key=secrets.token_hex(16)),  # nothing kept in var/
            flows_dir=str(flows),
            recordings_dir=str(Path(tmp) / "recordings"),
        )
        site = start_local_site(settings, build_flow_registry(settings), agent=AgentEndpoint(answer_after=0.5))
        watch = BridgeWatch()
        site.switch.bus.add(watch)
        engine = make_engine(url)
        latencies: list[float] = []
        try:
            for n in range(callers):
                site.switch.place_call(CallerScript(f"1390000{n:04d}", "7000", [], context="public"))
            acd = site.controller.acd
            deadline = time.monotonic() + 60
            while len(acd.snapshot()["queues"][0]["waiting"]) < callers and time.monotonic() < deadline:
                gevent.sleep(0.05)
            gevent.sleep(0.5)  # every caller is into the hold prompt
            freeze_startup_heap()
            with Session(engine) as db:
                for n in range(warmup + events):
                    watch.flag.clear()
                    before = len(watch.started)
                    now = utc_now()
                    db.execute(update(Agent).where(Agent.id == ids[n]).values(state="idle", state_since=now))
                    db.commit()
                    started = time.perf_counter()
                    acd.wake()  # what the controller does when a wrap-up ends or a call is settled
                    if watch.flag.wait(5) and len(watch.started) > before and n >= warmup:
                        latencies.append((watch.started[before] - started) * 1000)
                    gevent.sleep(0.02)  # the bridge settles; the next caller is back on the prompt
        finally:
            engine.dispose()
            site.controller.stop(grace=0)
            site.switch.stop()
    return _percentiles(latencies) if latencies else {"events": 0}
