"""Hold, broadcast, uuid_bridge and the attended transfer (att_xfer) through the emulator's inbound ESL.

A patient's call is bridged to agent 1001 by the dialplan; the test acts as a controller would: api commands
over an inbound connection, and the events FreeSWITCH 1.10 fires for them (switch_ivr_hold/unhold,
switch_ivr_broadcast with hold-bleg, switch_ivr_uuid_bridge, mod_dptools' att_xfer).
"""

from __future__ import annotations

import gevent
import pytest

from ccctl.esl.inbound import InboundClient
from ccctl.sim.callers import CallerScript
from ccctl.sim.dialplan import Dialplan
from ccctl.sim.originate import AgentEndpoint
from ccctl.sim.switch import Switch

BRIDGE_TO_AGENT = """<include><context name="default"><extension name="to-agent">
  <condition field="destination_number" expression="^7000$">
    <action application="answer"/>
    <action application="bridge" data="user/1001"/>
  </condition>
</extension></context></include>"""

WATCHED = (
    "CHANNEL_HOLD CHANNEL_UNHOLD CHANNEL_CALLSTATE CHANNEL_EXECUTE CHANNEL_EXECUTE_COMPLETE "
    "CHANNEL_BRIDGE CHANNEL_UNBRIDGE PLAYBACK_START PLAYBACK_STOP CHANNEL_HANGUP CHANNEL_CREATE"
)


@pytest.fixture
def switch():
    phones = {
        "1001": AgentEndpoint(answer_after=0.2),
        "1002": AgentEndpoint(answer_after=0.5),
        "1003": AgentEndpoint(answers=False),
        "1004": AgentEndpoint(answer_after=0.5, reject_cause="USER_BUSY"),
    }
    switch = Switch(Dialplan.from_xml(BRIDGE_TO_AGENT), time_factor=20, agents=phones, hostname="vm").start()
    yield switch
    switch.stop()


class Controller:
    """An inbound ESL connection that records the events it was sent."""

    def __init__(self, switch: Switch):
        host, port = switch.esl_address
        self.client = InboundClient(host, port, "ClueCon", command_timeout=5)
        self.client.start()
        assert self.client.wait_connected(5)
        self.events = []
        self.client.on("*", self.events.append)
        self.client.subscribe([WATCHED])

    def api(self, command: str) -> str:
        return self.client.api(command)

    def seen(self, name: str, uuid: str | None = None, **headers: str) -> list:
        """Events named `name` (of channel `uuid`), with these header values (Bridge_A_Unique_ID=...)."""
        wanted = {key.replace("_", "-"): value for key, value in headers.items()}
        return [
            e
            for e in self.events
            if e.name == name
            and (uuid is None or e.get("Unique-ID") == uuid)
            and all(e.get(k) == v for k, v in wanted.items())
        ]

    def wait(self, name: str, uuid: str | None = None, **headers: str):
        """The first such event, once it has arrived (5 s at most)."""
        for _ in range(500):
            found = self.seen(name, uuid, **headers)
            if found:
                return found[0]
            gevent.sleep(0.01)
        raise AssertionError(f"no {name} for {uuid} with {headers}")

    def index(self, name: str, uuid: str | None = None, **headers: str) -> int:
        return self.events.index(self.wait(name, uuid, **headers))


@pytest.fixture
def esl(switch):
    controller = Controller(switch)
    yield controller
    controller.client.stop()


def _until(predicate, seconds: float = 5.0) -> bool:
    for _ in range(int(seconds * 100)):
        if predicate():
            return True
        gevent.sleep(0.01)
    return predicate()


def _call(switch: Switch):
    """A patient's call bridged to agent 1001: (handle, caller leg, agent leg)."""
    call = switch.place_call(CallerScript(caller="+15550001111", hangup_after=600))
    found = []
    assert _until(
        lambda: found.extend(ch for ch in switch.channels.values() if "/1001@" in ch.name and ch.bridge_ids) or found
    )
    agent = found[0]
    return call, agent.other_leg, agent


def _leg(switch: Switch, extension: str):
    found = []
    assert _until(lambda: found.extend(ch for ch in switch.channels.values() if f"/{extension}@" in ch.name) or found)
    return found[0]


