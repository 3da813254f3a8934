"""`ccctl agents capacity` and `ccctl report kpi --channel` through the click CLI."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy.orm import Session

from ccctl.cli import main
from ccctl.records.database import make_engine
from ccctl.records.models.acd import QueueEvent


@pytest.fixture
def run(tmp_path, monkeypatch, sqlite_url):
    for name in ("CCCTL_CONFIG", "CCCTL_DATABASE__URL"):
        monkeypatch.delenv(name, raising=False)
    settings = tmp_path / "ccctl.yaml"
    settings.write_text(f"database:\n  url: {sqlite_url}\nacd:\n  chat_capacity: 4\n")

    def run_ccctl(*args: str):
        return CliRunner().invoke(main, ["-c", str(settings), *args])

    return run_ccctl


def test_capacity_is_shown_set_and_put_back_to_the_setting(run):
    run("agents", "add", "ann", "--extension", "1001")
    shown = "agent ann: voice 1 (setting), chat 4 (setting), task 1 (setting); open now: 0 chats, 0 tasks\n"
    assert run("agents", "capacity", "ann").output == shown
    changed = run("agents", "capacity", "ann", "--chat", "6", "--voice", "0").output
    assert changed == "agent ann: voice 0, chat 6, task 1 (setting); open now: 0 chats, 0 tasks\n"
    assert run("agents", "capacity", "ann", "--chat", "default").output.startswith("agent ann: voice 0, chat 4 (")


def test_capacity_errors_name_the_option_and_the_agent(run):
    run("agents", "add", "ann", "--extension", "1001")
    result = run("agents", "capacity", "ann", "--voice", "2")
    assert (result.exit_code, result.output) == (1, "ccctl: --voice '2': write a number from 0 to 1, or default\n")
    result = run("agents", "capacity", "nobody", "--chat", "2")
    assert (result.exit_code, result.output) == (1, "ccctl: no agent named 'nobody' (ccctl agents add)\n")


def test_report_kpi_shows_a_row_per_channel_and_one_channel_alone(run, sqlite_url):
    run("queues", "add", "cardio")
    start = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    period = ("--from", "2026-11-23T08:00+00:00", "--to", "2026-11-23T10:00+00:00")
    engine = make_engine(sqlite_url)
    with Session(engine) as session, session.begin():
        for key, channel, answered in (("call-1", "voice", 10), ("chat:s1", "chat", 5), ("chat:s2", "chat", None)):
            session.add(QueueEvent(at=start, queue="cardio", call_uuid=key, channel=channel, kind="entered"))
            if answered is not None:
                at = start + timedelta(seconds=answered)
                session.add(QueueEvent(at=at, queue="cardio", call_uuid=key, channel=channel, kind="answered"))
    engine.dispose()
    lines = run("report", "kpi", *period).output.splitlines()
    rows = {line.split("  ")[0]: line.split() for line in lines[2:6]}
    assert [name for name in rows] == ["cardio", "all queues, voice", "all queues, chat", "all queues"]
    assert rows["all queues, chat"][3:5] == ["2", "1"]  # offered, answered
    assert rows["all queues, voice"][3:5] == ["1", "1"]
    chats = json.loads(run("report", "kpi", *period, "--channel", "chat", "--json").output)
    assert chats["all"]["channel"] == "chat" and chats["all"]["offered"] == 2
