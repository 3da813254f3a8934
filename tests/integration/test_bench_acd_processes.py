"""`ccctl bench acd --processes`: routers in separate processes on one PostgreSQL, one row per process count."""

from __future__ import annotations

import json
import subprocess
import sys


def test_bench_acd_runs_one_and_two_router_processes_on_postgresql(postgres_server):
    command = [sys.executable, "-m", "ccctl.cli", "bench", "acd", "--processes", "1,2", "--seconds", "1"]
    options = ["--agents", "30", "--skills", "4", "--waiting", "10", "--database", postgres_server.url("postgres")]
    run = subprocess.run([*command, *options, "--json"], capture_output=True, text=True, timeout=180)
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    assert [row["processes"] for row in result["runs"]] == [1, 2]
    assert all(row["claims"] > 0 and row["p99_ms"] >= row["p50_ms"] > 0 for row in result["runs"])
    header = result["text"].splitlines()[1].split()
    assert header[0] == "processes" and "claims/s" in header


def test_bench_acd_processes_refuses_sqlite():
    command = [sys.executable, "-m", "ccctl.cli", "bench", "acd", "--processes", "2"]
    run = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert run.returncode != 0 and "--database postgresql" in run.stderr