# hold ------------------------------------------------------------------------------------------------------
def test_hold_plays_music_to_the_partner_and_unhold_stops_it(switch, esl):
    call, caller, agent = _call(switch)

    assert esl.api(f"uuid_hold {agent.uuid}") == "+OK Success\n"
    held = esl.wait("CHANNEL_HOLD", agent.uuid)
    assert (held.get("Channel-Call-State"), held.get("Answer-State")) == ("HELD", "answered")
    assert held.get("Other-Leg-Unique-ID") == caller.uuid
    assert (
        esl.wait("CHANNEL_CALLSTATE", agent.uuid, Channel_Call_State="HELD").get("Original-Channel-Call-State")
        == "ACTIVE"
    )
    # the caller's bridge runs the hold music broadcast: playback of hold_music, looping
    moh = esl.wait("PLAYBACK_START", caller.uuid)
    assert moh.get("Playback-File-Path") == "local_stream://moh"
    assert esl.api(f"uuid_getvar {caller.uuid} current_application_data") == "local_stream://moh"
    assert esl.api(f"uuid_getvar {caller.uuid} total_loops") == "-1"
    assert esl.api(f"uuid_hold {agent.uuid}") == "-ERR Operation failed\n"  # already on hold

    assert esl.api(f"uuid_hold off {agent.uuid}") == "+OK Success\n"
    esl.wait("CHANNEL_UNHOLD", agent.uuid)
    assert esl.wait("PLAYBACK_STOP", caller.uuid).get("Playback-Status") == "break"
    esl.wait("CHANNEL_CALLSTATE", agent.uuid, Channel_Call_State="UNHELD")
    assert esl.api(f"uuid_hold off {agent.uuid}") == "-ERR Operation failed\n"  # not on hold
    assert int(esl.wait("CHANNEL_UNHOLD", agent.uuid).get("Caller-Channel-Hold-Accum")) > 0
    # still talking: nothing unbridged or hung up
    assert caller.up and agent.up and agent.bridge_ids == caller.bridge_ids == (caller.uuid, agent.uuid)
    assert esl.seen("CHANNEL_UNBRIDGE") == []

    assert esl.api(f"uuid_hold toggle {agent.uuid}") == "+OK Success\n"
    assert _until(lambda: len(esl.seen("CHANNEL_HOLD", agent.uuid)) == 2)
    assert esl.api(f"uuid_hold toggle {agent.uuid}") == "+OK Success\n"
    assert _until(lambda: len(esl.seen("CHANNEL_UNHOLD", agent.uuid)) == 2)
    esl.api(f"uuid_kill {caller.uuid}")
    assert call.wait(10).bridged_to == [agent.name]


def test_hold_replies_as_mod_commands_does(switch, esl):
    # switch_ivr_hold_uuid starts at SUCCESS: a uuid that is not there "succeeds"
    assert esl.api("uuid_hold 00000000-0000-0000-0000-000000000000") == "+OK Success\n"
    assert esl.api("uuid_hold off 00000000-0000-0000-0000-000000000000") == "+OK Success\n"
    assert esl.api("uuid_hold") == "-USAGE: [off|toggle] <uuid> [<display>]\n-ERR Operation failed\n"
    assert esl.api("uuid_broadcast nope") == "-USAGE: <uuid> <path> [aleg|bleg|holdb|both]\n"
    assert esl.api("uuid_broadcast nope /x.wav") == "-ERR invalid uuid\n"
    assert esl.api("uuid_bridge nope") == "-USAGE: <uuid> <other_uuid>\n"
    assert esl.api("uuid_bridge nope other") == "-ERR Invalid uuid\n"


# broadcast -------------------------------------------------------------------------------------------------
def test_broadcast_of_a_file_plays_it_on_the_leg_inside_the_bridge(switch, esl):
    call, caller, agent = _call(switch)

    assert esl.api(f"uuid_broadcast {caller.uuid} /sounds/notice.wav aleg") == "+OK Message sent\n"
    start = esl.wait("PLAYBACK_START", caller.uuid, Playback_File_Path="/sounds/notice.wav")
    execute = esl.wait("CHANNEL_EXECUTE", caller.uuid, Application="playback")
    assert execute.get("Application-Data") == "/sounds/notice.wav"
    assert esl.wait("PLAYBACK_STOP", caller.uuid).get("Playback-Status") == "done"
    assert esl.events.index(execute) < esl.events.index(start)
    assert esl.seen("PLAYBACK_START", agent.uuid) == []  # aleg: the agent hears nothing of it
    assert caller.up and agent.up and caller.bridge_ids == (caller.uuid, agent.uuid)

    assert esl.api(f"uuid_broadcast {caller.uuid} /sounds/both.wav both") == "+OK Message sent\n"
    esl.wait("PLAYBACK_STOP", caller.uuid, Playback_File_Path="/sounds/both.wav")
    esl.wait("PLAYBACK_STOP", agent.uuid, Playback_File_Path="/sounds/both.wav")
    assert esl.seen("CHANNEL_UNBRIDGE") == []
    esl.api(f"uuid_kill {caller.uuid}")
    assert call.wait(10) is not None


