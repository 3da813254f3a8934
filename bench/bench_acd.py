"""`ccctl bench acd`: routing decision latency, ccctl's event-driven router vs a mod_callcenter-style poller.

Same database for both (a fresh SQLite file): `agents` agents with skills, one queue per skill,
`waiting` callers in line and every agent busy. Two kinds of event, alternating:
- agent freed: one busy agent becomes idle; some waiting caller can take them;
- caller enqueued: an idle agent of the quiet queues (the last QUIET skills, where nobody waits)
  is free, and a new caller joins one of their queues.
The latency is from the event's commit to the decision (the agent reserved for a caller).
With `mixed`, half the line are chats: the agents of the busy queues are in turn voice-only (busy on a call)
or chat desks (phone free, default capacities, three chats open: full), and a third event joins in:
- chat finished: a chat desk closes one chat; a waiting chat can take the place.
- ccctl: the event wakes the router, which runs one pass (AcdEngine.route_once: two reads,
  a plan in memory, one compare-and-set claim).
- reference: what mod_callcenter's agent dispatch thread does (cc_agent_dispatch_thread_run,
  mod_callcenter.c): read the waiting members, for each one in order run one SQL join of agents
  and their tiers for the member's queue, then sleep 100 ms (switch_yield(100000)) and start again.
"""

from __future__ import annotations

import os
import random
import statistics
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

from sqlalchemy import create_engine, delete, make_url, select, text, update
from sqlalchemy.orm import Session

from ccctl.acd.agents import add_queue
from ccctl.acd.engine import AcdEngine
from ccctl.records.database import make_engine
from ccctl.records.migrate import upgrade
from ccctl.records.models.acd import Agent, AgentSkill, QueueEntry, Skill
from ccctl.records.models.base import utc_now
from ccctl.serve.main import freeze_startup_heap

POLL_SECONDS = 0.1  # mod_callcenter's dispatch thread sleeps this long after each pass
QUIET = 4  # the last QUIET skills: nobody waits in their queues, a few agents have only them
QUIET_AGENTS = 20
WARMUP = 10  # events per side not measured: a process's first decisions compile its SQL statements
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
# mixed: the same poller asks per waiting contact for an agent with room on its channel
REFERENCE_PICK_MIXED = {
    "voice": text(str(REFERENCE_PICK).replace("ORDER BY", "AND a.chats_open <= 1 ORDER BY")),
    "chat": text(
        str(REFERENCE_PICK).replace(
            "a.state = 'idle'", "a.state = 'idle' AND a.chats_open < COALESCE(a.chat_capacity, 3)"
        )
    ),
}


def _percentiles(ms: list[float]) -> dict:
    ordered = sorted(ms)
    pick = lambda pct: round(ordered[min(len(ordered) - 1, int(pct / 100 * len(ordered)))], 3)  # noqa: E731
    return {
        "events": len(ordered),
        "p50_ms": pick(50),
        "p99_ms": pick(99),
        "mean_ms": round(statistics.mean(ordered), 3),
    }


def build_site(url: str, agents: int, skills: int, rng: random.Random, mixed: bool = False) -> list[str]:
    """Skills, one queue per skill, every agent logged in but busy; the queue names.

    The first QUIET_AGENTS agents have only quiet skills (the last QUIET): the "caller enqueued" events use them.
    Mixed: the others are in turn voice-only agents on a call and chat desks full of chats (see the top).
    """
    upgrade(url)
    queues = [f"q{n:02d}" for n in range(skills)]
    engine = make_engine(url)
    try:
        with Session(engine) as db, db.begin():
            rows = [Skill(name=f"skill{n:02d}") for n in range(skills)]
            db.add_all(rows)
            db.flush()
            now = utc_now()
            busy_skills, quiet_skills = rows[: skills - QUIET], rows[skills - QUIET :]
            for n in range(agents):
                agent = Agent(
                    name=f"agent{n:04d}", extension=str(10000 + n), status="available", state="in_call", state_since=now
                )
                if mixed and _chat_desk(n):
                    agent.state, agent.chats_open = "idle", CHAT_CAPACITY
                elif mixed:
                    agent.chat_capacity = 0
                db.add(agent)
                db.flush()
                pool = quiet_skills if n < QUIET_AGENTS else busy_skills
                for skill in rng.sample(pool, k=min(2 if n < QUIET_AGENTS else 4, len(pool))):
                    db.add(AgentSkill(agent_id=agent.id, skill_id=skill.id, level=rng.randint(1, 10)))
    finally:
        engine.dispose()
    for n, name in enumerate(queues):
        add_queue(url, name, "longest-idle-agent", {f"skill{n:02d}": 1}, {})
    return queues


