"""Kamailio before two real FreeSWITCH nodes (fs-a, fs-b) on one PostgreSQL, with one or two `ccctl serve`.

The setting the scale-out tests share: patients call the Kamailio address, agents' phones register with
Kamailio, each node's calls go to a controller, every controller drives both nodes (esl.nodes).
"""

from __future__ import annotations

import json
import re
from contextlib import contextmanager
from pathlib import Path

import sipp
import yaml
from switch_site import DOMAIN, LANE, QUEUE_FLOW, RTP_SLICE, SippRun, SwitchSite, add_cardio_queue, free_port
from test_sip_front_on_switch import Kamailio


def rtp_half(half: int) -> str:
    """Half of this lane's RTP ports: two switches on one machine must not draw the same port."""
    first = 16384 + LANE * RTP_SLICE + half * (RTP_SLICE // 2)
    return f"{first}-{first + RTP_SLICE // 2 - 1}"


@contextmanager
def two_nodes(root: Path, database: str, controllers: int, flow: str = QUEUE_FLOW, **queue_settings: object):
    """Kamailio before nodes fs-a and fs-b; `controllers` ccctl serve (1: beside fs-a and taking both nodes'
    calls; 2: one beside each node), every one connected to both nodes' event sockets. The hotline runs
    `flow`; the cardio queue (with `queue_settings`) and agent ann (1001), logged in."""
    node_a = SwitchSite(
        root / "fs-a",
        {"main.yaml": flow},
        database_url=database,
        settings={"freeswitch": {"node_name": "fs-a", "rtp_ports": rtp_half(0)}},
    )
    # with one controller, node B's dialplan hands its calls to the controller beside node A
    outbound = {} if controllers == 2 else {"outbound_port": node_a.ports["esl_out"]}
    node_b = SwitchSite(
        root / "fs-b",
        {"main.yaml": flow},
        database_url=database,
        settings={"freeswitch": {"node_name": "fs-b", "rtp_ports": rtp_half(1)}, "esl": outbound},
    )
    kamailio = None
    try:
        node_a.start_switch_without_controller()
        node_b.start_switch_without_controller()
        kamailio = Kamailio(root / "kamailio", [node_a, node_b], database)
        nodes = [{"name": n.root.name, "host": "127.0.0.1", "port": n.ports["esl_in"]} for n in (node_a, node_b)]
        trunks = [{"name": n.root.name, "address": f"127.0.0.1:{n.ports['trunk_sip']}"} for n in (node_a, node_b)]
        serving = [node_a, node_b][:controllers]
        for site in serving:
            site.settings["esl"] = {**site.settings.get("esl", {}), "nodes": nodes}
            site.settings["sip_front"] = {"listen": kamailio.address, "nodes": trunks}
            site.config.write_text(yaml.safe_dump(site._settings(), sort_keys=False))
        node_a.ccctl("db", "upgrade")
        add_cardio_queue(node_a, **{"no_answer_timeout": 8, **queue_settings})
        node_a.ccctl("agents", "login", "ann")
        for site in serving:
            site.start_serve()
            site.wait_for(lambda site=site: both_connected(site), 20, "the controller connected to both nodes")
        yield kamailio, node_a, node_b
    finally:
        if kamailio is not None:
            kamailio.stop()
        for node in (node_a, node_b):
            node.stop()


def node_status(site: SwitchSite) -> list[tuple[str, str]]:
    """(name, status) of each node, as the controller beside `site` shows them (`ccctl status --json`)."""
    result = site.ccctl("status", "--json", check=False)
    if result.returncode != 0:
        return []
    return [(n["name"], n["status"]) for n in json.loads(result.stdout)["esl"]["nodes"]]


def both_connected(site: SwitchSite) -> bool:
    return node_status(site) == [("fs-a", "connected"), ("fs-b", "connected")]


def channels_on(site: SwitchSite, name: str) -> int:
    """Channels `name` (sofia/trunk/<user>@...) this node created, counted from its own log."""
    return len(channel_uuids(site, name))


def channel_uuids(site: SwitchSite, name: str) -> set[str]:
    """The uuids of the channels `name` (sofia/trunk/<user>@...) this node created, from its own log."""
    return set(
        re.findall(rf"New Channel sofia/trunk/{re.escape(name)}@\S+ \[([0-9a-f-]{{36}})\]", site.freeswitch_log())
    )


def completed_by(site: SwitchSite) -> int:
    """Calls the ccctl serve beside `site` drove to their end (its status)."""
    return json.loads(site.ccctl("status", "--json").stdout)["calls"]["completed"]


def phone_through_kamailio(
    kamailio: Kamailio, site: SwitchSite, agent: str, extension: str, calls: int, talk_ms: int
) -> SippRun:
    """The agent's phone (SIPp) registered with Kamailio under the password `ccctl agents passwd` gave; it
    answers `calls` calls after 200 ms of ringing and hangs up after `talk_ms`."""
    port = free_port()
    register = site._sipp(
        "register",
        sipp.register_scenario(extension, kamailio.new_password(agent)),
        [kamailio.address, "-m", "1", "-p", str(port), "-key", "extension", extension, "-key", "domain", DOMAIN],
    )
    assert register.wait(20) == 0, register.errors()
    return site._sipp(
        f"agent-{extension}",
        sipp.agent_phone_scenario("answer", ring_ms=200, talk_ms=talk_ms),
        ["-m", str(calls), "-p", str(port), "-key", "extension", extension],
    )
