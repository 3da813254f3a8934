"""`ccctl bench acd`: routing decision latency, ccctl's event-driven router vs a mod_callcenter-style poller.

Same database for both (a fresh SQLite file): `agents` agents with a few of `skills` skills each,
one queue per skill, `waiting` callers in line and every agent busy. An event frees one agent;
the latency is from that commit to the decision (the agent reserved for a caller).
- ccctl: the freed agent wakes the router, which runs one pass (AcdEngine.route_once:
  three reads, a plan in memory, one compare-and-set claim).
- reference: what mod_callcenter does: every 100 ms, for each waiting caller in order, one SQL
  join of agents and their skills for the caller's queue; the first free match is reserved.
"""

from __future__ import annotations

import random
import statistics
import tempfile
import threading
import time
import uuid
from datetime import timedelta
from pathlib import Path

from sqlalchemy import delete, select, text, update
from sqlalchemy.orm import Session

from ccctl.acd.agents import add_queue
from ccctl.acd.engine import AcdEngine
from ccctl.records.database import make_engine
from ccctl.records.migrate import upgrade
from ccctl.records.models import Agent, AgentSkill, Skill, utc_now
from ccctl.records.models_acd import QueueEntry

POLL_SECONDS = 0.1  # mod_callcenter's queue thread pace
REFERENCE_PICK = text(
    """
    SELECT a.id FROM agents a
      JOIN agent_skills s ON s.agent_id = a.id
      JOIN queue_skills q ON q.skill_id = s.skill_id AND s.level >= q.min_level
      JOIN queues qu ON qu.id = q.queue_id
     WHERE qu.name = :queue AND a.status = 'available' AND a.state = 'idle'
     ORDER BY a.last_call_ended_at LIMIT 1
    """
)


def _percentiles(ms: list[float]) -> dict:
    ordered = sorted(ms)
    pick = lambda pct: round(ordered[min(len(ordered) - 1, int(pct / 100 * len(ordered)))], 3)  # noqa: E731
    return {
        "events": len(ordered),
        "p50_ms": pick(50),
        "p99_ms": pick(99),
        "mean_ms": round(statistics.mean(ordered), 3),
    }


def build_site(url: str, agents: int, skills: int, rng: random.Random) -> list[str]:
    """Skills, one queue per skill, every agent logged in but busy; the queue names."""
    upgrade(url)
    queues = [f"q{n:02d}" for n in range(skills)]
    engine = make_engine(url)
    try:
        with Session(engine) as db, db.begin():
            rows = [Skill(name=f"skill{n:02d}") for n in range(skills)]
            db.add_all(rows)
            db.flush()
            now = utc_now()
            for n in range(agents):
                agent = Agent(
                    name=f"agent{n:04d}", extension=str(10000 + n), status="available", state="in_call", state_since=now
                )
                db.add(agent)
                db.flush()
                for skill in rng.sample(rows, k=min(4, skills)):
                    db.add(AgentSkill(agent_id=agent.id, skill_id=skill.id, level=rng.randint(1, 10)))
    finally:
        engine.dispose()
    for n, name in enumerate(queues):
        add_queue(url, name, "longest-idle-agent", {f"skill{n:02d}": 1}, {})
    return queues


def _free_one(db: Session, agent_ids: list[int], rng: random.Random) -> int:
    agent_id = rng.choice(agent_ids)
    now = utc_now()
    db.execute(update(Agent).where(Agent.id == agent_id).values(state="idle", last_call_ended_at=now, state_since=now))
    db.commit()
    return agent_id


def _busy_again(db: Session, queues: list[str], owner: str, rng: random.Random) -> None:
    """Every agent busy, the served caller replaced: the line stays `waiting` long."""
    db.execute(update(Agent).values(state="in_call", reserved_until=None, reserved_entry_id=None))
    served = db.scalars(select(QueueEntry.id).where(QueueEntry.status != "waiting")).all()
    if served:
        db.execute(delete(QueueEntry).where(QueueEntry.id.in_(served)))
    for _ in served:
        db.add(QueueEntry(queue=rng.choice(queues), call_uuid=str(uuid.uuid4()), owner=owner))
    db.commit()


