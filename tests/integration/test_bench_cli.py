"""`ccctl bench calls` on a tiny load: both controllers run, the table compares them side by side."""

from __future__ import annotations

import json
import subprocess
import sys


def test_bench_calls_compares_both_controllers():
    command = [sys.executable, "-m", "ccctl.cli", "bench", "calls", "--rate", "20", "--seconds", "2"]
    run = subprocess.run([*command, "--concurrent", "20", "--json"], capture_output=True, text=True, timeout=240)
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    for name in ("ccctl", "greenswitch"):
        sustained = result[name]["sustained"]
        assert sustained["placed"] > 10
        assert sustained["completed"] == sustained["placed"]
        assert sustained["failed"] == 0
        assert sustained["reaction_p99_ms"] > 0  # the emulator measured every controller reply
        assert result[name]["hold"]["calls_up"] == 20
    assert result["event_parse"]["controller_reads"]["speedup"] > 0
    header, *rows = result["text"].splitlines()
    assert header.split()[-2:] == ["ccctl", "greenswitch"]
    assert any(row.startswith("KB per call") for row in rows)


def test_bench_acd_compares_the_router_with_a_polling_reference():
    command = [sys.executable, "-m", "ccctl.cli", "bench", "acd", "--agents", "40", "--skills", "8"]
    run = subprocess.run(
        [*command, "--waiting", "20", "--events", "5", "--switch-events", "3", "--json"],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    assert result["ccctl"]["events"] == 5 and result["reference"]["events"] == 5
    for side in ("ccctl", "reference"):  # both kinds of event were measured: agent freed, caller enqueued
        assert result[side]["agent_freed"]["events"] == 3 and result[side]["caller_enqueued"]["events"] == 2
    assert result["reference"]["queries_per_pass"] >= 1  # one query per waiting caller, as mod_callcenter does
    assert "decision latency" in result["text"] and "caller enqueued p50 / p99" in result["text"]
    # the whole way, router to the switch starting `bridge` on a caller's channel, through the emulator
    assert result["through_switch"]["events"] == 3 and result["through_switch"]["p50_ms"] > 0
    assert "agent freed -> bridge at the switch (emulator, 3 events)" in result["text"]


def test_bench_acd_mixed_routes_calls_and_chats_on_both_sides():
    command = [sys.executable, "-m", "ccctl.cli", "bench", "acd", "--agents", "40", "--skills", "8", "--mixed"]
    run = subprocess.run(
        [*command, "--waiting", "20", "--events", "6", "--switch-events", "0", "--json"],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    assert result["mixed"] and result["text"].startswith("acd on sqlite: 40 agents, 8 skills, 20 calls and chats")
    for side in ("ccctl", "reference"):  # a chat desk closing a chat is offered a waiting chat on both sides
        assert result[side]["chat_finished"]["events"] == 2 and result[side]["agent_freed"]["events"] == 2
    assert "chat finished p50 / p99" in result["text"]


def test_bench_acd_runs_on_a_postgresql_server_in_scratch_databases(postgres_url):
    from sqlalchemy import create_engine, text

    command = [sys.executable, "-m", "ccctl.cli", "bench", "acd", "--agents", "40", "--skills", "8", "--waiting", "20"]
    run = subprocess.run(
        [*command, "--events", "4", "--switch-events", "0", "--database", postgres_url, "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    assert result["database"] == "postgresql" and result["text"].startswith("acd on postgresql")
    assert result["ccctl"]["events"] == 4 and result["reference"]["events"] == 4
    engine = create_engine(postgres_url)
    with engine.connect() as connection:  # the scratch databases are gone again
        left = connection.execute(text("SELECT datname FROM pg_database WHERE datname LIKE 'ccctl_bench_acd_%'")).all()
    engine.dispose()
    assert left == []


def test_bench_acd_refuses_a_database_that_is_not_postgresql():
    command = [sys.executable, "-m", "ccctl.cli", "bench", "acd", "--database", "mysql://root@localhost/x"]
    run = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert run.returncode == 1
    assert "bench acd --database: mysql is not PostgreSQL (SQLite is the default)" in run.stderr