CHAT_CAPACITY = 3  # acd.chat_capacity's default, which the chat desks have


def _chat_desk(n: int) -> bool:
    return n >= QUIET_AGENTS and n % 2 == 1


def _busy_queues(queues: list[str]) -> list[str]:
    return queues[: len(queues) - QUIET]


def _free_one(db: Session, agent_ids: list[int], rng: random.Random) -> int:
    agent_id = rng.choice(agent_ids)
    now = utc_now()
    db.execute(update(Agent).where(Agent.id == agent_id).values(state="idle", last_call_ended_at=now, state_since=now))
    db.commit()
    return agent_id


def _quiet_agent_free(db: Session, agent_id: int) -> str:
    """The quiet agent idle (nobody waits for them yet); one of the queues they serve."""
    now = utc_now()
    db.execute(update(Agent).where(Agent.id == agent_id).values(state="idle", last_call_ended_at=now, state_since=now))
    db.commit()
    skill = db.scalar(
        text("SELECT s.name FROM agent_skills a JOIN skills s ON s.id = a.skill_id WHERE a.agent_id = :id LIMIT 1"),
        {"id": agent_id},
    )
    return "q" + skill.removeprefix("skill")


def _settle(db: Session, queues: list[str], owner: str, rng: random.Random) -> None:
    """After a decision: the reserved agent talks (busy), the served caller leaves and, in a busy
    queue, a new caller takes their place, so the line stays `waiting` long. Only those rows change.
    A chat desk's phone stays free: the chat it took filled its place again."""
    phones = update(Agent).where(Agent.state.in_(("reserved", "idle")), Agent.chats_open == 0)
    db.execute(phones.values(state="in_call", reserved_until=None))
    served = db.execute(
        select(QueueEntry.id, QueueEntry.queue, QueueEntry.channel).where(QueueEntry.status != "waiting")
    ).all()
    if served:
        db.execute(delete(QueueEntry).where(QueueEntry.id.in_([entry_id for entry_id, _, _ in served])))
    busy = set(_busy_queues(queues))
    for _, queue, channel in served:
        if queue in busy:
            db.add(_entry(rng.choice(sorted(busy)), owner, channel))
    db.commit()


def _entry(queue: str, owner: str, channel: str = "voice", **values) -> QueueEntry:
    if channel == "chat":
        ref = uuid.uuid4().hex[:24]
        return QueueEntry(queue=queue, call_uuid=f"chat:{ref}", channel="chat", contact_ref=ref, owner=owner, **values)
    return QueueEntry(queue=queue, call_uuid=str(uuid.uuid4()), owner=owner, **values)


def _next_event(db: Session, n: int, agents: dict[str, list[int]], rng: random.Random) -> tuple[str, str]:
    """Events in turn: a busy agent freed ("agent_freed", ""), (mixed) a chat desk closing a chat
    ("chat_finished", ""), or a quiet agent free and the queue a new caller is to join ("caller_enqueued",
    queue): each side enqueues that caller its own way."""
    kinds = (
        ("agent_freed", "chat_finished", "caller_enqueued") if agents["chat"] else ("agent_freed", "caller_enqueued")
    )
    kind = kinds[n % len(kinds)]
    if kind == "agent_freed":
        _free_one(db, agents["busy"], rng)
    elif kind == "chat_finished":
        chat_desk = rng.choice(agents["chat"])
        db.execute(update(Agent).where(Agent.id == chat_desk).values(chats_open=Agent.chats_open - 1))
        db.commit()
    else:
        return kind, _quiet_agent_free(db, rng.choice(agents["quiet"]))
    return kind, ""