def test_broadcast_of_an_app_holds_the_partner_for_its_duration(switch, esl):
    _, caller, agent = _call(switch)

    # no leg word: aleg + holdb (uuid_broadcast_function's default)
    assert esl.api(f"uuid_broadcast {agent.uuid} playback::/sounds/whisper.wav") == "+OK Message sent\n"
    esl.wait("CHANNEL_EXECUTE", agent.uuid, Application="playback", Application_Data="/sounds/whisper.wav")
    moh = esl.wait("PLAYBACK_START", caller.uuid, Playback_File_Path="local_stream://moh")
    done = esl.wait("PLAYBACK_STOP", agent.uuid, Playback_File_Path="/sounds/whisper.wav")
    stopped = esl.wait("PLAYBACK_STOP", caller.uuid, Playback_File_Path="local_stream://moh")
    assert esl.events.index(moh) < esl.events.index(done) < esl.events.index(stopped)
    assert caller.up and agent.up and agent.bridge_ids == (caller.uuid, agent.uuid)


def test_holdb_alone_queues_nothing(switch, esl):
    _, caller, agent = _call(switch)
    # switch_stristr: "holdb" sets SMF_HOLD_BLEG only, neither leg gets the application
    assert esl.api(f"uuid_broadcast {agent.uuid} playback::/sounds/x.wav holdb") == "+OK Message sent\n"
    gevent.sleep(0.3)
    assert esl.seen("CHANNEL_EXECUTE", agent.uuid, Application="playback") == []
    assert esl.seen("PLAYBACK_START") == []


# att_xfer ----------------------------------------------------------------------------------------------------
def test_att_xfer_completed_when_the_agent_hangs_up(switch, esl):
    call, caller, agent = _call(switch)

    assert esl.api(f"uuid_broadcast {agent.uuid} att_xfer::user/1002") == "+OK Message sent\n"
    esl.wait("CHANNEL_EXECUTE", agent.uuid, Application="att_xfer", Application_Data="user/1002")
    esl.wait("PLAYBACK_START", caller.uuid, Playback_File_Path="local_stream://moh")  # the caller waits on hold
    target = _leg(switch, "1002")
    esl.wait("CHANNEL_BRIDGE", agent.uuid, Bridge_A_Unique_ID=agent.uuid, Bridge_B_Unique_ID=target.uuid)
    assert esl.api(f"uuid_getvar {agent.uuid} soft_holding_uuid") == caller.uuid
    assert caller.other_leg is agent and caller.up  # the caller is still the agent's, on hold

    assert esl.api(f"uuid_kill {agent.uuid}") == "+OK\n"
    bridged = esl.wait("CHANNEL_BRIDGE", target.uuid, Bridge_A_Unique_ID=target.uuid, Bridge_B_Unique_ID=caller.uuid)
    assert bridged.get("Other-Leg-Unique-ID") == caller.uuid
    inner_end = esl.index("CHANNEL_UNBRIDGE", agent.uuid, Bridge_A_Unique_ID=agent.uuid, Bridge_B_Unique_ID=target.uuid)
    outer_end = esl.index(
        "CHANNEL_UNBRIDGE", caller.uuid, Bridge_A_Unique_ID=caller.uuid, Bridge_B_Unique_ID=agent.uuid
    )
    executes = [
        esl.index("CHANNEL_EXECUTE", leg.uuid, Application="uuid_bridge", Application_Data=other.uuid)
        for leg, other in ((target, caller), (caller, target))
    ]
    assert inner_end < outer_end < executes[0] < executes[1] < esl.events.index(bridged)
    # CF_TRANSFER ends the caller's own bridge application, with the new partner's transfer_source on it
    ended = esl.wait("CHANNEL_EXECUTE_COMPLETE", caller.uuid, Application="bridge")
    assert outer_end < esl.events.index(ended)
    assert ended.get("variable_transfer_source").endswith(f":uuid_br:{target.uuid}")
    esl.wait("PLAYBACK_STOP", caller.uuid, Playback_File_Path="local_stream://moh")
    for name, value in (("bridge_uuid", target.uuid), ("signal_bond", target.uuid), ("bridge_to", target.uuid)):
        assert esl.api(f"uuid_getvar {caller.uuid} {name}") == value
    assert esl.api(f"uuid_getvar {target.uuid} att_xfer_result") == "success"
    assert esl.api(f"uuid_getvar {target.uuid} bridge_uuid") == caller.uuid
    assert _until(lambda: esl.api(f"uuid_exists {agent.uuid}") == "false")

    # the caller's call goes on with the target until one of them hangs up
    gevent.sleep(0.3)
    assert caller.up and target.up and caller.other_leg is target
    assert esl.seen("CHANNEL_HANGUP", caller.uuid) == []
    esl.api(f"uuid_kill {target.uuid}")
    outcome = call.wait(10)
    assert outcome is not None and outcome.bridged_to == [agent.name]
    assert esl.wait("CHANNEL_UNBRIDGE", target.uuid, Bridge_A_Unique_ID=target.uuid, Bridge_B_Unique_ID=caller.uuid)
    assert outcome.hung_up_by == "peer"


