"""`ccctl bench`: runs a benchmark from bench/ and lays its figures out side by side.

The bench/ directory sits beside the package in a source checkout (or an editable install).
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

from ccctl.errors import UserError

ROOT = Path(__file__).resolve().parents[2]  # the checkout, where bench/ lives


class BenchUnavailable(UserError):
    """bench/ is not beside the package (an installed wheel carries no benchmarks)."""


def _bench_module(name: str):
    if not (ROOT / "bench" / f"{name}.py").is_file():
        raise BenchUnavailable(f"no {ROOT / 'bench' / name}.py: run ccctl bench from a source checkout")
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import importlib

    return importlib.import_module(f"bench.{name}")


SUSTAINED_ROWS = [
    ("calls placed", "placed"),
    ("completed", "completed"),
    ("failed or unfinished", "failed"),
    ("offered calls/s", "offered_cps"),
    ("peak concurrent calls", "peak_active"),
    ("reaction p50 ms (switch-measured)", "reaction_p50_ms"),
    ("reaction p99 ms (worst emulator)", "reaction_p99_ms"),
    ("event-loop lag p99 ms", "loop_lag_p99_ms"),
    ("CPU ms per call", "cpu_ms_per_call"),
    ("controller CPU, cores", "controller_cores"),
    ("peak RSS MB", "peak_rss_mb"),
]
HOLD_ROWS = [
    ("calls held up at once", "calls_up"),
    ("RSS MB with them up", "rss_mb"),
    ("KB per call", "kb_per_call"),
    ("event-loop lag p99 ms", "loop_lag_p99_ms"),
]


def format_calls(result: dict, rate: float, seconds: float, concurrent: int) -> str:
    width = 36
    lines = [f"{'calls: ' + f'{rate:g}/s for {seconds:g} s':<{width}} {'ccctl':>12} {'greenswitch':>12}"]
    for label, key in SUSTAINED_ROWS:
        ours, theirs = result["ccctl"]["sustained"][key], result["greenswitch"]["sustained"][key]
        lines.append(f"{label:<{width}} {ours:>12} {theirs:>12}")
    lines.append(f"{f'hold: {concurrent} concurrent calls':<{width}}")
    for label, key in HOLD_ROWS:
        ours, theirs = result["ccctl"]["hold"][key], result["greenswitch"]["hold"][key]
        lines.append(f"{label:<{width}} {ours:>12} {theirs:>12}")
    parse = result["event_parse"]
    lines.append(f"{'event parsing, us per event':<{width}}")
    for workload in ("controller_reads", "full_decode"):
        row = parse[workload]
        label = f"  {workload} (x{row['speedup']})"
        lines.append(f"{label:<{width}} {row['ccctl_us_per_event']:>12} {row['greenswitch_us_per_event']:>12}")
    command = result["ccctl"]["sustained"]["controller"]
    lines.append(
        f"ccctl command send->reply p50/p99 ms: {command.get('command_p50_ms', 0):.2f} / "
        f"{command.get('command_p99_ms', 0):.2f}"
    )
    return "\n".join(lines)


def format_acd(result: dict) -> str:
    width = 30
    ours, ref = result["ccctl"], result["reference"]
    line = "calls and chats" if result.get("mixed") else "waiting"
    head = (
        f"acd on {result['database']}: {result['agents']} agents, {result['skills']} skills, {result['waiting']} {line}"
    )
    lines = [head, f"{'decision latency, ms':<{width}} {'ccctl':>12} {'reference':>12}"]
    for key in ("events", "p50_ms", "p99_ms", "mean_ms"):
        lines.append(f"{key:<{width}} {ours[key]:>12} {ref[key]:>12}")
    for kind in ("agent_freed", "chat_finished", "caller_enqueued"):
        if kind in ours and ours[kind]["events"] and ref[kind]["events"]:
            label = f"  {kind.replace('_', ' ')} p50 / p99"
            mine = f"{ours[kind]['p50_ms']} / {ours[kind]['p99_ms']}"
            theirs = f"{ref[kind]['p50_ms']} / {ref[kind]['p99_ms']}"
            lines.append(f"{label:<{width}} {mine:>12} {theirs:>12}")
    lines.append(f"{'reference SQL queries per pass':<{width}} {'':>12} {ref['queries_per_pass']:>12}")
    lines.append(f"{'reference pass ms (then 100 ms)':<{width}} {'':>12} {ref['pass_ms']:>12}")
    lines.append(f"speed-up: p50 x{result['speedup_p50']}, p99 x{result['speedup_p99']}")
    switch = result.get("through_switch")
    if switch and switch.get("events"):
        lines.append(
            f"ccctl, agent freed -> bridge at the switch (emulator, {switch['events']} events): "
            f"p50 {switch['p50_ms']} / p99 {switch['p99_ms']} ms"
        )
    return "\n".join(lines)


def _through_switch(events: int) -> dict:
    """bench/bench_acd_switch.py in its own process: it needs gevent's monkey patching, the decision
    bench's reference poller needs real threads."""
    _bench_module("bench_acd_switch")
    code = (
        "from gevent import monkey; monkey.patch_all(); import json, sys; "
        "from bench.bench_acd_switch import run; print(json.dumps(run(events=int(sys.argv[1]))))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(events)], cwd=ROOT, capture_output=True, text=True, timeout=900
    )
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise BenchUnavailable(f"bench acd through the switch failed: {last}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def run_acd_bench(
    agents: int = 500,
    skills: int = 20,
    waiting: int = 200,
    events: int = 300,
    database: str = "",
    switch_events: int = 100,
    mixed: bool = False,
) -> dict:
    """ccctl's router vs a mod_callcenter-style poller on the same database (`mixed`: calls and chats, agents
    with capacities); "text" is the table."""
    bench = _bench_module("bench_acd")
    result = bench.run(agents=agents, skills=skills, waiting=waiting, events=events, database=database, mixed=mixed)
    if switch_events:
        result["through_switch"] = _through_switch(switch_events)
    result["text"] = format_acd(result)
    return result


