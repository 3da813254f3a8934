"""Command-line tools with their own event socket (`fax send`, `monitor`, `transfer`) find their node among
esl.nodes: the node of the agent's call from its record, or for a fax the first node that answers; each says
which node it connects to, and a node that does not answer is one line at once."""

from __future__ import annotations

import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from sqlalchemy.orm import Session

from ccctl.cli import main
from ccctl.records.database import make_engine
from ccctl.records.migrate import upgrade
from ccctl.records.models.acd import Agent, QueueEntry
from ccctl.records.models.base import utc_now
from ccctl.records.models.calls import Call
from ccctl.sim.switch import Switch

PASSWORD = "nodes-secret"
CALL_UUID = "5e1c6a0e-0000-4000-8000-00000000000b"


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def switches() -> Iterator[dict[str, Switch]]:
    started = {name: Switch(time_factor=200, password=PASSWORD, hostname=name).start() for name in ("fs-a", "fs-b")}
    try:
        yield started
    finally:
        for switch in started.values():
            switch.stop()


def write_settings(tmp_path: Path, url: str, nodes: list[tuple[str, int]]) -> Path:
    path = tmp_path / "ccctl.yaml"
    settings = {
        "database": {"url": url},
        "esl": {"password": PASSWORD, "nodes": [{"name": n, "host": "127.0.0.1", "port": p} for n, p in nodes]},
        "fax": {"faxes_dir": str(tmp_path / "faxes"), "attempts": 1, "retry_seconds": 0},
    }
    path.write_text(yaml.safe_dump(settings))
    return path


def connecting_lines(stderr: str) -> list[str]:
    return [line.split(" at ")[0] for line in stderr.splitlines() if line.startswith("ccctl: connecting to")]


def ann_talking_on(url: str, node: str) -> None:
    """Agent ann (1001) bridged to a queued caller whose call record says it is on `node`."""
    upgrade(url)
    engine = make_engine(url)
    with Session(engine) as db, db.begin():
        agent = Agent(name="ann", extension="1001", status="available", state="in_call")
        db.add(agent)
        db.flush()
        db.add(QueueEntry(queue="cardio", call_uuid=CALL_UUID, status="bridged", agent_id=agent.id))
        db.add(Call(uuid=CALL_UUID, hotline="main", started_at=utc_now(), disposition="in-progress", node=node))
    engine.dispose()


@pytest.mark.parametrize(
    "args",
    [["monitor", "listen", "ann", "--from", "2001"], ["transfer", "ann", "--to-queue", "cardio"]],
    ids=["monitor", "transfer"],
)
def test_monitor_and_transfer_connect_to_the_node_of_the_agents_call(switches, sqlite_url, tmp_path, args):
    ann_talking_on(sqlite_url, "fs-b")
    ports = {name: switch.esl_address[1] for name, switch in switches.items()}
    config = write_settings(tmp_path, sqlite_url, [("fs-a", ports["fs-a"]), ("fs-b", ports["fs-b"])])
    result = CliRunner().invoke(main, ["-c", str(config), *args])
    # fs-a is listed first, but the call is on fs-b: the tool goes there (and finds no leg of ann's there,
    # since no emulated phone is talking)
    assert connecting_lines(result.stderr) == ["ccctl: connecting to FreeSWITCH node fs-b"], result.output
    assert f"ccctl: connecting to FreeSWITCH node fs-b at 127.0.0.1:{ports['fs-b']} ..." in result.stderr.splitlines()
    assert result.exit_code == 1 and "ann" in result.stderr.splitlines()[-1], result.output

    # the call's node does not answer: one line naming it, no other node tried
    switches["fs-b"].stop()
    result = CliRunner().invoke(main, ["-c", str(config), *args])
    assert result.exit_code == 1
    lines = [line for line in result.stderr.splitlines() if line.startswith("ccctl: ")]
    assert lines == [
        f"ccctl: connecting to FreeSWITCH node fs-b at 127.0.0.1:{ports['fs-b']} ...",
        f"ccctl: FreeSWITCH's event socket did not answer within 5 s (node fs-b at 127.0.0.1:{ports['fs-b']}: "
        "connection refused); is FreeSWITCH running? (esl.nodes, esl.inbound_host, esl.inbound_port)",
    ]


@pytest.mark.skipif(
    not all(shutil.which(tool) for tool in ("gs", "tiff2pdf", "img2pdf")),
    reason="ghostscript, libtiff-tools and img2pdf are needed: scripts/install.sh --test",
)
def test_fax_send_uses_the_first_node_that_answers_or_the_one_named(switches, sqlite_url, tmp_path):
    from test_cli_without_switch import tiny_png

    upgrade(sqlite_url)
    dead = closed_port()
    port_b = switches["fs-b"].esl_address[1]
    config = write_settings(tmp_path, sqlite_url, [("fs-a", dead), ("fs-b", port_b)])
    page = str(tiny_png(tmp_path / "page.png"))

    sent = CliRunner().invoke(main, ["-c", str(config), "fax", "send", "0140000001", page])
    assert sent.exit_code == 0, sent.output
    assert connecting_lines(sent.stderr) == [
        "ccctl: connecting to FreeSWITCH node fs-a",
        "ccctl: connecting to FreeSWITCH node fs-b",
    ]
    assert f"ccctl: connecting to FreeSWITCH node fs-b at 127.0.0.1:{port_b} ..." in sent.stderr.splitlines()

    named = CliRunner().invoke(main, ["-c", str(config), "fax", "send", "--node", "fs-b", "0140000001", page])
    assert named.exit_code == 0, named.output
    assert connecting_lines(named.stderr) == ["ccctl: connecting to FreeSWITCH node fs-b"]
    listed = CliRunner().invoke(main, ["-c", str(config), "fax", "list"])
    assert [line.split()[3] for line in listed.output.splitlines()[1:]] == ["sent", "sent"]

    wrong = CliRunner().invoke(main, ["-c", str(config), "fax", "send", "--node", "fs-x", "0140000001", page])
    assert (wrong.exit_code, wrong.stderr) == (1, "ccctl: --node fs-x: not a node in esl.nodes (known: fs-a, fs-b)\n")
    assert wrong.stdout == ""  # refused before a fax job was queued
