"""`ccctl agents ...`, `ccctl queues ...` and `ccctl report kpi` through the click CLI."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from ccctl.cli import main


@pytest.fixture
def run(tmp_path, monkeypatch, sqlite_url):
    for name in ("CCCTL_CONFIG", "CCCTL_DATABASE__URL"):
        monkeypatch.delenv(name, raising=False)
    settings = tmp_path / "ccctl.yaml"
    settings.write_text(f"database:\n  url: {sqlite_url}\n")

    def run_ccctl(*args: str):
        return CliRunner().invoke(main, ["-c", str(settings), *args])

    return run_ccctl


def test_agent_life_cycle(run):
    assert run("agents", "add", "ann", "--extension", "1001", "--skills", "cardio:4,spanish").exit_code == 0
    assert run("agents", "login", "ann").output == "agent ann: Available\n"
    run("agents", "break", "ann", "--reason", "lunch")
    rows = json.loads(run("agents", "status", "--json").output)
    assert [(r["name"], r["status"], r["skills"]) for r in rows] == [("ann", "on_break", {"cardio": 4, "spanish": 1})]
    table = run("agents", "status").output.splitlines()
    assert table[1].split() == ["ann", "1001", "on_break", "idle", "cardio:4,spanish:1", "-"]  # no phone registered


def test_agent_errors_are_one_line(run):
    result = run("agents", "login", "nobody")
    assert (result.exit_code, result.output) == (1, "ccctl: no agent named 'nobody' (ccctl agents add)\n")
    result = run("agents", "add", "bob", "--extension", "1002", "--skills", "cardio:11")
    assert result.exit_code == 1 and "skill 'cardio:11'" in result.output


def test_queue_add_list_show(run):
    result = run("queues", "add", "cardio", "--strategy", "ring-all", "--skills", "cardio:2", "--set", "max_length=5")
    assert (result.exit_code, result.output) == (0, "queue cardio saved (ring-all)\n")
    assert run("queues", "list").output.splitlines()[1].split() == ["cardio", "ring-all", "cardio:2"]
    shown = dict(line.split(None, 1) for line in run("queues", "show", "cardio").output.splitlines())
    assert shown["max_length"] == "5" and shown["strategy"] == "ring-all"


def test_queue_errors_name_the_key(run):
    result = run("queues", "add", "cardio", "--set", "max_wait_seconds=soon")
    assert result.output == "ccctl: queue 'cardio': max_wait_seconds='soon' is not a float\n"
    assert run("queues", "show", "nope").output == "ccctl: no queue named 'nope' (ccctl queues list)\n"


def test_report_kpi_on_an_empty_period(run):
    result = run("report", "kpi", "--from", "2026-11-23", "--to", "2026-11-23", "--json")
    assert result.exit_code == 0 and json.loads(result.output)["all"]["offered"] == 0
    assert run("report", "kpi", "--from", "2026-11-24", "--to", "2026-11-23").exit_code == 1
    assert "--from: 'yesterday'" in run("report", "kpi", "--from", "yesterday", "--to", "2026-11-23").output


def test_a_wrap_up_that_ran_out_shows_idle(run, sqlite_url):
    from datetime import timedelta

    from sqlalchemy import update

    from ccctl.records.database import make_engine
    from ccctl.records.models.acd import Agent
    from ccctl.records.models.base import utc_now

    run("agents", "add", "ann", "--extension", "1001", "--skills", "cardio")
    run("agents", "login", "ann")
    now = utc_now()
    engine = make_engine(sqlite_url)
    with engine.begin() as connection:  # what the ACD leaves after a talk with wrapup_seconds=0
        connection.execute(update(Agent).values(state="wrapup", state_since=now, reserved_until=now - timedelta(0, 1)))
    engine.dispose()
    rows = json.loads(run("agents", "status", "--json").output)
    assert [(r["name"], r["status"], r["state"]) for r in rows] == [("ann", "available", "idle")]
