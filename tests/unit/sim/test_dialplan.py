"""The XML dialplan executor: conditions, anti-actions, continue, break, $1 and ${var}."""

from __future__ import annotations

import pytest

from ccctl.sim.channel import Channel
from ccctl.sim.dialplan import Dialplan, DialplanError
from ccctl.sim.switch import Switch

PLAN = """<include><context name="default">
  <extension name="tag" continue="true">
    <condition field="caller_id_number" expression="^(138)\\d+$">
      <action application="set" data="prefix=$1" inline="true"/>
    </condition>
  </extension>
  <extension name="hotline">
    <condition field="destination_number" expression="^(70\\d\\d)$">
      <action application="set" data="cc_hotline=line_$1"/>
      <action application="socket" data="127.0.0.1:8084 async full"/>
    </condition>
  </extension>
  <extension name="vip">
    <condition field="${prefix}" expression="^139$" break="never">
      <action application="set" data="vip=yes"/>
      <anti-action application="set" data="vip=no"/>
    </condition>
    <condition field="destination_number" expression="^8000$">
      <action application="playback" data="closed.wav"/>
    </condition>
  </extension>
</context></include>"""


def _channel(caller: str, destination: str, context: str = "default") -> Channel:
    return Channel(Switch(), "u-1", "loopback/x-b", "inbound", caller, destination, context=context)


def test_matching_did_sets_hotline_with_the_captured_number_and_connects():
    ch = _channel("13800000001", "7001")
    apps = Dialplan.from_xml(PLAN).route(ch)
    assert apps == [("set", "cc_hotline=line_7001"), ("socket", "127.0.0.1:8084 async full")]
    assert ch.get_var("prefix") == "138"  # inline set ran at routing time, continue="true" went on


def test_anti_action_runs_when_a_variable_condition_fails_and_break_never_goes_on():
    ch = _channel("13800000001", "8000")
    assert Dialplan.from_xml(PLAN).route(ch) == [("set", "vip=no"), ("playback", "closed.wav")]


def test_no_matching_extension_routes_nowhere():
    plan = Dialplan.default("127.0.0.1:8084", did="7000")
    assert plan.route(_channel("555", "9999")) is None
    assert plan.route(_channel("555", "7000", context="public")) is None


def test_anti_actions_of_a_failed_extension_still_run():
    # mod_dialplan_xml adds anti-actions to the call's extension even when the extension fails
    assert Dialplan.from_xml(PLAN).route(_channel("555", "9999")) == [("set", "vip=no")]


def test_default_dialplan_sends_the_did_to_the_controller():
    apps = Dialplan.default("10.0.0.5:9000", did="7100", hotline="cardio").route(_channel("1", "7100"))
    assert apps == [("set", "cc_hotline=cardio"), ("socket", "10.0.0.5:9000 async full")]


@pytest.mark.parametrize(
    "text, message",
    [
        ("<include><context>", "not valid XML"),
        ("<include><context><extension/></context></include>", "has no name"),
        (
            '<include><context name="d"><extension name="bad"><condition field="x" expression="("/>'
            "</extension></context></include>",
            "extension 'bad': bad expression '('",
        ),
    ],
)
def test_broken_dialplans_name_what_is_wrong(text, message):
    with pytest.raises(DialplanError, match=message.replace("(", r"\(").replace("'", "'")):
        Dialplan.from_xml(text, source="dialplan/default.xml")
