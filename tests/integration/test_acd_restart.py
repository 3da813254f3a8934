"""Kill the controller while callers wait in a queue; a new controller on the same database serves them all."""

from __future__ import annotations

import dataclasses

from acd_site import AcdSite, acd_settings, add_agents, entries, events, queue, wait_until

from ccctl.acd.agents import set_status
from ccctl.deploy.fs_render import build_model, render_texts
from ccctl.serve.controller import Controller, build_flow_registry
from ccctl.sim.callers import CallerScript
from ccctl.sim.dialplan import Dialplan
from ccctl.sim.originate import AgentEndpoint


def test_callers_waiting_when_the_controller_dies_are_all_served_by_the_next_one(db_url, tmp_path):
    settings = acd_settings(db_url, tmp_path)
    add_agents(db_url, {"ann": ("1001", "cardio"), "bob": ("1002", "cardio")})
    for name in ("ann", "bob"):
        set_status(db_url, name, "On Break")
    queue(db_url)
    phones = {ext: AgentEndpoint(answer_after=1, talk_seconds=3) for ext in ("1001", "1002")}
    with AcdSite(settings, phones) as site:
        site.switch.dialplan = parked_after_socket(site)
        handles = [
            site.switch.place_call(CallerScript(f"1380000000{n}", "7000", [], context="public")) for n in (1, 2, 3)
        ]
        first = site.controller.acd
        assert wait_until(lambda: len(first.snapshot()["queues"][0]["waiting"]) == 3)
        # in line means the switch was told to keep them too (socket_resume comes just after the entry)
        assert wait_until(lambda: all(site.switch.channels[h.uuid].get_var("socket_resume") == "true" for h in handles))

        site.controller.stop(grace=0)  # its sockets close, the callers stay on the switch, its heartbeat goes
        assert all(site.switch.sessions.get(h.uuid) is not None for h in handles)

        site.controller = Controller(
            site.settings, record_sink=site.store.save, registry=build_flow_registry(site.settings)
        )
        site.controller.start()
        for name in ("ann", "bob"):
            set_status(db_url, name, "Available")
        site.controller.acd.wake()
        outcomes = [h.wait(60) for h in handles]
        site.wait_idle()
    assert all(o.answered and len(o.bridged_to) == 1 for o in outcomes)
    assert set(entries(db_url).values()) == {"done"}
    kinds = [(uuid, kind) for uuid, kind, _ in events(db_url)]
    for outcome in outcomes:
        mine = [kind for uuid, kind in kinds if uuid == outcome.uuid]
        assert mine[:2] == ["entered", "readopted"] and mine[-3:] == ["answered", "ended", "wrapup_end"]


def parked_after_socket(site: AcdSite) -> Dialplan:
    """The shipped dialplan: after a dropped socket, a queued caller (socket_resume=true) is parked
    (context ccctl_socket_loss) until a controller takes it back; any other call is hung up."""
    host, port = site.controller.outbound_address
    routed = dataclasses.replace(site.settings.esl, outbound_host=host, outbound_port=port)
    xml = render_texts(build_model(dataclasses.replace(site.settings, esl=routed)))["dialplan/public.xml"]
    return Dialplan.from_xml(xml, source="dialplan/public.xml")


def test_a_second_controller_leaves_the_callers_of_a_live_one_alone(sqlite_url, tmp_path):
    settings = acd_settings(sqlite_url, tmp_path)
    add_agents(sqlite_url, {"ann": ("1001", "cardio")})
    set_status(sqlite_url, "ann", "On Break")
    queue(sqlite_url)
    with AcdSite(settings, {"1001": AgentEndpoint(answer_after=1, talk_seconds=2)}) as site:
        site.switch.dialplan = parked_after_socket(site)
        handle = site.switch.place_call(CallerScript("13800000001", "7000", [], context="public"))
        assert wait_until(lambda: site.controller.acd.snapshot()["queues"][0]["waiting"])
        second = Controller(site.settings, record_sink=site.store.save, registry=build_flow_registry(site.settings))
        second.start()
        try:
            assert wait_until(lambda: second.acd.adoption_passes >= 1)  # the first controller's heartbeat is fresh
            set_status(sqlite_url, "ann", "Available")
            second.acd.wake()
            site.controller.acd.wake()
            outcome = handle.wait(30)
            site.wait_idle()
        finally:
            second.stop(grace=1)
    assert second.acd.adopted == 0 and outcome.bridged_to == ["sofia/internal/1001@cc.local"]
    assert "readopted" not in [kind for _, kind, _ in events(sqlite_url)]


def test_callers_left_by_a_stopped_site_are_not_shown_waiting_when_the_switch_has_no_such_call(db_url, tmp_path):
    """serve and its switch stopped together: the entries of their callers must not haunt the next wallboard."""
    from datetime import timedelta

    from sqlalchemy.orm import Session

    from ccctl.records.database import make_engine
    from ccctl.records.models.acd import QueueEntry
    from ccctl.records.models.base import utc_now

    settings = acd_settings(db_url, tmp_path)
    queue(db_url)
    engine = make_engine(db_url)
    with Session(engine) as session, session.begin():
        long_ago = utc_now() - timedelta(minutes=5)
        for n, status in enumerate(("waiting", "waiting", "offered", "bridged")):
            session.add(QueueEntry(queue="cardio", call_uuid=f"ghost-{n}", status=status, owner="gone:1:x",
                                   entered_at=long_ago, updated_at=long_ago))  # fmt: skip
    engine.dispose()
    with AcdSite(settings, {}) as site:
        assert wait_until(lambda: site.controller.acd.adoption_passes >= 1, timeout=15)
        assert site.controller.acd.snapshot()["queues"][0]["waiting"] == []
    assert entries(db_url) == {
        "ghost-0": "abandoned",
        "ghost-1": "abandoned",
        "ghost-2": "abandoned",
        "ghost-3": "done",
    }
