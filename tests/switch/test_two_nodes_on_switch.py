"""One `ccctl serve` driving two real FreeSWITCH nodes behind Kamailio (esl.nodes, freeswitch.node_name).

Kamailio spreads the patients over both nodes; both nodes' dialplans hand their calls to the one controller,
which learns each call's node from FreeSWITCH-Switchname and sends that call's commands to that node. The
agent's phone registers with Kamailio, so a caller on either node reaches it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import sipp
from switch_site import SwitchSite
from test_sip_front_on_switch import KAMAILIO, Kamailio
from two_nodes import channel_uuids, channels_on, completed_by, phone_through_kamailio, two_nodes

pytestmark = pytest.mark.skipif(
    not Path(KAMAILIO).exists(), reason="Kamailio not installed (scripts/install.sh --test)"
)

CALLS = 4
PATIENT = "0612345678"  # SwitchSite.patient's caller number


def patients_reach_the_agent_through_kamailio(kamailio: Kamailio, node_a: SwitchSite, node_b: SwitchSite) -> None:
    """CALLS patients call Kamailio; the agent's phone, registered with Kamailio, answers each one."""
    phone = phone_through_kamailio(kamailio, node_a, "ann", "1001", calls=CALLS, talk_ms=1000)
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
