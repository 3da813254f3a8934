"""Routing with several controller processes on one PostgreSQL: decision latency and throughput for 1, 2, 4...

Each process is a real OS process with its own AcdEngine (as each `ccctl serve` has), its own share of the
waiting callers and the same agents as all the others. The agents are all talking; in a loop each process
ends one talk (an agent freed, possibly one another process then takes), times one routing pass
(`route_once`: read, plan, compare-and-set claims), puts the agent it got into a talk and a new caller in
line in place of the one served. Throughput is the claims made per second by all processes together; a
claim lost to another process counts as a pass without a decision.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, delete, select, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parents[1]


@contextmanager
def scratch_database(server_url: str, name: str) -> Iterator[str]:
    """A database created on the PostgreSQL server for one run, and dropped after it."""
    url = make_url(server_url)
    if url.get_backend_name() != "postgresql":
        raise ValueError(f"bench acd --processes: {url.get_backend_name()} is not PostgreSQL (--database URL)")
    database = f"ccctl_bench_procs_{name}_{os.getpid()}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{database}"'))
        yield url.set(database=database).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        admin.dispose()


def build_site(url: str, agents: int, skills: int, seed: int) -> None:
    """One queue per skill; every agent has three skills and is talking (state in_call)."""
    from ccctl.acd.agents import add_queue
    from ccctl.records.migrate import upgrade
    from ccctl.records.models.acd import Agent, AgentSkill, Skill

    upgrade(url)
    rng = random.Random(seed)
    for n in range(skills):
        add_queue(url, f"q{n}", "longest-idle-agent", {f"s{n}": 1}, {"no_answer_timeout": 20})
    engine = create_engine(url)
    with Session(engine) as session, session.begin():
        ids = {name: id_ for id_, name in session.execute(select(Skill.id, Skill.name))}
        for n in range(agents):
            agent = Agent(name=f"agent{n}", extension=f"{10000 + n}", status="available", state="in_call")
            session.add(agent)
            session.flush()
            for skill in rng.sample(range(skills), 3):
                session.add(AgentSkill(agent_id=agent.id, skill_id=ids[f"s{skill}"], level=1 + rng.randrange(3)))
    engine.dispose()


def reset(url: str) -> None:
    """Nobody in line, every agent talking: the state each run starts from."""
    from ccctl.records.models.acd import Agent, QueueEntry, QueueEvent

    engine = create_engine(url)
    with Session(engine) as session, session.begin():
        session.execute(delete(QueueEvent))
        session.execute(delete(QueueEntry))
        session.execute(update(Agent).values(state="in_call", reserved_until=None, reserved_entry_id=None))
    engine.dispose()


def worker(url: str, skills: int, waiting: int, seconds: float, seed: int) -> dict:
    """One controller's router: its callers in line, then pass after pass until `seconds` are over."""
    from ccctl.acd.engine import AcdEngine
    from ccctl.config import AcdSettings
    from ccctl.records.models.acd import Agent, QueueEntry

    rng = random.Random(seed)
    acd = AcdEngine(url, AcdSettings())
    for n in range(waiting):
        acd.enqueue(f"q{rng.randrange(skills)}", f"{seed}-{n}", 0, None)
    served = waiting
    latencies, claims, passes = [], 0, 0

    def end_one_talk(session: Session) -> None:
        busy = session.scalars(select(Agent.id).where(Agent.state == "in_call").limit(50)).all()
        if busy:
            agent_id = rng.choice(busy)
            session.execute(update(Agent).where(Agent.id == agent_id, Agent.state == "in_call").values(state="idle"))

    def talk(session: Session, entry_ids: list[int], agent_ids: list[int]) -> None:
        session.execute(update(QueueEntry).where(QueueEntry.id.in_(entry_ids)).values(status="done"))
        session.execute(update(Agent).where(Agent.id.in_(agent_ids)).values(state="in_call", reserved_entry_id=None))

    print("ready", flush=True)  # then all start together, when the parent says go
    sys.stdin.readline()
    ends = time.monotonic() + seconds
    while time.monotonic() < ends:
        acd.in_db(end_one_talk)
        began = time.perf_counter()
        made = acd.route_once()
        latencies.append((time.perf_counter() - began) * 1000)
        passes += 1
        if made:
            claims += len(made)
            acd.in_db(
                lambda session, made=made: talk(
                    session, [m.entry_id for m in made], [a.agent_id for m in made for a in m.agents]
                )
            )
            for _ in made:
                acd.enqueue(f"q{rng.randrange(skills)}", f"{seed}-{served}", 0, None)
                served += 1
            for m in made:
                acd.offer_for(m.entry_id)
    acd.stop()
    return {"latencies_ms": latencies, "claims": claims, "passes": passes}


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(len(ordered) * pct))], 2) if ordered else 0.0


def run_processes(url: str, processes: int, skills: int, waiting: int, seconds: float) -> dict:
    command = [sys.executable, "-m", "bench.bench_acd_processes", "worker", url, str(skills)]
    share = max(1, waiting // processes)
    workers = [
        subprocess.Popen(
            [*command, str(share), str(seconds), str(n + 1)],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for n in range(processes)
    ]
    for w in workers:  # each has its callers in line and its engine up
        if w.stdout.readline().strip() != "ready":
            raise RuntimeError("bench acd --processes: a router process failed before it started")
    for w in workers:
        w.stdin.write("go\n")
        w.stdin.flush()
    results = [json.loads(w.communicate(timeout=seconds + 120)[0]) for w in workers]
    latencies = [ms for r in results for ms in r["latencies_ms"]]
    claims = sum(r["claims"] for r in results)
    return {
        "processes": processes,
        "passes": len(latencies),
        "claims": claims,
        "claims_per_s": round(claims / seconds, 1),
        "p50_ms": percentile(latencies, 0.5),
        "p99_ms": percentile(latencies, 0.99),
    }


def run(
    database: str,
    processes: list[int],
    agents: int = 500,
    skills: int = 20,
    waiting: int = 200,
    seconds: float = 10.0,
    seed: int = 1,
) -> dict:
    """Each count of processes in turn on one fresh database on the PostgreSQL server `database`, the line
    and the agents set back between runs."""
    if not database:
        raise ValueError("bench acd --processes needs --database postgresql://... (several processes share it)")
    rows = []
    with scratch_database(database, "runs") as url:
        build_site(url, agents, skills, seed)
        for count in processes:
            reset(url)
            rows.append(run_processes(url, count, skills, waiting, seconds))
    return {"agents": agents, "skills": skills, "waiting": waiting, "seconds": seconds, "runs": rows}


def format_result(result: dict) -> str:
    lines = [
        f"acd on postgresql with several processes: {result['agents']} agents, {result['skills']} skills, "
        f"{result['waiting']} callers in line, {result['seconds']:g} s per run",
        f"{'processes':>9} {'passes':>7} {'claims':>7} {'claims/s':>9} {'p50 ms':>7} {'p99 ms':>7}",
    ]
    for row in result["runs"]:
        lines.append(
            f"{row['processes']:>9} {row['passes']:>7} {row['claims']:>7} {row['claims_per_s']:>9} "
            f"{row['p50_ms']:>7} {row['p99_ms']:>7}"
        )
    return "\n".join(lines)


if __name__ == "__main__" and sys.argv[1:2] == ["worker"]:
    url, skills, waiting, seconds, seed = sys.argv[2:7]
    print(json.dumps(worker(url, int(skills), int(waiting), float(seconds), int(seed))))
