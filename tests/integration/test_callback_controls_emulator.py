"""The workstation's call controls on a click-to-call through the emulator: the screen pop names the callback
(the queue entry's call id) and the leg the ACD dialled; hold, unhold and hang-up sent by the workstation's
API with the pop's call id reach that leg, the patient's channel."""

from __future__ import annotations

import dataclasses
import re

from acd_site import AcdSite, acd_settings, add_agents, events, queue, wait_until
from emulated_site import stored_calls
from sqlalchemy.orm import Session

from ccctl.acd.callbacks import CallbackError
from ccctl.acd.click_to_call import place_for_agent
from ccctl.records.database import in_transaction, make_engine
from ccctl.sim.originate import AgentEndpoint
from ccctl.web.accounts import add_user

PATIENT = "+48600100300"
LONG_TALK = 3000  # emulated seconds: only the controls end this call
PASSWORD = "correct horse 1"


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)


def agents_with_logins(url: str, agents: dict[str, tuple[str, str]]) -> None:
    add_agents(url, agents)
    engine = make_engine(url)
    with Session(engine) as db, db.begin():
        for name in agents:
            add_user(db, name, "agent", PASSWORD)
    engine.dispose()


def workstation(site, name: str):
    """A logged-in agent's API session on the site's console, and its CSRF header."""
    client = site.controller._web.application.test_client()
    login = csrf_of(client.get("/login").get_data(as_text=True))
    client.post("/login", data={"name": name, "password": PASSWORD, "csrf_token": login})
    return client, {"X-CSRF-Token": csrf_of(client.get("/workstation").get_data(as_text=True))}


def call_now_for(url: str, agent: str) -> None:
    work = lambda s: place_for_agent(s, agent, PATIENT, None, "preview", agent, "test", queue="cardio")  # noqa: E731
    in_transaction(url, CallbackError, work)


def answered_by(url: str, agent: str) -> bool:
    return wait_until(lambda: ("answered", agent) in [(k, a) for _, k, a in events(url)], timeout=30)


def test_hold_and_hangup_from_the_workstation_reach_the_called_back_patient(sqlite_url, tmp_path):
    settings = acd_settings(sqlite_url, tmp_path)
    settings = dataclasses.replace(settings, web=dataclasses.replace(settings.web, secret_key="controls-test"))
    agents_with_logins(sqlite_url, {"bob": ("1002", "cardio")})
    queue(sqlite_url)
    with AcdSite(settings, {"1002": AgentEndpoint(answer_after=1, talk_seconds=LONG_TALK)}) as site:
        assert site.controller.inbound.wait_connected(5)
        site.switch.remotes[PATIENT] = AgentEndpoint(answer_after=1, talk_seconds=LONG_TALK)
        call_now_for(sqlite_url, "bob")
        assert answered_by(sqlite_url, "bob")
        client, headers = workstation(site, "bob")

        offer = client.get("/api/v1/agent/current").json["offer"]
        patient = site.switch.channels[offer["leg_uuid"]]  # the leg the ACD dialled, the patient on it
        assert patient.destination.endswith(PATIENT.lstrip("+")) and patient.up
        assert offer["call_uuid"] != patient.uuid  # the pop still names the callback's queue entry
        agent_leg = next(ch for ch in site.switch.channels.values() if "/1002@" in ch.name)

        def control(action: str):
            return client.post(f"/api/v1/calls/{offer['call_uuid']}/control", json={"action": action}, headers=headers)

        held = control("hold")
        assert held.status_code == 200, held.json
        assert "CF_HOLD" in agent_leg.flags
        assert wait_until(lambda: patient.get_var("current_application_data") == "local_stream://moh")
        assert control("unhold").status_code == 200
        assert wait_until(lambda: "CF_HOLD" not in agent_leg.flags)
        ended = control("hangup")
        assert ended.status_code == 200, ended.json
        assert wait_until(lambda: not patient.up)
        assert wait_until(lambda: ("ended", "bob") in [(k, a) for _, k, a in events(sqlite_url)], timeout=30)
        site.wait_idle()
    kinds = [(kind, agent) for _, kind, agent in events(sqlite_url)]
    assert kinds[:6] == [
        ("callback_requested", None),
        ("callback_pinned", "bob"),
        ("callback_made", None),
        ("offered", "bob"),
        ("answered", "bob"),
        ("ended", "bob"),
    ]
    assert [(c["uuid"], c["destination"]) for c in stored_calls(sqlite_url)] == [(patient.uuid, PATIENT)]


def test_a_transfer_from_the_workstation_moves_the_called_back_patient_and_the_new_agent_controls_the_leg(
    sqlite_url, tmp_path
):
    settings = acd_settings(sqlite_url, tmp_path)
    settings = dataclasses.replace(settings, web=dataclasses.replace(settings.web, secret_key="controls-test"))
    agents_with_logins(sqlite_url, {"bob": ("1002", "cardio"), "ann": ("1001", "dermato")})
    queue(sqlite_url)
    phones = {ext: AgentEndpoint(answer_after=1, talk_seconds=LONG_TALK) for ext in ("1001", "1002")}
    with AcdSite(settings, phones) as site:
        assert site.controller.inbound.wait_connected(5)
        site.switch.remotes[PATIENT] = AgentEndpoint(answer_after=1, talk_seconds=LONG_TALK)
        call_now_for(sqlite_url, "bob")
        assert answered_by(sqlite_url, "bob")
        bob, bob_headers = workstation(site, "bob")
        leg = bob.get("/api/v1/agent/current").json["offer"]["leg_uuid"]
        moved = bob.post("/api/v1/transfer", json={"kind": "blind", "to_agent": "ann"}, headers=bob_headers)
        assert moved.status_code == 200, moved.json
        assert answered_by(sqlite_url, "ann")
        ann, ann_headers = workstation(site, "ann")
        offer = ann.get("/api/v1/agent/current").json["offer"]
        assert offer["leg_uuid"] == leg  # the same patient's leg, now with ann
        patient = site.switch.channels[leg]
        assert patient.up
        ended = ann.post(f"/api/v1/calls/{offer['call_uuid']}/control", json={"action": "hangup"}, headers=ann_headers)
        assert ended.status_code == 200, ended.json
        assert wait_until(lambda: not patient.up)
        refused = bob.post(
            f"/api/v1/calls/{offer['call_uuid']}/control", json={"action": "hangup"}, headers=bob_headers
        )
        assert refused.status_code == 409  # bob's offer of it still stands, but the patient's leg is gone
        site.wait_idle()
    rung = [(kind, agent) for _, kind, agent in events(sqlite_url) if kind in ("offered", "answered", "transferred")]
    assert rung == [
        ("offered", "bob"),
        ("answered", "bob"),
        ("transferred", "bob"),
        ("offered", "ann"),
        ("answered", "ann"),
    ]
