"""A redundant Kamailio pair on ccctl's PostgreSQL: agents' own passwords, registrations shared by both.

Two Kamailio instances rendered from one ccctl.yaml (sip_front.instances, `fs render --kamailio
--kamailio-listen`), one FreeSWITCH node and its `ccctl serve` behind them. The agent registers through
Kamailio A with the password `ccctl agents passwd` gave (a wrong one is refused); A is killed; a patient
calling Kamailio B reaches the agent, found in the location table A wrote; a rotated password counts at once.
"""

from __future__ import annotations

import os
import re
import signal
from pathlib import Path

import pytest
import sipp
import yaml
from switch_site import DOMAIN, QUEUE_FLOW, SwitchSite, add_cardio_queue, free_port
from test_sip_front_on_switch import KAMAILIO, Kamailio

pytestmark = pytest.mark.skipif(
    not Path(KAMAILIO).exists(), reason="Kamailio not installed (scripts/install.sh --test)"
)

PATIENT = "0612345678"


def register_scenario(extension: str, password: str, accepted: bool) -> str:
    """REGISTER answering the digest challenge; expects 200 when `accepted`, else a new challenge (401)."""
    credentials = f"[authentication username={extension} password={password}]\n      "
    return (
        sipp._HEAD.format(name="register")
        + sipp.REGISTER.format(cseq=1, expires=3600, auth="")
        + '  <recv response="401" auth="true"/>\n'
        + sipp.REGISTER.format(cseq=2, expires=3600, auth=credentials)
        + f'  <recv response="{200 if accepted else 401}"/>\n</scenario>\n'
    )


def register(site: SwitchSite, kamailio: Kamailio, password: str, accepted: bool, port: int = 0) -> None:
    args = ["-m", "1", "-p", str(port or free_port()), "-key", "extension", "1001", "-key", "domain", DOMAIN]
    run = site._sipp("register", register_scenario("1001", password, accepted), [kamailio.address, *args])
    assert run.wait(20) == 0, ("accepted" if accepted else "refused", run.errors())


@pytest.fixture
def pair(tmp_path, empty_postgres_url):
    ports = [free_port(), free_port()]
    instances = [f"127.0.0.1:{port}" for port in ports]
    node = SwitchSite(
        tmp_path / "fs",
        {"main.yaml": QUEUE_FLOW},
        database_url=empty_postgres_url,
        settings={"freeswitch": {"agents_credentials": str(tmp_path / "agent-sip.json")}},
    )
    kamailios = []
    try:
        node.start_switch_without_controller()
        for name, port in zip("ab", ports, strict=True):
            kamailios.append(Kamailio(tmp_path / f"kamailio-{name}", [node], empty_postgres_url, port, instances))
        trunk = {"name": "fs", "address": f"127.0.0.1:{node.ports['trunk_sip']}"}
        node.settings["sip_front"] = {"listen": instances[0], "instances": instances, "nodes": [trunk]}
        node.config.write_text(yaml.safe_dump(node._settings(), sort_keys=False))
        add_cardio_queue(node, no_answer_timeout=10)
        node.ccctl("agents", "login", "ann")
        node.start_serve()
        yield node, kamailios
    finally:
        for kamailio in kamailios:
            kamailio.stop()
        node.stop()


def test_an_agent_registered_through_one_kamailio_is_reached_through_the_other_after_it_dies(pair):
    node, (kamailio_a, kamailio_b) = pair
    password = kamailio_a.new_password("ann")
    register(node, kamailio_a, "not-" + password, accepted=False)
    phone_port = free_port()
    register(node, kamailio_a, password, accepted=True, port=phone_port)

    # the whole process group: Kamailio's worker processes would go on answering on A's socket
    os.killpg(kamailio_a.process.pid, signal.SIGKILL)
    kamailio_a.process.wait()
    node.wait_for(lambda: not kamailio_a._listening(), 10, "Kamailio A's socket closed")
    phone = node._sipp(
        "agent-1001",
        sipp.agent_phone_scenario("answer", ring_ms=200, talk_ms=1000),
        ["-m", "1", "-p", str(phone_port), "-key", "extension", "1001"],
    )
    patient = node.patient([sipp.until_switch_hangs_up()], caller=PATIENT, address=kamailio_b.address)
    assert patient.wait(90) == 0, patient.errors() + node.serve_output()[-3000:]
    assert phone.wait(30) == 0, phone.errors()
    assert [c["disposition"] for c in node.wait_for_calls(1)] == ["completed"]
    # the switch rang the agent through B (A, first in its dial string, was dead): B found the phone in
    # the location table A wrote
    legs = re.findall(r"New Channel sofia/trunk/1001@(\S+) \[", node.freeswitch_log())
    assert kamailio_b.address in legs, legs

    # a new password counts at once at the surviving Kamailio: the old one is refused, no render, no reload
    rotated = kamailio_b.new_password("ann")
    register(node, kamailio_b, password, accepted=False)
    register(node, kamailio_b, rotated, accepted=True)
    # a disabled agent's phone cannot register at all
    node.ccctl("agents", "logout", "ann")
    node.ccctl("agents", "disable", "ann")
    register(node, kamailio_b, rotated, accepted=False)
