"""One controller driving two switches (two emulators named fs-a and fs-b): each caller is served on its node."""

from __future__ import annotations

import dataclasses

from acd_site import acd_settings, add_agents, agent_rows, events, queue, wait_until

from ccctl.acd.agents import set_status
from ccctl.config import EslNode
from ccctl.local_site.site import emulator_dialplan
from ccctl.records.call_listing import list_calls
from ccctl.serve.client import format_status
from ccctl.serve.controller import Controller, build_flow_registry
from ccctl.sim.callers import CallerScript
from ccctl.sim.originate import AgentEndpoint
from ccctl.sim.registrations import fire_registration
from ccctl.sim.switch import Switch
from ccctl.web.alarm_board import evaluate

# an hour of hold: a caller reaches an agent only when the router's uuid_break reaches their node
HOUR_OF_HOLD = "silence_stream://3600000"


def test_callers_on_both_nodes_are_offered_agents_on_their_own_node(sqlite_url, tmp_path):
    settings = acd_settings(sqlite_url, tmp_path)
    add_agents(sqlite_url, {"ann": ("1001", "cardio"), "bob": ("1002", "cardio")})
    for name in ("ann", "bob"):
        set_status(sqlite_url, name, "Logged Out")
    queue(sqlite_url, hold_prompt=HOUR_OF_HOLD)
    switches = {
        name: Switch(time_factor=50.0, seed=7, password=settings.esl.password, hostname=name)
        for name in ("fs-a", "fs-b")
    }
    for switch in switches.values():
        switch.start()
        switch.default_agent = None
        # the agents' phones answer on either node (as behind Kamailio)
        switch.agents.update({ext: AgentEndpoint(answer_after=1, talk_seconds=2) for ext in ("1001", "1002")})
    nodes = [EslNode(name, "127.0.0.1", switch.esl_address[1]) for name, switch in switches.items()]
    esl = dataclasses.replace(settings.esl, nodes=nodes, inbound_port=nodes[0].port)  # the port fs render writes
    settings = dataclasses.replace(settings, esl=esl)
    registry = build_flow_registry(settings)
    controller = Controller(settings, registry=registry)
    controller.start()
    offered_on: dict[str, str] = {}  # call uuid -> the node the controller sent its commands to
    controller.acd.add_listener(
        lambda event: (
            event["type"] == "offered"
            and offered_on.setdefault(
                event["call_uuid"], controller.nodes.name_of(controller.client_for(event["call_uuid"]))
            )
        )
    )
    try:
        for switch in switches.values():
            switch.dialplan = emulator_dialplan(settings, controller)
        assert controller.nodes.wait_connected(timeout=10)
        handles = {
            name: switch.place_call(CallerScript(f"1380000000{i}", "7000", [], context="public"))
            for i, (name, switch) in enumerate(switches.items())
        }

        # both callers are on hold (the hour-long prompt playing) before any agent logs in
        def on_hold(name: str) -> bool:
            channel = switches[name].channels.get(handles[name].uuid)
            return channel is not None and channel.get_var("current_application_data") == HOUR_OF_HOLD

        assert wait_until(lambda: all(on_hold(name) for name in switches), timeout=20)
        for name in ("ann", "bob"):
            set_status(sqlite_url, name, "Available")
        controller.acd.wake()
        outcomes = {name: handle.wait(30) for name, handle in handles.items()}
        status = controller.status()
    finally:
        controller.stop(grace=2)
        registry.services.close()
        for switch in switches.values():
            switch.stop()
    for name, outcome in outcomes.items():
        assert outcome is not None and outcome.answered, name
        assert outcome.bridged_to and outcome.bridged_to[0].startswith("sofia/internal/100"), name
        assert offered_on[outcome.uuid] == name  # the call's commands went to its own node
    # each call's record names the node it was on (ccctl calls list --json / calls show)
    records = {row["uuid"]: row["node"] for row in list_calls(sqlite_url)}
    assert {name: records[outcome.uuid] for name, outcome in outcomes.items()} == {"fs-a": "fs-a", "fs-b": "fs-b"}
    kinds = [kind for _, kind, _ in events(sqlite_url)]
    assert kinds.count("answered") == 2
    assert [(n["name"], n["status"]) for n in status["esl"]["nodes"]] == [("fs-a", "connected"), ("fs-b", "connected")]
    text = format_status(status)
    assert "node:         fs-a: connected to 127.0.0.1:" in text and "node:         fs-b: connected to" in text


def test_a_node_that_stops_answering_is_an_alarm_naming_it_and_its_agents_leave_routing(sqlite_url, tmp_path):
    settings = acd_settings(sqlite_url, tmp_path)
    add_agents(sqlite_url, {"ann": ("1001", "cardio"), "bob": ("1002", "cardio")})
    queue(sqlite_url)
    switches = {
        name: Switch(time_factor=50.0, password=settings.esl.password, hostname=name) for name in ("fs-a", "fs-b")
    }
    for switch in switches.values():
        switch.start()
    nodes = [EslNode(name, "127.0.0.1", switch.esl_address[1]) for name, switch in switches.items()]
    esl = dataclasses.replace(settings.esl, nodes=nodes, inbound_port=nodes[0].port, reconnect_seconds=0.2)
    settings = dataclasses.replace(settings, esl=esl)
    registry = build_flow_registry(settings)
    controller = Controller(settings, registry=registry)
    controller.start()
    try:
        assert controller.nodes.wait_connected(timeout=10)
        # ann's phone registered through fs-a, bob's through fs-b (no SIP front: only that node reaches it)
        fire_registration(switches["fs-a"], "1001", "10.0.0.5", 5062)
        fire_registration(switches["fs-b"], "1002", "10.0.0.6", 5062)
        assert wait_until(lambda: all(a.contact for a in agent_rows(sqlite_url).values()), timeout=10)
        switches["fs-b"].stop()
        assert wait_until(lambda: agent_rows(sqlite_url)["bob"].status == "on_break", timeout=10)
        alarms = evaluate(controller.status(), None, settings.web.alarms, None)
    finally:
        controller.stop(grace=1)
        registry.services.close()
        switches["fs-a"].stop()
    assert [(a.kind, a.subject) for a in alarms] == [("node_lost", "fs-b")]
    assert alarms[0].text.startswith(f"FreeSWITCH node fs-b (127.0.0.1:{nodes[1].port}) is ")
    assert {name: row.status for name, row in agent_rows(sqlite_url).items()} == {"ann": "available", "bob": "on_break"}