def _fill_line(url: str, queues: list[str], waiting: int, owner: str, rng: random.Random) -> None:
    engine = make_engine(url)
    try:
        with Session(engine) as db, db.begin():
            start = utc_now() - timedelta(minutes=5)
            for n in range(waiting):
                db.add(
                    QueueEntry(
                        queue=rng.choice(queues),
                        call_uuid=str(uuid.uuid4()),
                        owner=owner,
                        priority=rng.choice((0, 0, 0, 5)),
                        entered_at=start + timedelta(seconds=n),
                    )
                )
    finally:
        engine.dispose()


def run_ccctl(url: str, queues: list[str], waiting: int, events: int, seed: int) -> dict:
    rng = random.Random(seed)
    acd = AcdEngine(url, rng=random.Random(seed))
    _fill_line(url, queues, waiting, acd.instance_id, rng)
    engine = make_engine(url)
    latencies = []
    try:
        with Session(engine) as db:
            agent_ids = db.scalars(select(Agent.id)).all()
            for _ in range(events):
                _free_one(db, agent_ids, rng)
                started = time.perf_counter()
                made = acd.route_once()
                if made:
                    latencies.append((time.perf_counter() - started) * 1000)
                _busy_again(db, queues, acd.instance_id, rng)
    finally:
        engine.dispose()
        acd.stop()
    return _percentiles(latencies)


class PollingReference:
    """mod_callcenter's way: a thread polls every 100 ms and queries once per waiting caller."""

    def __init__(self, url: str) -> None:
        self.engine = make_engine(url)
        self.decided = threading.Event()
        self.stop = threading.Event()
        self.queries_per_pass: list[int] = []

    def run(self) -> None:
        while not self.stop.is_set():
            tick = time.perf_counter()
            with Session(self.engine) as db:
                callers = db.execute(
                    select(QueueEntry.id, QueueEntry.queue)
                    .where(QueueEntry.status == "waiting")
                    .order_by(QueueEntry.priority.desc(), QueueEntry.entered_at)
                ).all()
                queries = 0
                for entry_id, queue in callers:
                    queries += 1
                    agent_id = db.scalar(REFERENCE_PICK, {"queue": queue})
                    if agent_id is None:
                        continue
                    db.execute(update(Agent).where(Agent.id == agent_id).values(state="reserved"))
                    db.execute(update(QueueEntry).where(QueueEntry.id == entry_id).values(status="offered"))
                    db.commit()
                    self.decided.set()
                self.queries_per_pass.append(queries)
            self.stop.wait(max(0.0, POLL_SECONDS - (time.perf_counter() - tick)))


def run_reference(url: str, queues: list[str], waiting: int, events: int, seed: int) -> dict:
    rng = random.Random(seed)
    _fill_line(url, queues, waiting, "reference", rng)
    reference = PollingReference(url)
    poller = threading.Thread(target=reference.run, daemon=True)
    poller.start()
    engine = make_engine(url)
    latencies = []
    try:
        with Session(engine) as db:
            agent_ids = db.scalars(select(Agent.id)).all()
            for _ in range(events):
                reference.decided.clear()
                _free_one(db, agent_ids, rng)
                started = time.perf_counter()
                if reference.decided.wait(5):
                    latencies.append((time.perf_counter() - started) * 1000)
                _busy_again(db, queues, "reference", rng)
                time.sleep(rng.uniform(0, POLL_SECONDS))  # events land anywhere in the poll cycle
    finally:
        reference.stop.set()
        poller.join()
        engine.dispose()
        reference.engine.dispose()
    result = _percentiles(latencies)
    result["queries_per_pass"] = round(statistics.mean(reference.queries_per_pass), 1)
    return result


def run(agents: int = 500, skills: int = 20, waiting: int = 200, events: int = 100, seed: int = 1) -> dict:
    results = {"agents": agents, "skills": skills, "waiting": waiting}
    with tempfile.TemporaryDirectory(prefix="bench-acd-") as tmp:
        for name, runner in (("ccctl", run_ccctl), ("reference", run_reference)):
            url = f"sqlite:///{Path(tmp) / f'{name}.db'}"
            queues = build_site(url, agents, skills, random.Random(seed))
            results[name] = runner(url, queues, waiting, events, seed)
    results["speedup_p99"] = round(results["reference"]["p99_ms"] / max(results["ccctl"]["p99_ms"], 1e-9), 1)
    return results