def test_att_xfer_caller_hangs_up_after_the_transfer_and_the_target_goes_too(switch, esl):
    call, caller, agent = _call(switch)
    esl.api(f"uuid_broadcast {agent.uuid} att_xfer::user/1002")
    target = _leg(switch, "1002")
    esl.wait("CHANNEL_BRIDGE", agent.uuid, Bridge_B_Unique_ID=target.uuid)
    esl.api(f"uuid_send_dtmf {agent.uuid} *")  # attxfer_hangup_key: the agent leaves, the transfer completes
    esl.wait("CHANNEL_BRIDGE", target.uuid, Bridge_A_Unique_ID=target.uuid, Bridge_B_Unique_ID=caller.uuid)
    assert esl.wait("CHANNEL_HANGUP", agent.uuid).get("Hangup-Cause") == "NORMAL_CLEARING"

    esl.api(f"uuid_kill {caller.uuid}")
    assert call.wait(10) is not None
    assert esl.wait("CHANNEL_HANGUP", target.uuid).get("Hangup-Cause") == "NORMAL_CLEARING"


@pytest.mark.parametrize("target", ["user/1004", "{originate_timeout=3}user/1003"], ids=["busy", "no-answer"])
def test_att_xfer_to_a_target_that_does_not_answer_returns_the_agent(switch, esl, target):
    call, caller, agent = _call(switch)

    assert esl.api(f"uuid_broadcast {agent.uuid} att_xfer::{target}") == "+OK Message sent\n"
    esl.wait("PLAYBACK_START", caller.uuid, Playback_File_Path="local_stream://moh")
    esl.wait("CHANNEL_EXECUTE_COMPLETE", agent.uuid, Application="att_xfer")
    esl.wait("PLAYBACK_STOP", caller.uuid, Playback_File_Path="local_stream://moh")  # hold ends
    # the originate failed: the first bridge simply goes on, nothing unbridged
    assert esl.seen("CHANNEL_UNBRIDGE") == []
    assert caller.up and agent.up and agent.bridge_ids == caller.bridge_ids == (caller.uuid, agent.uuid)
    assert esl.api(f"uuid_getvar {agent.uuid} signal_bond") == caller.uuid
    assert esl.api(f"uuid_getvar {agent.uuid} soft_holding_uuid") == "_undef_"
    esl.api(f"uuid_kill {caller.uuid}")
    outcome = call.wait(10)
    assert outcome is not None and outcome.bridged_to == [agent.name]
    assert esl.wait("CHANNEL_HANGUP", agent.uuid)


