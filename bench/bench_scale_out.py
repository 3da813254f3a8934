"""`ccctl bench scale-out`: calls per second through Kamailio + 2 switches + 2 controllers, against one
switch + one controller, in the same run, until the first failed call.

Each topology is started in turn on loopback (bench/scale_out_site.py): real FreeSWITCH nodes from
`ccctl fs render`, a `ccctl serve` beside each on one PostgreSQL, Kamailio before the two switches. SIPp
patients call an IVR-only hotline (answer, a short tone, hang up: it measures call handling, not agents),
at rates rising step by step; a step fails at its first failed call, in SIPp's count or as a call without
a completed record. Reported per topology: the highest rate with no failure, calls placed, failures at
the breaking step, each process's CPU, and how the calls spread over the nodes and the controllers.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

from sqlalchemy import func, select

from bench.scale_out_site import (
    Kamailio,
    MissingTool,
    Node,
    ThrowawayPostgres,
    check_tools,
    cpu_seconds,
    run_patients,
)
from ccctl.records.database import make_engine
from ccctl.records.models.calls import Call

DEFAULT_RATES = (10, 20, 40, 60, 80, 100, 120, 160, 200)
# FreeSWITCH's new channels a second per switch: far above the rates, so the ramp finds what a node and
# its controller carry, not the limit a site ships with (freeswitch.sessions_per_second)
DEFAULT_SESSIONS_PER_SECOND = 1000
RECORDS_WAIT_SECONDS = 20.0  # records of a step's last calls are written in batches after the hang-up
FLOW = """\
flow: main
description: bench scale-out, answer, a short tone, hang up
language: en
start: bye
nodes:
  bye:
    type: hangup
    prompt: "tone_stream://%(300,0,440)"
