"""One `ccctl serve` driving two real FreeSWITCH nodes behind Kamailio (esl.nodes, freeswitch.node_name).

Kamailio spreads the patients over both nodes; both nodes' dialplans hand their calls to the one controller,
which learns each call's node from FreeSWITCH-Switchname and sends that call's commands to that node. The
agent's phone registers with Kamailio, so a caller on either node reaches it.
"""

from __future__ import annotations

import json
import re
from contextlib import contextmanager
from pathlib import Path

import pytest
import sipp
import yaml
from switch_site import DOMAIN, LANE, QUEUE_FLOW, RTP_SLICE, SwitchSite, add_cardio_queue, free_port
from test_sip_front_on_switch import KAMAILIO, Kamailio

pytestmark = pytest.mark.skipif(
    not Path(KAMAILIO).exists(), reason="Kamailio not installed (scripts/install.sh --test)"
)

CALLS = 4
PATIENT = "0612345678"  # SwitchSite.patient's caller number


def rtp_half(half: int) -> str:
    """Half of this lane's RTP ports: two switches on one machine must not draw the same port."""
    first = 16384 + LANE * RTP_SLICE + half * (RTP_SLICE // 2)
    return f"{first}-{first + RTP_SLICE // 2 - 1}"


@contextmanager
def two_nodes(root: Path, database: str, controllers: int):
    """Kamailio before nodes fs-a and fs-b; `controllers` ccctl serve (1: beside fs-a and taking both nodes'
    calls; 2: one beside each node), every one connected to both nodes' event sockets."""
    node_a = SwitchSite(
        root / "fs-a",
        {"main.yaml": QUEUE_FLOW},
        database_url=database,
        settings={"freeswitch": {"node_name": "fs-a", "rtp_ports": rtp_half(0)}},
    )
    # with one controller, node B's dialplan hands its calls to the controller beside node A
    outbound = {} if controllers == 2 else {"outbound_port": node_a.ports["esl_out"]}
    node_b = SwitchSite(
        root / "fs-b",
        {"main.yaml": QUEUE_FLOW},
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
        add_cardio_queue(node_a, no_answer_timeout=8)
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


def both_connected(site: SwitchSite) -> bool:
    result = site.ccctl("status", "--json", check=False)
    if result.returncode != 0:
        return False
    nodes = json.loads(result.stdout)["esl"]["nodes"]
    return [(n["name"], n["status"]) for n in nodes] == [("fs-a", "connected"), ("fs-b", "connected")]


def channels_on(site: SwitchSite, name: str) -> int:
    """Channels `name` (sofia/trunk/<user>@...) this node created, counted from its own log."""
    return len(channel_uuids(site, name))


def channel_uuids(site: SwitchSite, name: str) -> set[str]:
    """The uuids of the channels `name` (sofia/trunk/<user>@...) this node created, from its own log."""
    return set(
        re.findall(rf"New Channel sofia/trunk/{re.escape(name)}@\S+ \[([0-9a-f-]{{36}})\]", site.freeswitch_log())
    )


def patients_reach_the_agent_through_kamailio(kamailio: Kamailio, node_a: SwitchSite, node_b: SwitchSite) -> None:
    """CALLS patients call Kamailio; the agent's phone, registered with Kamailio, answers each one."""
    port = free_port()
    register = node_a._sipp(
        "register",
        sipp.register_scenario("1001", kamailio.new_password("ann")),
        [kamailio.address, "-m", "1", "-p", str(port), "-key", "extension", "1001", "-key", "domain", DOMAIN],
    )
    assert register.wait(20) == 0, register.errors()
    phone = node_a._sipp(
        "agent-1001",
        sipp.agent_phone_scenario("answer", ring_ms=200, talk_ms=1000),
        ["-m", str(CALLS), "-p", str(port), "-key", "extension", "1001"],
    )
    patients = node_a.patient(
        [sipp.until_switch_hangs_up()], caller=PATIENT, calls=CALLS, rate=0.5, address=kamailio.address
    )
    assert patients.wait(90) == 0, patients.errors() + node_a.serve_output()[-3000:]
    assert phone.wait(30) == 0, phone.errors()

    calls = node_a.wait_for_calls(CALLS)
    assert [c["disposition"] for c in calls] == ["completed"] * CALLS, calls
    # the patients were spread over both nodes, and each node rang the agent (through Kamailio) for its own
    # patients: the controller sent each call's offer to the node it was on
    spread = {site.root.name: (channels_on(site, PATIENT), channels_on(site, "1001")) for site in (node_a, node_b)}
    assert spread["fs-a"][0] >= 1 and spread["fs-b"][0] >= 1, spread
    assert all(patients == agent_legs for patients, agent_legs in spread.values()), spread
    assert sum(patients for patients, _ in spread.values()) == CALLS, spread
    # each call's record names the node it was on: the node whose log created that patient's channel
    on_node = {uuid: site.root.name for site in (node_a, node_b) for uuid in channel_uuids(site, PATIENT)}
    assert {call["uuid"]: call["node"] for call in calls} == on_node


def test_one_controller_on_both_nodes_answers_patients_calling_kamailio_on_either_node(tmp_path, empty_postgres_url):
    # PostgreSQL: Kamailio reads the agent's SIP digest and keeps the registration there
    with two_nodes(tmp_path, empty_postgres_url, controllers=1) as (kamailio, node_a, node_b):
        patients_reach_the_agent_through_kamailio(kamailio, node_a, node_b)
        assert completed_by(node_a) == CALLS


def test_two_controllers_on_postgresql_each_on_both_nodes_share_the_agent(tmp_path, empty_postgres_url):
    with two_nodes(tmp_path, empty_postgres_url, controllers=2) as (kamailio, node_a, node_b):
        patients_reach_the_agent_through_kamailio(kamailio, node_a, node_b)
        # each node's calls ran on the controller beside it; one agent, never offered two patients at once
        done = (completed_by(node_a), completed_by(node_b))
        assert min(done) >= 1 and sum(done) == CALLS, done


def completed_by(site: SwitchSite) -> int:
    """Calls the ccctl serve beside `site` drove to their end (its status)."""
    return json.loads(site.ccctl("status", "--json").stdout)["calls"]["completed"]
