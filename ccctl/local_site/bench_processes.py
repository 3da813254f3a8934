"""`ccctl bench acd --processes 1,2,4`: the router in several OS processes on one PostgreSQL (bench/bench_acd_processes.py)."""

from __future__ import annotations

from ccctl.local_site.bench import _bench_module


def parse_counts(text: str) -> list[int]:
    """ "1,2,4" -> [1, 2, 4]; a ValueError naming the option for anything else."""
    try:
        counts = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        counts = []
    if not counts or min(counts) < 1:
        raise ValueError(f"bench acd --processes: expected counts like 1,2,4, got {text!r}")
    return counts


def run_acd_processes_bench(database: str, processes: str, agents: int, skills: int, waiting: int, seconds: float):
    bench = _bench_module("bench_acd_processes")
    result = bench.run(database, parse_counts(processes), agents, skills, waiting, seconds)
    result["text"] = bench.format_result(result)
    return result
