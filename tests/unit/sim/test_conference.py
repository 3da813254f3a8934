"""The emulator's mod_conference: the `conference` application, the `conference` api's answers, and
`uuid_transfer -both` moving a bridged call into a conference without hanging either leg up."""

from __future__ import annotations

import gevent

from ccctl.sim.api_commands import run_api
from ccctl.sim.callers import CallerScript
from ccctl.sim.dialplan import Dialplan
from ccctl.sim.originate import AgentEndpoint
from ccctl.sim.switch import Switch

PLAN = (
    '<include><context name="default"><extension name="t"><condition field="destination_number" '
    'expression="^7000$"><action application="answer"/><action application="set" data="hangup_after_bridge=true"/>'
    '<action application="bridge" data="user/1001"/></condition></extension></context></include>'
)


def api(switch: Switch, command: str) -> str:
    name, _, arg = command.partition(" ")
    return run_api(switch, name, arg)


def wait_until(condition, seconds: float = 5.0) -> None:
    with gevent.Timeout(seconds, AssertionError("the emulator did not get there")):
        while not condition():
            gevent.sleep(0.01)


def bridged_call(switch: Switch, hangup_after: float = 30.0):
    handle = switch.place_call(CallerScript(hangup_after=hangup_after))
    wait_until(lambda: any(ch.bridge_ids for ch in switch.channels.values() if ch.direction == "outbound"))
    agent = next(ch for ch in switch.channels.values() if ch.direction == "outbound")
    return handle, agent, agent.other_leg


def test_both_legs_of_a_bridged_call_move_into_one_conference_and_stay_up():
    switch = Switch(Dialplan.from_xml(PLAN), agents={"1001": AgentEndpoint(answer_after=0.5)}, time_factor=50)
    handle, agent, caller = bridged_call(switch)

    reply = api(switch, f"uuid_transfer {agent.uuid} -both conference:consult-1@default inline")

    assert reply == "+OK\n"
    wait_until(lambda: "consult-1" in switch.conferences and len(switch.conferences["consult-1"].members) == 2)
    listing = api(switch, "conference consult-1 list").splitlines()
    assert sorted(line.split(";")[2] for line in listing) == sorted([caller.uuid, agent.uuid])
    assert caller.up and agent.up  # CF_TRANSFER: no hangup_after_bridge, no partner hung up
    assert caller.get_var("transfer_source").endswith(":bl_xfer:conference:consult-1@default/default/inline")
    handle.wait(60)


def test_an_originated_party_joins_and_the_conference_is_recorded(tmp_path):
    switch = Switch(
        Dialplan.from_xml(PLAN),
        agents={"1001": AgentEndpoint(answer_after=0.5), "1201": AgentEndpoint(answer_after=0.5)},
        time_factor=50,
    )
    handle, agent, _ = bridged_call(switch)
    api(switch, f"uuid_transfer {agent.uuid} -both conference:consult-2@default inline")
    wait_until(lambda: len(getattr(switch.conferences.get("consult-2"), "members", [])) == 2)
    path = tmp_path / "consult-2.wav"

    assert api(switch, f"conference consult-2 record {path}") == f"+OK Record file {path}\n"
    assert api(switch, "originate user/1201 &conference(consult-2@default)").startswith("+OK ")
    wait_until(lambda: len(switch.conferences["consult-2"].members) == 3)
    assert api(switch, "conference consult-2 list count") == "3\n"
    assert path.read_bytes()[:4] == b"RIFF"
    assert api(switch, f"conference consult-2 norecord {path}").endswith("+OK Stopped recording 0 files\n")
    assert api(switch, "conference consult-2 hup all") == "+OK hup 3\n+OK hup 2\n+OK hup 1\n"  # newest first
    wait_until(lambda: "consult-2" not in switch.conferences)  # the last member out ends it
    handle.wait(60)


def test_unknown_conferences_and_commands_answer_as_mod_conference_does():
    switch = Switch(Dialplan.from_xml(PLAN))
    # as FreeSWITCH 1.10.12 answers (tests/switch/test_consult_on_switch.py saw it)
    assert api(switch, "conference nope list") == "-ERR Conference nope not found\n"
    assert api(switch, "conference list") == "No active conferences.\n"
    assert api(switch, "uuid_transfer no-such -both conference:x inline") == "-ERR No such channel!\n"