@pytest.mark.parametrize("how", ["target-hangs-up", "cancel-key"])
def test_att_xfer_target_leaving_bridges_the_agent_back_to_the_caller(switch, esl, how):
    call, caller, agent = _call(switch)
    esl.api(f"uuid_broadcast {agent.uuid} att_xfer::user/1002")
    target = _leg(switch, "1002")
    esl.wait("CHANNEL_BRIDGE", agent.uuid, Bridge_B_Unique_ID=target.uuid)

    if how == "cancel-key":
        assert esl.api(f"uuid_send_dtmf {agent.uuid} #") == "+OK Success\n"
    else:
        esl.api(f"uuid_kill {target.uuid}")
    back = esl.wait("CHANNEL_BRIDGE", agent.uuid, Bridge_A_Unique_ID=agent.uuid, Bridge_B_Unique_ID=caller.uuid)
    assert esl.index("CHANNEL_HANGUP", target.uuid) < esl.events.index(back)
    esl.wait("PLAYBACK_STOP", caller.uuid, Playback_File_Path="local_stream://moh")
    assert esl.api(f"uuid_getvar {agent.uuid} att_xfer_result") == "success"
    assert esl.api(f"uuid_getvar {caller.uuid} bridge_uuid") == agent.uuid
    gevent.sleep(0.3)
    assert caller.up and agent.up and caller.other_leg is agent and agent.bridge_ids == (agent.uuid, caller.uuid)

    esl.api(f"uuid_kill {agent.uuid}")  # the agent finishes the call
    outcome = call.wait(10)
    assert outcome is not None and outcome.hung_up_by == "peer"
    esl.wait("CHANNEL_UNBRIDGE", agent.uuid, Bridge_A_Unique_ID=agent.uuid, Bridge_B_Unique_ID=caller.uuid)


# uuid_bridge -------------------------------------------------------------------------------------------------
def test_uuid_bridge_moves_the_caller_to_another_leg(switch, esl):
    call, caller, agent = _call(switch)
    reply = esl.api("originate user/1002 &park()")
    assert reply.startswith("+OK ")
    other = reply[4:].strip()

    assert esl.api(f"uuid_bridge {other} {caller.uuid}") == f"+OK {caller.uuid}\n"
    bridged = esl.wait("CHANNEL_BRIDGE", other, Bridge_A_Unique_ID=other, Bridge_B_Unique_ID=caller.uuid)
    assert esl.index("CHANNEL_UNBRIDGE", caller.uuid, Bridge_B_Unique_ID=agent.uuid) < esl.events.index(bridged)
    assert esl.wait("CHANNEL_HANGUP", agent.uuid).get("Hangup-Cause") == "NORMAL_CLEARING"  # left on its own
    assert esl.api(f"uuid_getvar {caller.uuid} signal_bond") == other
    assert esl.api(f"uuid_getvar {caller.uuid} transfer_source").endswith(f":{caller.uuid}:uuid_br:{other}")
    assert esl.api(f"uuid_bridge {caller.uuid} nope") == "-ERR Invalid uuid\n"
    gevent.sleep(0.2)
    assert caller.up and caller.other_leg is switch.channels[other]

    esl.api(f"uuid_kill {caller.uuid}")
    assert call.wait(10) is not None
    esl.wait("CHANNEL_UNBRIDGE", other, Bridge_A_Unique_ID=other, Bridge_B_Unique_ID=caller.uuid)
    assert esl.wait("CHANNEL_HANGUP", other).get("Hangup-Cause") == "NORMAL_CLEARING"


def test_att_xfer_agent_hanging_up_while_the_target_rings_ends_the_callers_bridge(switch, esl):
    call, caller, agent = _call(switch)
    esl.api(f"uuid_broadcast {agent.uuid} att_xfer::user/1003")
    target = _leg(switch, "1003")
    esl.wait("PLAYBACK_START", caller.uuid, Playback_File_Path="local_stream://moh")

    esl.api(f"uuid_kill {agent.uuid}")
    assert esl.wait("CHANNEL_HANGUP", target.uuid).get("Hangup-Cause") == "ORIGINATOR_CANCEL"
    esl.wait("PLAYBACK_STOP", caller.uuid, Playback_File_Path="local_stream://moh")
    esl.wait("CHANNEL_UNBRIDGE", caller.uuid, Bridge_A_Unique_ID=caller.uuid, Bridge_B_Unique_ID=agent.uuid)
    outcome = call.wait(10)
    assert outcome is not None and outcome.hung_up_by == "dialplan"  # the extension ran out after the bridge
    assert esl.seen("CHANNEL_BRIDGE", target.uuid) == []