"""
TOPOLOGIES = (("one switch + one controller", 1), ("Kamailio + 2 switches + 2 controllers", 2))


def rtp_halves(ports: str, parts: int) -> list[str]:
    """`first-last` cut into `parts` ranges that do not overlap (two switches on one machine)."""
    first, last = (int(x) for x in ports.split("-"))
    size = (last - first + 1) // parts
    return [f"{first + i * size}-{first + (i + 1) * size - 1}" for i in range(parts)]


def _counts(url: str) -> dict:
    """Completed and other records per node so far."""
    engine = make_engine(url)
    try:
        with engine.connect() as db:
            rows = db.execute(select(Call.node, Call.disposition, func.count()).group_by(Call.node, Call.disposition))
            counts: dict = {}
            for node, disposition, n in rows:
                key = "completed" if disposition == "completed" else "other"
                counts.setdefault(node or "?", {"completed": 0, "other": 0})[key] += n
            return counts
    finally:
        engine.dispose()


def _total(counts: dict, key: str) -> int:
    return sum(per[key] for per in counts.values())


def _step(nodes: list[Node], url: str, address: str, rate: float, seconds: float, workdir: Path) -> dict:
    before = _counts(url)
    processes = {f"switch {n.name}": n.fs.pid for n in nodes} | {f"controller {n.name}": n.serve.pid for n in nodes}
    cpu_before = {name: cpu_seconds(pid) for name, pid in processes.items()}
    started = time.monotonic()
    calls = max(1, round(rate * seconds))
    sipp = run_patients(workdir, address, rate, calls, timeout=seconds * 3 + 60)
    elapsed = time.monotonic() - started
    cpu = {name: round(100 * (cpu_seconds(pid) - cpu_before[name]) / elapsed, 1) for name, pid in processes.items()}
    deadline = time.monotonic() + RECORDS_WAIT_SECONDS
    while True:
        after = _counts(url)
        done = _total(after, "completed") - _total(before, "completed")
        if done >= sipp["ok"] or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    per_node = {
        node: per["completed"] - before.get(node, {}).get("completed", 0)
        for node, per in sorted(after.items())
        if per["completed"] - before.get(node, {}).get("completed", 0)
    }
    other = _total(after, "other") - _total(before, "other")
    failures = max(sipp["failed"], sipp["placed"] - done, other)
    return {
        "rate": rate,
        "placed": sipp["placed"],
        "sipp_ok": sipp["ok"],
        "sipp_failed": sipp["failed"],
        "completed_records": done,
        "other_records": other,
        "failures": failures,
        "calls_per_node": per_node,
        "cpu_percent_of_a_core": cpu,
    }


def _topology(
    root: Path,
    label: str,
    switches: int,
    url: str,
    rates: list[float],
    seconds: float,
    fs_home: Path,
    rtp: str,
    sessions_per_second: int,
) -> dict:
    nodes: list[Node] = []
    kamailio = None
    try:
        for i, ports in enumerate(rtp_halves(rtp, switches)):
            node = Node(root / f"fs-{'ab'[i]}", f"fs-{'ab'[i]}", url, FLOW, ports, fs_home)
            node.settings["freeswitch"]["sessions_per_second"] = sessions_per_second
            node.write_settings()  # before start_switch renders it
            nodes.append(node)
        for node in nodes:
            node.start_switch()
        listed = [{"name": n.name, "host": "127.0.0.1", "port": n.ports["esl_in"]} for n in nodes]
        for node in nodes:
            node.settings["esl"]["nodes"] = listed
            node.write_settings()
        nodes[0].ccctl("db", "upgrade")
        for node in nodes:
            node.start_serve()
        for node in nodes:
            node.wait_connected(len(nodes))
        limits = {n.name: n.sessions_per_second() for n in nodes}
        if switches > 1:
            kamailio = Kamailio(root / "kamailio", nodes, url)
            address = kamailio.address
        else:
            address = nodes[0].trunk
        steps = []
        for number, rate in enumerate(rates):
            steps.append(_step(nodes, url, address, rate, seconds, root / "sipp" / f"step-{number}"))
            if steps[-1]["failures"]:
                break
        controllers = {n.name: n.status().get("calls", {}).get("completed", 0) for n in nodes}
    finally:
        if kamailio is not None:
            kamailio.stop()
        for node in nodes:
            node.stop()
    passed = [s for s in steps if not s["failures"]]
    broke = steps[-1] if steps and steps[-1]["failures"] else None
    return {
        "topology": label,
        "switches": switches,
        "controllers": switches,
        "steps": steps,
        "highest_rate_without_failure": passed[-1]["rate"] if passed else 0,
        "calls_placed": sum(s["placed"] for s in steps),
        "failures_at_breaking_step": broke["failures"] if broke else 0,
        "breaking_rate": broke["rate"] if broke else None,
        "calls_per_controller": controllers,
        "switch_sessions_per_second": limits,
    }


def run(
    rates: list[float],
    seconds: float,
    freeswitch_home: str,
    database: str,
    rtp_ports: str,
    sessions_per_second: int = DEFAULT_SESSIONS_PER_SECOND,
    keep: bool = False,
) -> dict:
    """Both topologies in turn, each switch rendered with `sessions_per_second`; MissingTool when FreeSWITCH,
    Kamailio, SIPp or PostgreSQL is missing."""
    fs_home = Path(freeswitch_home)
    check_tools(fs_home, with_postgres=not database)
    root = Path(tempfile.mkdtemp(prefix="ccctl-bench-scale-out-"))
    postgres = None
    try:
        if not database:
            postgres = ThrowawayPostgres(root / "pg")
        results = []
        for number, (label, switches) in enumerate(TOPOLOGIES):
            url = postgres.create(f"scale_{number}") if postgres is not None else database
            results.append(
                _topology(
                    root / f"topology-{number}",
                    label,
                    switches,
                    url,
                    rates,
                    seconds,
                    fs_home,
                    rtp_ports,
                    sessions_per_second,
                )
            )
    finally:
        if postgres is not None:
            postgres.stop()
        if not keep:
            shutil.rmtree(root, ignore_errors=True)
    return {
        "step_seconds": seconds,
        "rates": rates,
        "sessions_per_second": sessions_per_second,
        "topologies": results,
        "workdir": str(root) if keep else "",
    }


def format_result(result: dict) -> str:
    lines = [
        f"calls/s in steps of {result['step_seconds']:g} s: {', '.join(f'{r:g}' for r in result['rates'])}",
        f"each switch's sessions-per-second: {result['sessions_per_second']} (--sessions-per-second)",
    ]
    for top in result["topologies"]:
        lines.append("")
        lines.append(f"{top['topology']}:")
        lines.append(f"  highest rate with no failure   {top['highest_rate_without_failure']:g} calls/s")
        lines.append(f"  calls placed                   {top['calls_placed']}")
        broke = top["breaking_rate"]
        where = f"at {broke:g} calls/s" if broke is not None else "(no step failed)"
        lines.append(f"  failures at the breaking step  {top['failures_at_breaking_step']} {where}")
        limits = ", ".join(f"{k} {v}" for k, v in top["switch_sessions_per_second"].items())
        lines.append(f"  sessions-per-second (status)   {limits}")
        spread = ", ".join(f"{k} {v}" for k, v in top["calls_per_controller"].items())
        lines.append(f"  calls per controller           {spread}")
        for step in top["steps"]:
            nodes = ", ".join(f"{k} {v}" for k, v in step["calls_per_node"].items()) or "-"
            cpu = ", ".join(f"{k} {v:g}%" for k, v in step["cpu_percent_of_a_core"].items())
            lines.append(
                f"  {step['rate']:>6g}/s: placed {step['placed']}, failed {step['failures']}; "
                f"per node: {nodes}; CPU: {cpu}"
            )
    return "\n".join(lines)


__all__ = ["MissingTool", "run", "format_result", "DEFAULT_RATES", "DEFAULT_SESSIONS_PER_SECOND"]
