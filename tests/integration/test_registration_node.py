"""Each agent's registration node on record: a controller driving two emulated switches writes the node a
phone registered through (sofia::register), `ccctl agents status` shows it, `ccctl monitor` goes there for an
agent with no queued call, and a lost node no longer shows its agents."""

from __future__ import annotations

import dataclasses
import json

import yaml
from acd_site import acd_settings, add_agents, agent_rows, queue, wait_until
from click.testing import CliRunner

from ccctl.cli import main
from ccctl.config import EslNode
from ccctl.serve.controller import Controller, build_flow_registry
from ccctl.sim.registrations import fire_registration
from ccctl.sim.switch import Switch


def connecting_lines(stderr: str) -> list[str]:
    return [line.split(" at ")[0] for line in stderr.splitlines() if line.startswith("ccctl: connecting to")]


def test_an_agent_registered_on_fs_b_with_no_call_is_monitored_through_fs_b(sqlite_url, tmp_path):
    settings = acd_settings(sqlite_url, tmp_path)
    add_agents(sqlite_url, {"ann": ("1001", "cardio"), "bob": ("1002", "cardio")})
    queue(sqlite_url)
    switches = {
        name: Switch(time_factor=50.0, password=settings.esl.password, hostname=name) for name in ("fs-a", "fs-b")
    }
    for switch in switches.values():
        switch.start()
    nodes = [EslNode(name, "127.0.0.1", switch.esl_address[1]) for name, switch in switches.items()]
    esl = dataclasses.replace(settings.esl, nodes=nodes, inbound_port=nodes[0].port, reconnect_seconds=0.2)
    settings = dataclasses.replace(settings, esl=esl)
    config = tmp_path / "ccctl.yaml"
    listed = [{"name": n.name, "host": n.host, "port": n.port} for n in nodes]
    config.write_text(
        yaml.safe_dump({"database": {"url": sqlite_url}, "esl": {"password": esl.password, "nodes": listed}})
    )

    def ccctl(*args: str):
        return CliRunner().invoke(main, ["-c", str(config), *args])

    def shown_nodes() -> dict[str, str]:
        return {row["name"]: row["node"] for row in json.loads(ccctl("agents", "status", "--json").output)}

    registry = build_flow_registry(settings)
    controller = Controller(settings, registry=registry)
    controller.start()
    try:
        assert controller.nodes.wait_connected(timeout=10)
        fire_registration(switches["fs-a"], "1001", "10.0.0.5", 5062)
        fire_registration(switches["fs-b"], "1002", "10.0.0.6", 5062)
        assert wait_until(lambda: shown_nodes() == {"ann": "fs-a", "bob": "fs-b"}, timeout=10), shown_nodes()
        table = ccctl("agents", "status").output.splitlines()
        assert [(line.split()[0], line.split()[-1]) for line in table] == [
            ("NAME", "NODE"),
            ("ann", "fs-a"),
            ("bob", "fs-b"),
        ]

        # bob has no queued call: his registration names fs-b, though fs-a is listed first (no emulated phone
        # is talking there, so monitor then finds no leg of his)
        monitored = ccctl("monitor", "listen", "bob", "--from", "2001")
        assert connecting_lines(monitored.stderr) == ["ccctl: connecting to FreeSWITCH node fs-b"], monitored.output
        assert monitored.exit_code == 1
        assert monitored.stderr.splitlines()[-1] == "ccctl: agent 'bob' (extension 1002) has no live call to listen in"

        # ann's phone unregisters through fs-a: no node shown for her
        fire_registration(switches["fs-a"], "1001", "10.0.0.5", 5062, expires=0)
        assert wait_until(lambda: shown_nodes()["ann"] == "", timeout=10), shown_nodes()

        # fs-b is lost: bob is no longer shown on it, and monitor takes the first node that answers
        switches["fs-b"].stop()
        assert wait_until(lambda: shown_nodes() == {"ann": "", "bob": ""}, timeout=10), shown_nodes()
        assert agent_rows(sqlite_url)["bob"].status == "on_break"
        monitored = ccctl("monitor", "listen", "bob", "--from", "2001")
        assert connecting_lines(monitored.stderr) == ["ccctl: connecting to FreeSWITCH node fs-a"], monitored.output
    finally:
        controller.stop(grace=1)
        registry.services.close()
        for switch in switches.values():
            switch.stop()
