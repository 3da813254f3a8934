"""Each agent's registration node on their row: written by sofia::register, cleared by unregister or expiry
through that node only, lapsing on its own, settled when the node is lost; read by agents status and by the
command-line tools' node choice (the queued call's node first)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from click.testing import CliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session

from ccctl.acd.agents import add_agent, list_agents, parse_skills
from ccctl.acd.monitor import agent_node
from ccctl.acd.registrations import (
    agent_registration_node,
    expires_seconds,
    forget_node,
    learn_registration,
    registered_through,
)
from ccctl.cli import main
from ccctl.records.database import make_engine
from ccctl.records.models.acd import Agent, QueueEntry
from ccctl.records.models.calls import Call

NOW = datetime(2026, 12, 9, 9, 0, tzinfo=UTC)
ANN_PHONE = "sofia/internal/sip:1001@10.0.0.5:5062"
BOB_PHONE = "sofia/internal/sip:1002@10.0.0.6:5062"


def in_db(url: str, work):
    engine = make_engine(url)
    try:
        with Session(engine) as session, session.begin():
            return work(session)
    finally:
        engine.dispose()


def rows(url: str) -> dict[str, tuple]:
    def read(session):
        agents = session.scalars(select(Agent))
        return {a.name: (a.contact, a.registered_node, a.registered_at, a.registration_expires_at) for a in agents}

    return in_db(url, read)


def two_agents(url: str) -> None:
    for name, extension in (("ann", "1001"), ("bob", "1002")):
        add_agent(url, name, extension, parse_skills("cardio"))


def test_a_registration_keeps_its_node_and_lapse_and_only_its_own_node_clears_it(db_url):
    two_agents(db_url)
    in_db(db_url, lambda s: learn_registration(s, "1001", ANN_PHONE, "fs-a", NOW, 3600))
    assert rows(db_url)["ann"] == (ANN_PHONE, "fs-a", NOW, NOW + timedelta(hours=1))
    assert rows(db_url)["bob"] == ("", "", None, None)

    # the phone moved to fs-b; fs-a's late unregister (or expiry) of it does not undo that
    in_db(db_url, lambda s: learn_registration(s, "1001", ANN_PHONE, "fs-b", NOW, 600))
    assert in_db(db_url, lambda s: learn_registration(s, "1001", "", "fs-a", NOW)) == 0
    assert rows(db_url)["ann"][:2] == (ANN_PHONE, "fs-b")
    assert in_db(db_url, lambda s: learn_registration(s, "1001", "", "fs-b", NOW)) == 1
    assert rows(db_url)["ann"] == ("", "", None, None)


def test_agents_status_shows_the_node_while_the_registration_lasts(db_url, tmp_path):
    two_agents(db_url)
    now = datetime.now(UTC)
    in_db(db_url, lambda s: learn_registration(s, "1001", ANN_PHONE, "fs-a", now, 3600))
    in_db(db_url, lambda s: learn_registration(s, "1002", BOB_PHONE, "fs-b", now - timedelta(hours=2), 3600))
    assert {row.name: row.node for row in list_agents(db_url)} == {"ann": "fs-a", "bob": ""}  # bob's lapsed

    config = tmp_path / "ccctl.yaml"
    config.write_text(f"database:\n  url: {db_url}\n")
    table = CliRunner().invoke(main, ["-c", str(config), "agents", "status"])
    assert table.exit_code == 0, table.output
    header, ann, bob = (line.split() for line in table.output.splitlines())
    assert (header[-1], ann[0], ann[-1], bob[0], bob[-1]) == ("NODE", "ann", "fs-a", "bob", "-")
    shown = CliRunner().invoke(main, ["-c", str(config), "agents", "status", "--json"])
    assert [(r["name"], r["node"]) for r in json.loads(shown.output)] == [("ann", "fs-a"), ("bob", "")]


def test_a_lost_node_no_longer_shows_its_agents_and_others_stay(db_url):
    two_agents(db_url)
    in_db(db_url, lambda s: learn_registration(s, "1001", ANN_PHONE, "fs-a", NOW, 3600))
    in_db(db_url, lambda s: learn_registration(s, "1002", BOB_PHONE, "fs-b", NOW, 3600))
    assert in_db(db_url, lambda s: registered_through(s, "fs-b", NOW)) == ["1002"]
    assert in_db(db_url, lambda s: registered_through(s, "fs-b", NOW + timedelta(hours=2))) == []  # lapsed
    assert in_db(db_url, lambda s: forget_node(s, "fs-b")) == 1
    after = rows(db_url)
    assert after["bob"] == (BOB_PHONE, "", None, None)  # the contact stays for when the phone registers again
    assert after["ann"][:2] == (ANN_PHONE, "fs-a")
    assert in_db(db_url, lambda s: registered_through(s, "fs-b", NOW)) == []


def test_the_tools_go_to_the_queued_calls_node_first_then_the_registration_node(db_url):
    two_agents(db_url)
    now = datetime.now(UTC)
    in_db(db_url, lambda s: learn_registration(s, "1001", ANN_PHONE, "fs-a", now, 3600))
    assert in_db(db_url, lambda s: (agent_node(s, "ann"), agent_node(s, "1001"), agent_node(s, "bob"))) == (
        "fs-a",
        "fs-a",
        "",
    )

    def ann_takes_a_caller_on_fs_b(session):
        ann = session.scalar(select(Agent).where(Agent.name == "ann"))
        session.add(QueueEntry(queue="cardio", call_uuid="c-1", status="bridged", agent_id=ann.id))
        session.add(Call(uuid="c-1", hotline="main", started_at=now, disposition="in-progress", node="fs-b"))

    in_db(db_url, ann_takes_a_caller_on_fs_b)
    # the agent's leg of a queued call is made on the caller's node, whichever node the phone registered with
    assert in_db(db_url, lambda s: agent_node(s, "ann")) == "fs-b"
    assert in_db(db_url, lambda s: agent_registration_node(s, "ann", now + timedelta(hours=2))) == ""


def test_the_expires_header_is_read_as_seconds():
    assert [expires_seconds(text) for text in ("3600", "0", "", None, "-5", "abc")] == [3600, 0, 0, 0, 0, 0]
