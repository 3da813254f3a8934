"""Kamailio before two FreeSWITCH nodes (`ccctl fs render --kamailio`): calls spread, a dead node is skipped.

Two real switches, each with its own `ccctl serve`, behind one Kamailio rendered from the same ccctl.yaml
settings a hospital would write. Patients (SIPp) call the one hotline address; agents' phones register with
Kamailio and either node can ring them through it.
"""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest
import sipp
import yaml
from switch_site import AGENTS_PASSWORD, CCCTL, DOMAIN, SwitchSite, free_port

KAMAILIO = shutil.which("kamailio") or "/usr/sbin/kamailio"
pytestmark = pytest.mark.skipif(
    not Path(KAMAILIO).exists(), reason="Kamailio not installed (scripts/install.sh --test)"
)

SHORT_FLOW = """\
flow: main
description: a short greeting, so each call lasts about a second
language: en
start: hello
nodes:
  hello:
    type: hangup
    prompt: "tone_stream://%(400,0,440)"
"""


class Kamailio:
    """Kamailio run in the foreground from the configuration ccctl renders, on ccctl's PostgreSQL.

    `instances`: every Kamailio of a redundant pair (host:port), this one's `port` among them."""

    def __init__(
        self, root: Path, nodes: list[SwitchSite], database_url: str, port: int = 0, instances: list[str] = ()
    ) -> None:
        self.root = root
        self.port = port or free_port()
        root.mkdir(parents=True, exist_ok=True)
        self.config = root / "ccctl.yaml"
        settings = {
            "database": {"url": database_url},
            "freeswitch": {
                "domain": DOMAIN,
                "agents_password": AGENTS_PASSWORD,
                "agent_extensions": "1000-1019",
                "agents_credentials": str(root / "agent-sip.json"),
            },
            "esl": {"password": "esl-secret"},
            "sip_front": {
                "listen": f"127.0.0.1:{self.port}",
                "instances": list(instances),
                "probe_seconds": 1,
                "failover_seconds": 1,
                "nodes": [
                    {"name": f"node-{i}", "address": f"127.0.0.1:{node.ports['trunk_sip']}"}
                    for i, node in enumerate(nodes)
                ],
            },
        }
        self.config.write_text(yaml.safe_dump(settings))
        self.ccctl("db", "upgrade")  # Kamailio reads agents' digests and keeps registrations there
        self.ccctl("fs", "render", "--kamailio", "--kamailio-listen", self.address, "--out", str(root / "conf"))
        self.log = root / "kamailio.log"
        self.process = subprocess.Popen(
            [KAMAILIO, "-f", str(root / "conf" / "kamailio.cfg"), "-DD", "-E", "-P", str(root / "kamailio.pid")],
            stdout=self.log.open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 10
        while "INFO: <core> [main.c" not in self.log.read_text() or not self._listening():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"Kamailio did not start: {self.log.read_text()[-3000:]}")
            time.sleep(0.2)

    def ccctl(self, *args: str) -> str:
        result = subprocess.run([*CCCTL, "-c", str(self.config), *args], capture_output=True, text=True, cwd=self.root)
        assert result.returncode == 0, f"ccctl {args[0]} {args[1]}: {result.stderr[-2000:]}"
        return result.stdout

    def new_password(self, agent: str) -> str:
        """`ccctl agents passwd`: the agent's new SIP password, as the administrator reads it."""
        out = self.ccctl("agents", "passwd", agent)
        return re.search(r"new SIP password \(shown only now\): (\S+)", out).group(1)

    def _listening(self) -> bool:
        out = subprocess.run(["ss", "-uln"], capture_output=True, text=True).stdout
        return f"127.0.0.1:{self.port}" in out

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture
def front(tmp_path, empty_postgres_url):
    nodes = [SwitchSite(tmp_path / f"node-{i}", {"main.yaml": SHORT_FLOW}) for i in range(2)]
    kamailio = None
    try:
        for node in nodes:
            node.start()
        kamailio = Kamailio(tmp_path / "kamailio", nodes, empty_postgres_url)
        yield kamailio, nodes
    finally:
        if kamailio is not None:
            kamailio.stop()
        for node in nodes:
            node.stop()


def _calls_on(node: SwitchSite) -> int:
    return len(node.calls())


def test_patients_calling_one_address_are_spread_over_both_switches_and_a_dead_switch_is_skipped(front):
    kamailio, (node_a, node_b) = front
    patients = node_a.patient([sipp.until_switch_hangs_up()], calls=6, rate=3, address=kamailio.address)
    assert patients.wait(60) == 0, patients.errors()
    node_a.wait_for(lambda: _calls_on(node_a) + _calls_on(node_b) == 6, 20, "6 call records over both nodes")
    assert _calls_on(node_a) >= 2 and _calls_on(node_b) >= 2, (_calls_on(node_a), _calls_on(node_b))

    # node A's switch dies: the calls still come in, on node B (the first after the death waits out
    # sip_front.failover_seconds, then the probes keep node A out)
    node_a.fs.send_signal(signal.SIGKILL)
    node_a.fs.wait()
    before = _calls_on(node_b)
    patients = node_b.patient([sipp.until_switch_hangs_up()], calls=5, rate=2, address=kamailio.address)
    assert patients.wait(60) == 0, patients.errors()
    node_b.wait_for(lambda: _calls_on(node_b) == before + 5, 20, "5 more call records on node B")


def test_an_agent_registered_with_kamailio_is_rung_by_either_switch(front):
    kamailio, nodes = front
    kamailio.ccctl("agents", "add", "ann", "--extension", "1001")
    password = kamailio.new_password("ann")
    port = free_port()
    site = nodes[0]
    register = site._sipp(
        "register",
        sipp.register_scenario("1001", password),
        [kamailio.address, "-m", "1", "-p", str(port), "-key", "extension", "1001", "-key", "domain", DOMAIN],
    )
    assert register.wait(20) == 0, register.errors()
    phone = site._sipp(
        "agent-1001",
        sipp.agent_phone_scenario("answer", ring_ms=200, talk_ms=500),
        ["-m", "2", "-p", str(port), "-key", "extension", "1001"],
    )
    for node in nodes:
        reply = node.api(f"originate sofia/trunk/1001@{kamailio.address} &playback(tone_stream://%(1500,0,440))")
        assert reply.startswith("+OK"), reply
    assert phone.wait(30) == 0, phone.errors()
