"""Two controllers on one PostgreSQL: one is killed (SIGKILL) with callers waiting, the other serves them.

The killed one is a real `ccctl serve` process, so nothing of it runs after the signal: no hand-over, no
heartbeat removed. The survivor (the site's own controller) learns of its death from the stale heartbeat.
"""

from __future__ import annotations

import dataclasses
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

from acd_site import AcdSite, acd_settings, add_agents, entries, events, queue, wait_until
from serve_status import status_of
from sqlalchemy import select
from sqlalchemy.orm import Session

from ccctl.acd.agents import set_status
from ccctl.deploy.fs_render import build_model, render_texts
from ccctl.records.database import make_engine
from ccctl.records.models.acd import AcdProcess, QueueEntry
from ccctl.sim.callers import CallerScript
from ccctl.sim.dialplan import Dialplan
from ccctl.sim.originate import AgentEndpoint

REPO = Path(__file__).resolve().parents[2]


def test_callers_of_a_killed_controller_are_served_by_the_other_in_their_order(postgres_url, tmp_path):
    settings = acd_settings(postgres_url, tmp_path)
    add_agents(postgres_url, {"ann": ("1001", "cardio")})
    set_status(postgres_url, "ann", "On Break")
    queue(postgres_url)
    with AcdSite(settings, {"1001": AgentEndpoint(answer_after=1, talk_seconds=2)}, time_factor=5) as site:
        survivor = site.controller.acd
        port = free_port()
        doomed = start_serve(settings, site.switch.esl_address[1], port, tmp_path)
        try:
            assert wait_until(lambda: listening(port), timeout=30), read_log(tmp_path)
            assert wait_until(lambda: len(process_rows(postgres_url)) == 2, timeout=10), read_log(tmp_path)
            site.switch.dialplan = dialplan_to(site.settings, port)
            handles = []
            for n in (1, 2, 3):  # one after the other: their order in line is their order of arrival
                handles.append(site.switch.place_call(CallerScript(f"1380000000{n}", "7000", [], context="public")))
                assert wait_until(lambda n=n: len(owners(postgres_url)) == n, timeout=20), read_log(tmp_path)
            assert survivor.instance_id not in owners(postgres_url).values()

            doomed.send_signal(signal.SIGKILL)
            doomed.wait(10)
            set_status(postgres_url, "ann", "Available")
            outcomes = [h.wait(60) for h in handles]
            site.wait_idle()
            health = {row["instance"]: row["health"] for row in status_of(site.controller)["controllers"]}
        finally:
            if doomed.poll() is None:
                doomed.kill()
                doomed.wait(10)
    assert all(o.answered and o.bridged_to for o in outcomes)
    assert sorted(health.values()) == ["alive", "silent"] and health[survivor.instance_id] == "alive"
    assert survivor.adopted == 3
    assert set(entries(postgres_url).values()) == {"done"}
    kinds = [(uuid, kind) for uuid, kind, _ in events(postgres_url)]
    order = [h.uuid for h in handles]
    assert [uuid for uuid, kind in kinds if kind == "answered"] == order  # served in their order
    for uuid in order:
        mine = [kind for call, kind in kinds if call == uuid]
        assert mine[:2] == ["entered", "readopted"] and mine[-3:] == ["answered", "ended", "wrapup_end"]


def start_serve(settings, esl_port: int, outbound_port: int, tmp_path: Path) -> subprocess.Popen:
    """A second controller: `ccctl serve` on the same database and emulated switch, its log in tmp_path."""
    environ = {
        **os.environ,
        "CCCTL_DATABASE__URL": settings.database.url,
        "CCCTL_ESL__INBOUND_PORT": str(esl_port),
        "CCCTL_ESL__OUTBOUND_PORT": str(outbound_port),
        "CCCTL_ESL__PASSWORD": settings.esl.password,
        "CCCTL_WEB__PORT": "0",
        "CCCTL_FLOWS_DIR": settings.flows_dir,
        "CCCTL_RECORDINGS_DIR": str(tmp_path / "recordings-serve"),
        "CCCTL_KB__DIR": str(REPO / "kb"),
        "CCCTL_ACD__ROUTER_TICK_SECONDS": str(settings.acd.router_tick_seconds),
    }
    command = [sys.executable, "-m", "ccctl.cli", "--config", str(REPO / "ccctl.yaml"), "serve"]
    log = (tmp_path / "serve.log").open("w")
    return subprocess.Popen(command, cwd=tmp_path, env=environ, stdout=log, stderr=subprocess.STDOUT)


def read_log(tmp_path: Path) -> str:
    return (tmp_path / "serve.log").read_text()[-3000:]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


def dialplan_to(settings, port: int) -> Dialplan:
    """The shipped public dialplan sending calls to the controller on `port` (and parking a queued caller
    whose socket dropped, until a controller takes it back)."""
    routed = dataclasses.replace(settings.esl, outbound_host="127.0.0.1", outbound_port=port)
    xml = render_texts(build_model(dataclasses.replace(settings, esl=routed)))["dialplan/public.xml"]
    return Dialplan.from_xml(xml, source="dialplan/public.xml")


def process_rows(url: str) -> list[str]:
    return query(url, select(AcdProcess.instance_id))


def owners(url: str) -> dict[str, str]:
    """Waiting callers' owners by call uuid."""
    return dict(query(url, select(QueueEntry.call_uuid, QueueEntry.owner).where(QueueEntry.status == "waiting")))


def query(url: str, statement) -> list:
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            return list(
                session.execute(statement).all() if len(statement.selected_columns) > 1 else session.scalars(statement)
            )
    finally:
        engine.dispose()
