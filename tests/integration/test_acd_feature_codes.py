"""Agents change their status from their phone: *21 log in, *23 break, *22 log out (the shipped dialplan)."""

from __future__ import annotations

import dataclasses

from acd_site import AcdSite, acd_settings, add_agents, agent_rows
from emulated_site import by_uuid, stored_calls

from ccctl.acd.agents import set_status
from ccctl.deploy.fs_render import build_model, render_texts
from ccctl.sim.callers import CallerScript
from ccctl.sim.dialplan import Dialplan
from ccctl.sim.originate import AgentEndpoint


def agents_dialplan(site: AcdSite) -> Dialplan:
    host, port = site.controller.outbound_address
    routed = dataclasses.replace(site.settings.esl, outbound_host=host, outbound_port=port)
    texts = render_texts(build_model(dataclasses.replace(site.settings, esl=routed)))
    # agents.xml routes the codes; public.xml holds the context a dropped socket falls back to
    return Dialplan.from_xml(
        texts["dialplan/agents.xml"].replace("</include>", "") + texts["dialplan/public.xml"].replace("<include>", ""),
        source="dialplan/agents.xml + public.xml",
    )


def dial(site: AcdSite, extension: str, code: str):
    outcome = site.switch.place_call(CallerScript(extension, code, [], context="agents")).wait(30)
    assert outcome.failure == ""
    return outcome


def test_feature_codes_change_the_agents_status(sqlite_url, tmp_path):
    settings = acd_settings(sqlite_url, tmp_path)
    add_agents(sqlite_url, {"ann": ("1001", "cardio")})
    set_status(sqlite_url, "ann", "Logged Out")
    with AcdSite(settings, {"1001": AgentEndpoint()}) as site:
        site.switch.dialplan = agents_dialplan(site)
        dial(site, "1001", "*21")
        assert agent_rows(sqlite_url)["ann"].status == "available"
        dial(site, "1001", "*23")
        assert agent_rows(sqlite_url)["ann"].status == "on_break"
        dial(site, "1001", "*22")
        assert agent_rows(sqlite_url)["ann"].status == "logged_out"
        stranger = dial(site, "1050", "*21")  # an extension no agent has: told so, nothing changes
        assert stranger.answered
        site.wait_idle()
    calls = by_uuid(stored_calls(sqlite_url))
    assert calls[stranger.uuid]["path"][-1] == "unknown_agent"
    assert calls[stranger.uuid]["disposition"] == "completed"
