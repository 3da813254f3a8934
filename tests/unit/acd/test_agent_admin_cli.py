"""Agents and queues edited, disabled, enabled and removed through `ccctl`, each change in the audit log; a
queue with callers waiting and an agent on a call are not removed; an extension outside the switch's range
is refused."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session

from ccctl.cli import main
from ccctl.records.database import make_engine
from ccctl.records.models.acd import Agent, QueueEntry
from ccctl.records.models.audit import AuditEntry
from ccctl.records.models.base import utc_now


@pytest.fixture
def run(tmp_path, monkeypatch, sqlite_url):
    for name in ("CCCTL_CONFIG", "CCCTL_DATABASE__URL"):
        monkeypatch.delenv(name, raising=False)
    settings = tmp_path / "ccctl.yaml"
    settings.write_text(f"database:\n  url: {sqlite_url}\nfreeswitch:\n  agent_extensions: 1000-1049\n")
    return lambda *args: CliRunner().invoke(main, ["-c", str(settings), *args])


def audit_rows(url: str) -> list[tuple[str, str, str, str]]:
    engine = make_engine(url)
    with Session(engine) as session:
        rows = session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
        found = [(row.actor, row.action, row.source, row.detail) for row in rows]
    engine.dispose()
    return found


def in_db(url: str, work):
    engine = make_engine(url)
    with Session(engine) as session, session.begin():
        result = work(session)
    engine.dispose()
    return result


def test_an_agent_is_edited_disabled_enabled_and_removed_and_each_change_is_audited(run, sqlite_url):
    assert run("agents", "add", "ann", "--extension", "1001", "--skills", "cardio:4").exit_code == 0

    edited = run("agents", "edit", "ann", "--extension", "1002", "--skills", "cardio:6,polish", "--as", "boss")
    assert (edited.exit_code, edited.output) == (0, "agent ann: extension, skills changed\n")
    rows = json.loads(run("agents", "status", "--json").output)
    assert [(r["name"], r["extension"], r["skills"]) for r in rows] == [("ann", "1002", {"cardio": 6, "polish": 1})]

    assert run("agents", "disable", "ann", "--as", "boss").output == "agent ann disabled\n"
    refused = run("agents", "login", "ann")
    assert (refused.exit_code, refused.output) == (1, "ccctl: agent 'ann' is disabled (ccctl agents enable ann)\n")
    assert json.loads(run("agents", "status", "--json").output)[0]["status"] == "disabled"

    assert run("agents", "enable", "ann", "--as", "boss").exit_code == 0
    assert run("agents", "login", "ann").output == "agent ann: Available\n"

    assert run("agents", "remove", "ann", "--as", "boss").output == "agent ann removed\n"
    assert run("agents", "status").output == "no agents (ccctl agents add)\n"
    assert audit_rows(sqlite_url) == [
        ("boss", "agent_edit", "cli", "agent ann: extension, skills"),
        ("boss", "agent_disable", "cli", "agent ann"),
        ("boss", "agent_enable", "cli", "agent ann"),
        ("boss", "agent_remove", "cli", "agent ann (extension 1002)"),
    ]


def test_an_agent_on_a_call_is_not_removed_and_a_taken_extension_is_named(run, sqlite_url):
    run("agents", "add", "ann", "--extension", "1001")
    run("agents", "add", "bob", "--extension", "1003")
    in_db(sqlite_url, lambda s: setattr(s.scalar(select(Agent).where(Agent.name == "ann")), "state", "in_call"))

    result = run("agents", "remove", "ann")
    assert (result.exit_code, result.output) == (1, "ccctl: agent 'ann' is in call: remove after the call\n")
    result = run("agents", "edit", "bob", "--extension", "1001")
    assert (result.exit_code, result.output) == (1, "ccctl: extension '1001' belongs to another agent\n")


def test_an_extension_outside_the_switchs_range_is_refused_naming_the_range(run):
    result = run("agents", "add", "ann", "--extension", "2001")
    assert result.exit_code == 1
    assert result.output == (
        "ccctl: extension '2001' is outside freeswitch.agent_extensions (1000-1049): "
        "FreeSWITCH has no phone account for it\n"
    )
    result = run("agents", "add", "ann", "--extension", "10x1")
    assert "extension '10x1': digits only, inside freeswitch.agent_extensions (1000-1049)" in result.output
    run("agents", "add", "ann", "--extension", "1001")
    assert "outside freeswitch.agent_extensions" in run("agents", "edit", "ann", "--extension", "1050").output
    assert run("agents", "status").output.splitlines()[1].split()[:2] == ["ann", "1001"]


def test_a_queue_is_edited_keeping_its_other_settings_and_removed_only_when_empty(run, sqlite_url):
    run("queues", "add", "cardio", "--skills", "cardio:3", "--set", "max_wait_seconds=300", "--set", "priority=2")

    edited = run("queues", "edit", "cardio", "--set", "max_wait_seconds=120", "--strategy", "ring-all", "--as", "boss")
    assert (edited.exit_code, edited.output) == (0, "queue cardio: strategy, max_wait_seconds changed\n")
    shown = json.loads(run("queues", "show", "cardio", "--json").output)
    assert (shown["strategy"], shown["max_wait_seconds"], shown["priority"], shown["skills"]) == (
        "ring-all",
        120,
        2,
        {"cardio": 3},
    )
    bad = run("queues", "edit", "cardio", "--set", "max_wait=1")
    assert bad.exit_code == 1 and "unknown setting 'max_wait'" in bad.output

    def two_waiting(session):
        for n in range(2):
            session.add(QueueEntry(queue="cardio", call_uuid=f"c{n}", status="waiting", entered_at=utc_now()))

    in_db(sqlite_url, two_waiting)
    refused = run("queues", "remove", "cardio")
    assert (refused.exit_code, refused.output) == (
        1,
        "ccctl: queue 'cardio': 2 callers are waiting in it; remove it when it is empty\n",
    )

    in_db(sqlite_url, lambda s: [setattr(e, "status", "abandoned") for e in s.scalars(select(QueueEntry))])
    assert run("queues", "remove", "cardio", "--as", "boss").output == "queue cardio removed\n"
    assert run("queues", "list").output == "no queues (ccctl queues add)\n"
    assert [row[1:] for row in audit_rows(sqlite_url)] == [
        ("queue_edit", "cli", "queue cardio: strategy, max_wait_seconds"),
        ("queue_remove", "cli", "queue cardio"),
    ]
