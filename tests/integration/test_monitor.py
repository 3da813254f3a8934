"""Listen, whisper and barge through the emulator: the supervisor's phone joins the agent's live call.

A patient's call is bridged to agent 1001 by the dialplan; `ccctl monitor ...` (and start_monitor over a real
inbound ESL connection) must ring supervisor 2001 into an eavesdrop on the agent's leg with the mode asked for.
"""

from __future__ import annotations

import gevent
import pytest
from click.testing import CliRunner
from sqlalchemy.orm import Session

from ccctl.acd.monitor import MonitorError, start_monitor
from ccctl.cli import main
from ccctl.esl.inbound import InboundClient
from ccctl.records.database import make_engine
from ccctl.records.models.acd import Agent
from ccctl.sim.callers import CallerScript
from ccctl.sim.dialplan import Dialplan
from ccctl.sim.eavesdrop import taps_on
from ccctl.sim.originate import AgentEndpoint
from ccctl.sim.switch import Switch

# the CLI refuses FreeSWITCH's shipped ClueCon: the emulated switch and ccctl share a password of their own
ESL_PASSWORD = "monitor-test-secret"

BRIDGE_TO_AGENT = """<include><context name="default"><extension name="to-agent">
  <condition field="destination_number" expression="^7000$">
    <action application="answer"/>
    <action application="bridge" data="user/1001"/>
  </condition>
</extension></context></include>"""


@pytest.fixture
def switch():
    phones = {ext: AgentEndpoint(answer_after=0.2) for ext in ("1001", "1002", "2001")}
    switch = Switch(
        Dialplan.from_xml(BRIDGE_TO_AGENT), time_factor=20, agents=phones, hostname="vm", password=ESL_PASSWORD
    ).start()
    yield switch
    switch.stop()


@pytest.fixture
def esl(switch):
    host, port = switch.esl_address
    client = InboundClient(host, port, ESL_PASSWORD, command_timeout=5)
    client.start()
    assert client.wait_connected(5)
    yield client
    client.stop()


def _modes_once(switch, target_uuid: str, expected: list[str]) -> list[str]:
    """The listeners' modes on a channel, once they are what we expect (or after 2 s)."""
    for _ in range(200):
        modes = [tap.mode for tap in taps_on(switch, target_uuid)]
        if modes == expected:
            break
        gevent.sleep(0.01)
    return modes


def _agent_leg(switch, extension: str):
    """Place a patient call and wait until the agent's leg is answered and bridged."""
    call = switch.place_call(CallerScript(caller="+15550001111", hangup_after=600))
    for _ in range(500):
        legs = [ch for ch in switch.channels.values() if f"/{extension}@" in ch.name and ch.other_leg is not None]
        if legs:
            return call, legs[0]
        gevent.sleep(0.01)
    raise AssertionError("the agent's leg never came up")


@pytest.mark.parametrize(
    ("mode", "expected_tap"),
    [("listen", "listen"), ("whisper", "whisper"), ("barge", "barge")],
)
def test_supervisor_joins_the_agents_leg_in_the_mode_asked(switch, esl, mode, expected_tap):
    call, agent_leg = _agent_leg(switch, "1001")

    result = start_monitor(esl.api, mode, "1001", "2001")

    assert result.agent_channel_uuid == agent_leg.uuid
    supervisor_leg = switch.channels[result.supervisor_channel_uuid]
    assert "/2001@" in supervisor_leg.name
    assert _modes_once(switch, agent_leg.uuid, [expected_tap]) == [expected_tap]
    taps = taps_on(switch, agent_leg.uuid)
    assert [(t.listener_uuid, t.dtmf) for t in taps] == [(supervisor_leg.uuid, False)]
    # what FreeSWITCH itself reports for the supervisor's leg
    assert (
        esl.api(f"uuid_getvar {supervisor_leg.uuid} current_application"),
        esl.api(f"uuid_getvar {supervisor_leg.uuid} current_application_data"),
    ) == ("eavesdrop", agent_leg.uuid)
    # the patient's own leg is left alone
    assert taps_on(switch, agent_leg.other_leg.uuid) == []

    esl.api(f"uuid_kill {call.uuid}")
    outcome = call.wait(10)
    assert outcome is not None and outcome.bridged_to
    assert _modes_once(switch, agent_leg.uuid, []) == []


def test_dtmf_lets_the_supervisor_switch_from_listen_to_barge(switch, esl):
    call, agent_leg = _agent_leg(switch, "1001")
    result = start_monitor(esl.api, "listen", "1001", "2001", dtmf=True)
    assert _modes_once(switch, agent_leg.uuid, ["listen"]) == ["listen"]

    esl.api(f"uuid_send_dtmf {result.supervisor_channel_uuid} 3")
    assert _modes_once(switch, agent_leg.uuid, ["barge"]) == ["barge"]
    esl.api(f"uuid_send_dtmf {result.supervisor_channel_uuid} 2")
    assert _modes_once(switch, agent_leg.uuid, ["whisper"]) == ["whisper"]
    esl.api(f"uuid_kill {call.uuid}")


def test_an_agent_without_a_live_call_is_refused(switch, esl):
    _agent_leg(switch, "1001")
    with pytest.raises(MonitorError, match=r"agent '1002' \(extension 1002\) has no live call to whisper in"):
        start_monitor(esl.api, "whisper", "1002", "2001")
    with pytest.raises(MonitorError, match="--from '2001;x': not an extension"):
        start_monitor(esl.api, "listen", "1001", "2001;x")


def test_cli_finds_the_agent_by_name_in_the_agents_table(switch, sqlite_url, tmp_path):
    engine = make_engine(sqlite_url)
    with Session(engine) as session, session.begin():
        session.add(Agent(name="alice", extension="1001", status="available", state="in_call"))
    engine.dispose()
    _, agent_leg = _agent_leg(switch, "1001")
    host, port = switch.esl_address
    env = {
        "CCCTL_DATABASE__URL": sqlite_url,
        "CCCTL_ESL__INBOUND_HOST": host,
        "CCCTL_ESL__INBOUND_PORT": str(port),
        "CCCTL_ESL__PASSWORD": ESL_PASSWORD,
        "CCCTL_ESL__COMMAND_TIMEOUT": "5",
        "CCCTL_FREESWITCH__DOMAIN": switch.domain,
    }

    result = CliRunner().invoke(main, ["monitor", "barge", "alice", "--from", "2001"], env=env)

    assert result.exit_code == 0, result.output
    assert f"barge: extension 2001 joined agent alice (extension 1001), agent channel {agent_leg.uuid}" in result.output
    assert _modes_once(switch, agent_leg.uuid, ["barge"]) == ["barge"]
    refused = CliRunner().invoke(main, ["monitor", "listen", "bob", "--from", "2001"], env=env)
    assert refused.exit_code == 1
    assert "agent 'bob': no such agent name or extension in the agents table" in refused.output