def run_campaigns_bench(patients: int = 1000, rate: float = 20.0, concurrent: int = 200, seconds: float = 30.0) -> dict:
    """A reminder campaign against the emulator (bench/bench_campaigns.py); "text" is the table."""
    return _bench_module("bench_campaigns").run(patients=patients, rate=rate, concurrent=concurrent, seconds=seconds)


def run_soak_bench(database: str, rate: float = 250.0, minutes: float = 10.0, emulators: int = 2) -> dict:
    """The controller for `minutes` with its call records in `database` (bench/bench_soak.py); "text" is the table."""
    return _bench_module("bench_soak").run(database, rate=rate, minutes=minutes, emulators=emulators)


def run_kb_bench(articles: int = 5000, rounds: int = 3) -> dict:
    """Knowledge-base search latency on generated articles (bench/bench_kb.py); "text" is the table."""
    return _bench_module("bench_kb").run(articles=articles, rounds=rounds)


def run_bench(
    name: str, rate: float = 250.0, seconds: float = 20.0, concurrent: int = 1000, emulators: int = 2
) -> dict:
    """Run bench `name` ("calls"); the result dict has a "text" table for people."""
    if name != "calls":
        raise BenchUnavailable(f"unknown benchmark '{name}' (known: calls)")
    if importlib.util.find_spec("greenswitch") is None:
        raise BenchUnavailable("bench calls runs greenswitch beside ccctl: install it with pip install -e '.[bench]'")
    bench = _bench_module("bench_calls")
    result = bench.run(rate=rate, seconds=seconds, concurrent=concurrent, emulators=emulators)
    result["text"] = format_calls(result, rate, seconds, concurrent)
    return result