def _agent_ids(db: Session, mixed: bool = False) -> dict[str, list[int]]:
    """The agents of the busy queues on a call ("busy"), the chat desks ("chat", mixed only), the quiet ones."""
    ids = db.scalars(select(Agent.id).order_by(Agent.id)).all()
    chat = [agent_id for n, agent_id in enumerate(ids) if mixed and _chat_desk(n)]
    busy = [agent_id for agent_id in ids[QUIET_AGENTS:] if agent_id not in set(chat)]
    return {"busy": busy, "chat": chat, "quiet": ids[:QUIET_AGENTS]}


def _summary(latencies: dict[str, list[float]]) -> dict:
    result = _percentiles([ms for values in latencies.values() for ms in values])
    for kind, values in latencies.items():
        result[kind] = _percentiles(values) if values else {"events": 0}
    return result


def _fill_line(url: str, queues: list[str], waiting: int, owner: str, rng: random.Random, mixed: bool = False) -> None:
    engine = make_engine(url)
    try:
        with Session(engine) as db, db.begin():
            start = utc_now() - timedelta(minutes=5)
            for n in range(waiting):
                channel = "chat" if mixed and n % 2 else "voice"
                values = {"priority": rng.choice((0, 0, 0, 5)), "entered_at": start + timedelta(seconds=n)}
                db.add(_entry(rng.choice(queues), owner, channel, **values))
    finally:
        engine.dispose()


def _kinds(mixed: bool) -> dict[str, list[float]]:
    kinds = ("agent_freed", "chat_finished", "caller_enqueued") if mixed else ("agent_freed", "caller_enqueued")
    return {kind: [] for kind in kinds}


def run_ccctl(url: str, queues: list[str], waiting: int, events: int, seed: int, mixed: bool = False) -> dict:
    rng = random.Random(seed)
    acd = AcdEngine(url, rng=random.Random(seed))
    _fill_line(url, _busy_queues(queues), waiting, acd.instance_id, rng, mixed)
    acd.contacts.queued = mixed  # the line's chats are the rows queue_contact writes
    engine = make_engine(url)
    latencies = _kinds(mixed)
    try:
        with Session(engine) as db:
            agents = _agent_ids(db, mixed)
            acd.route_once()
            freeze_startup_heap()  # as `ccctl serve` does once started
            for n in range(WARMUP + events):
                kind, queue = _next_event(db, n, agents, rng)
                if queue:
                    acd.route_once()  # the freed quiet agent wakes the router: nobody to take yet
                    acd.enqueue(queue, str(uuid.uuid4()), 0, None)
                started = time.perf_counter()  # the event is committed; the router is woken
                made = acd.route_once()
                if made and n >= WARMUP:
                    latencies[kind].append((time.perf_counter() - started) * 1000)
                _settle(db, queues, acd.instance_id, rng)
    finally:
        engine.dispose()
        acd.stop()
    return _summary(latencies)


class PollingReference:
    """mod_callcenter's agent dispatch thread: a pass with one query per waiting caller, then 100 ms of sleep."""

    def __init__(self, url: str, mixed: bool = False) -> None:
        self.engine = make_engine(url)
        self.mixed = mixed
        self.decided = threading.Event()
        self.stop = threading.Event()
        self.queries_per_pass: list[int] = []
        self.pass_ms: list[float] = []

    def run(self) -> None:
        while not self.stop.is_set():
            tick = time.perf_counter()
            with Session(self.engine) as db:
                callers = db.execute(
                    select(QueueEntry.id, QueueEntry.queue, QueueEntry.channel)
                    .where(QueueEntry.status == "waiting")
                    .order_by(QueueEntry.priority.desc(), QueueEntry.entered_at)
                ).all()
                queries = 0
                for entry_id, queue, channel in callers:
                    queries += 1
                    pick = REFERENCE_PICK_MIXED[channel] if self.mixed else REFERENCE_PICK
                    agent_id = db.scalar(pick, {"queue": queue})
                    if agent_id is None:
                        continue
                    taken = {"chats_open": Agent.chats_open + 1} if channel == "chat" else {"state": "reserved"}
                    db.execute(update(Agent).where(Agent.id == agent_id).values(**taken))
                    db.execute(update(QueueEntry).where(QueueEntry.id == entry_id).values(status="offered"))
                    db.commit()
                    self.decided.set()
                self.queries_per_pass.append(queries)
            self.pass_ms.append((time.perf_counter() - tick) * 1000)
            self.stop.wait(POLL_SECONDS)  # switch_yield(100000)


