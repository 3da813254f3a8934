"""mod_avmd in the emulator: a far end whose greeting beeps gets avmd_detect and CUSTOM avmd::beep, as the
real module reports it; a person (no greeting) and a channel that stopped listening get neither."""

from __future__ import annotations

import gevent

from ccctl.sim.api_commands import run_api
from ccctl.sim.dialplan import Dialplan
from ccctl.sim.originate import AgentEndpoint
from ccctl.sim.switch import Switch

PLAN = (
    '<include><context name="default"><extension name="amd"><condition field="destination_number" '
    'expression="^amd$"><action application="avmd_start"/>{stop}'
    '<action application="sleep" data="6000"/></condition></extension></context></include>'
)


class BeepListener:
    """An event-socket listener subscribed to CUSTOM avmd::beep, as the campaign dialer is."""

    myevents = False
    channel = None

    def __init__(self) -> None:
        self.events = []

    def wants(self, name: str) -> bool:
        return name == "CUSTOM"

    def accepts(self, event) -> bool:
        return event.name == "CUSTOM" and event.subclass == "avmd::beep"

    def deliver(self, event) -> None:
        self.events.append(event)


def _call(remote: AgentEndpoint, stop: str = "") -> tuple[BeepListener, dict[str, str]]:
    switch = Switch(Dialplan.from_xml(PLAN.format(stop=stop)), time_factor=50, hostname="vm")
    switch.remotes["5550001"] = remote
    listener = BeepListener()
    switch.bus.add(listener)
    reply = run_api(switch, "originate", "sofia/gateway/trunk/5550001 amd")
    assert reply.startswith("+OK "), reply
    channel = switch.channels[reply[4:].strip()]
    while channel.up:
        gevent.sleep(0.01)
    return listener, channel.variables


def test_a_greeting_that_beeps_sets_avmd_detect_and_fires_the_beep_event_with_mod_avmds_headers():
    listener, variables = _call(AgentEndpoint(answer_after=0.1, beep_after=2.0))
    assert variables.get("avmd_detect") == "TRUE"
    [event] = listener.events
    assert event.get("Event-Subclass") == "avmd::beep"
    assert (event.get("Call-command"), event.get("Beep-Status")) == ("avmd", "DETECTED")
    assert event.get("Unique-ID") == event.unique_id
    assert event.get("Caller-Caller-ID-Number") is None  # mod_avmd adds no channel data


def test_a_person_answering_never_beeps():
    listener, variables = _call(AgentEndpoint(answer_after=0.1))
    assert "avmd_detect" not in variables and listener.events == []


def test_avmd_stop_before_the_beep_hears_nothing():
    listener, variables = _call(
        AgentEndpoint(answer_after=0.1, beep_after=2.0), stop='<action application="avmd_stop"/>'
    )
    assert "avmd_detect" not in variables and listener.events == []
