"""With a SIP front (Kamailio before several switches) the ACD rings an agent through it, not on its own switch."""

from __future__ import annotations

import dataclasses

from acd_site import AcdSite, acd_settings, add_agents, events, queue

from ccctl.config import SipFrontSettings, SwitchNode
from ccctl.sim.callers import CallerScript
from ccctl.sim.originate import AgentEndpoint


def test_a_queued_caller_reaches_the_agent_through_the_sip_front(sqlite_url, tmp_path):
    settings = acd_settings(sqlite_url, tmp_path)
    nodes = [SwitchNode("fs-a", "127.0.0.1:5080"), SwitchNode("fs-b", "127.0.0.2:5080")]
    settings = dataclasses.replace(settings, sip_front=SipFrontSettings(listen="127.0.0.9:5060", nodes=nodes))
    add_agents(sqlite_url, {"ann": ("1001", "cardio")})
    queue(sqlite_url)
    with AcdSite(settings, {}) as site:
        # the agent's phone is not registered on this switch: only Kamailio (a remote party here) reaches it
        site.switch.remotes["1001"] = AgentEndpoint(answer_after=1, talk_seconds=2)
        outcome = site.switch.place_call(CallerScript("13800000001", "7000", [], context="public")).wait(30)
        site.wait_idle()
    assert outcome.answered and outcome.bridged_to == ["sofia/trunk/1001@127.0.0.9:5060"]
    kinds = [kind for _, kind, _ in events(sqlite_url)]
    assert kinds[-3:] == ["answered", "ended", "wrapup_end"]