def run_reference(url: str, queues: list[str], waiting: int, events: int, seed: int, mixed: bool = False) -> dict:
    rng = random.Random(seed)
    _fill_line(url, _busy_queues(queues), waiting, "reference", rng, mixed)
    reference = PollingReference(url, mixed)
    poller = threading.Thread(target=reference.run, daemon=True)
    poller.start()
    engine = make_engine(url)
    latencies = _kinds(mixed)
    try:
        with Session(engine) as db:
            agents = _agent_ids(db, mixed)
            for n in range(WARMUP + events):
                reference.decided.clear()
                kind, queue = _next_event(db, n, agents, rng)
                if queue:
                    db.add(QueueEntry(queue=queue, call_uuid=str(uuid.uuid4()), owner="reference"))
                    db.commit()
                started = time.perf_counter()
                if reference.decided.wait(5) and n >= WARMUP:
                    latencies[kind].append((time.perf_counter() - started) * 1000)
                _settle(db, queues, "reference", rng)
                time.sleep(rng.uniform(0, POLL_SECONDS))  # events land anywhere in the poll cycle
    finally:
        reference.stop.set()
        poller.join()
        engine.dispose()
        reference.engine.dispose()
    result = _summary(latencies)
    result["queries_per_pass"] = round(statistics.mean(reference.queries_per_pass), 1)
    result["pass_ms"] = round(statistics.mean(reference.pass_ms), 1)
    return result


@contextmanager
def scratch_database(server_url: str, name: str, tmp: str) -> Iterator[str]:
    """A fresh database per side: a SQLite file, or on a PostgreSQL server a database created and dropped here."""
    if not server_url:
        yield f"sqlite:///{Path(tmp) / f'{name}.db'}"
        return
    url = make_url(server_url)
    if url.get_backend_name() != "postgresql":
        raise ValueError(f"bench acd --database: {url.get_backend_name()} is not PostgreSQL (SQLite is the default)")
    database = f"ccctl_bench_acd_{name}_{os.getpid()}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{database}"'))
        yield url.set(database=database).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        admin.dispose()


def run(
    agents: int = 500,
    skills: int = 20,
    waiting: int = 200,
    events: int = 300,
    seed: int = 1,
    database: str = "",
    mixed: bool = False,
) -> dict:
    """Both sides, one fresh database each: SQLite files, or databases on the PostgreSQL server `database`;
    `mixed`: calls and chats (see the top)."""
    if skills <= QUIET or agents <= QUIET_AGENTS:
        raise ValueError(f"bench acd needs more than {QUIET} skills and more than {QUIET_AGENTS} agents")
    results = {
        "agents": agents,
        "skills": skills,
        "waiting": waiting,
        "database": "postgresql" if database else "sqlite",
        "mixed": mixed,
    }
    with tempfile.TemporaryDirectory(prefix="bench-acd-") as tmp:
        for name, runner in (("ccctl", run_ccctl), ("reference", run_reference)):
            with scratch_database(database, name, tmp) as url:
                queues = build_site(url, agents, skills, random.Random(seed), mixed)
                results[name] = runner(url, queues, waiting, events, seed, mixed)
    for pct in ("p50", "p99"):
        ours = max(results["ccctl"][f"{pct}_ms"], 1e-9)
        results[f"speedup_{pct}"] = round(results["reference"][f"{pct}_ms"] / ours, 1)
    return results
