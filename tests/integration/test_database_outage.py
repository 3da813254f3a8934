"""Calls in the main hotline while the database is locked (SQLite) or its server stopped (PostgreSQL).

The caller is on file, so the flow's first database step (the lookup by caller number, which writes an
audit row) meets the outage: the caller hears the hold prompt until the database is back, or after
database.outage_seconds goes on as a caller not on file. The call records are queued and written later.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from pathlib import Path

import gevent
import pytest
import yaml
from db_fixtures import PG_SUPERUSER, PostgresServer, _free_port, _pg_ctl_command
from emulated_site import EmulatedSite, by_uuid, site_settings, stored_calls
from pytest_postgresql.executors import PostgreSQLExecutor

from ccctl.config import AlarmThresholds
from ccctl.patients import commands as patient_commands
from ccctl.patients.repository import PatientData
from ccctl.records.database import sqlite_file
from ccctl.records.migrate import upgrade
from ccctl.serve.controller import build_flow_registry
from ccctl.sim.callers import CallerScript
from ccctl.sim.originate import AgentEndpoint
from ccctl.web.alarm_board import evaluate

REPO = Path(__file__).resolve().parents[2]
OPEN = dt.datetime(2026, 11, 24, 10, 0)  # a Tuesday morning
MEMBER_PHONE = "13900000042"
TIME_FACTOR = 100.0
CALLS = 5
# English, then "not a member": the general menu, where the flow goes on without a key
KEYS = ["1", "2"]
HOLD = "say:" + yaml.safe_load((REPO / "ivr_flows/prompt_text/en.yaml").read_text())["prompts"]["records_hold"]


@pytest.fixture
def quick_busy_timeout(monkeypatch):
    """SQLite gives up on a lock after 0.3 s instead of 5: each try of a step is short, the retries are seen."""
    monkeypatch.setattr("ccctl.records.database.SQLITE_BUSY_TIMEOUT_MS", 300)


@contextlib.contextmanager
def hotline(db_url: str, tmp_path: Path, outage_seconds: float):
    settings = site_settings(db_url, tmp_path)
    settings = dataclasses.replace(
        settings,
        acd=dataclasses.replace(settings.acd, enabled=False),
        database=dataclasses.replace(settings.database, outage_seconds=outage_seconds),
    )
    registry = build_flow_registry(settings, clock=lambda: OPEN)
    with EmulatedSite(settings, registry=registry, time_factor=TIME_FACTOR) as site:
        site.switch.default_agent = AgentEndpoint(answer_after=1.0, talk_seconds=5.0)
        yield site


@contextlib.contextmanager
def sqlite_locked(url: str):
    """Another program holding the whole SQLite database (BEGIN EXCLUSIVE) until the block ends."""
    holder = sqlite3.connect(sqlite_file(url), isolation_level=None, timeout=10)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        yield
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def place_calls(site: EmulatedSite) -> list:
    return [site.switch.place_call(CallerScript(MEMBER_PHONE, "7000", KEYS, context="public")) for _ in range(CALLS)]


def database_alarms(site: EmulatedSite) -> list[str]:
    return [a.text for a in evaluate(site.controller.status(), None, AlarmThresholds(), None) if a.kind == "database"]


def test_callers_hear_the_hold_prompt_through_a_locked_sqlite_and_go_on_when_it_is_free(
    sqlite_url, tmp_path, quick_busy_timeout
):
    patient_commands.add(sqlite_url, PatientData("Anna", "Nowak", [MEMBER_PHONE]), None, "test")
    with hotline(sqlite_url, tmp_path, outage_seconds=30) as site:
        with sqlite_locked(sqlite_url):
            handles = place_calls(site)
            gevent.sleep(4.5)
            alarms_while_locked = database_alarms(site)
        outcomes = [h.wait(60) for h in handles]
        site.wait_idle()
        gevent.sleep(0.5)
        alarms_after = database_alarms(site)
    assert all(o is not None and o.failure == "" for o in outcomes)
    assert all(HOLD in o.prompts for o in outcomes)
    rows = by_uuid(stored_calls(sqlite_url))
    assert {o.uuid for o in outcomes} <= set(rows)
    for outcome in outcomes:
        path = rows[outcome.uuid]["path"]
        assert path[path.index("identify") :][:3] == ["identify", "hold", "identify:found"]
        assert rows[outcome.uuid]["disposition"] == "completed" and rows[outcome.uuid]["patient_id"] is not None
    assert alarms_while_locked and "database is locked" in alarms_while_locked[0]
    assert alarms_after == []


def test_past_the_outage_bound_the_lookup_takes_its_fallback_and_the_call_goes_on(
    sqlite_url, tmp_path, quick_busy_timeout
):
    patient_commands.add(sqlite_url, PatientData("Anna", "Nowak", [MEMBER_PHONE]), None, "test")
    with hotline(sqlite_url, tmp_path, outage_seconds=3.0) as site:
        with sqlite_locked(sqlite_url):
            handles = place_calls(site)
            gevent.sleep(6.0)
        outcomes = [h.wait(60) for h in handles]
        site.wait_idle()
    assert all(o is not None and o.failure == "" for o in outcomes)
    rows = by_uuid(stored_calls(sqlite_url))
    for outcome in outcomes:
        path = rows[outcome.uuid]["path"]
        assert path[path.index("identify") :][:4] == [
            "identify",
            "hold",
            "identify:records_unavailable",
            "member_question",
        ]
        assert rows[outcome.uuid]["patient_id"] is None


@pytest.fixture
def own_postgres(tmp_path_factory) -> Iterator[tuple[str, PostgreSQLExecutor]]:
    """A PostgreSQL server of this test's own (the session's stays up for the other tests) and a migrated database."""
    base_dir = Path(tempfile.mkdtemp(prefix="ccctl-pg-outage-"))
    try:
        port = _free_port()
        executor = PostgreSQLExecutor(
            executable=_pg_ctl_command(base_dir),
            host="127.0.0.1",
            port=port,
            datadir=str(base_dir / "data"),
            unixsocketdir=str(base_dir),
            logfile=str(base_dir / "postgresql.log"),
            startparams="-w",
            dbname="ccctl",
            user=PG_SUPERUSER,
            postgres_options="-c fsync=off -c full_page_writes=off -c synchronous_commit=off",
        )
        executor.start()
        try:
            server = PostgresServer(host="127.0.0.1", port=port, base_dir=base_dir)
            server.janitor("ccctl").init()
            upgrade(server.url("ccctl"))
            yield server.url("ccctl"), executor
        finally:
            executor.stop()
    finally:
        shutil.rmtree(base_dir, ignore_errors=True)


def test_calls_wait_through_a_postgresql_restart_and_their_records_are_written_when_it_is_back(own_postgres, tmp_path):
    url, server = own_postgres
    patient_commands.add(url, PatientData("Anna", "Nowak", [MEMBER_PHONE]), None, "test")
    with hotline(url, tmp_path, outage_seconds=30) as site:
        with server.stopped():
            handles = place_calls(site)
            gevent.sleep(4.5)
            alarms_while_stopped = database_alarms(site)
        outcomes = [h.wait(60) for h in handles]
        site.wait_idle()
        # after the outage, a call like any other: the same process, nothing restarted
        handles = place_calls(site)
        outcomes += [h.wait(60) for h in handles]
        site.wait_idle()
        alarms_after = database_alarms(site)
    assert all(o is not None and o.failure == "" for o in outcomes)
    rows = by_uuid(stored_calls(url))
    assert {o.uuid for o in outcomes} <= set(rows)
    for outcome in outcomes[:CALLS]:
        assert HOLD in outcome.prompts
        path = rows[outcome.uuid]["path"]
        assert path[path.index("identify") :][:3] == ["identify", "hold", "identify:found"]
    for outcome in outcomes:
        assert rows[outcome.uuid]["disposition"] == "completed" and rows[outcome.uuid]["patient_id"] is not None
    assert alarms_while_stopped and alarms_while_stopped[0].startswith("database unreachable: ")
    assert alarms_after == []
