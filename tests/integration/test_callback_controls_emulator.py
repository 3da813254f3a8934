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


def test_hold_and_hangup_from_the_workstation_reach_the_called_back_patient(sqlite_url, tmp_path):
    settings = acd_settings(sqlite_url, tmp_path)
    settings = dataclasses.replace(settings, web=dataclasses.replace(settings.web, secret_key="controls-test"))
    add_agents(sqlite_url, {"bob": ("1002", "cardio")})
    queue(sqlite_url)
    engine = make_engine(sqlite_url)
    with Session(engine) as db, db.begin():
        add_user(db, "bob", "agent", PASSWORD)
    engine.dispose()
    with AcdSite(settings, {"1002": AgentEndpoint(answer_after=1, talk_seconds=LONG_TALK)}) as site:
        assert site.controller.inbound.wait_connected(5)
        site.switch.remotes[PATIENT] = AgentEndpoint(answer_after=1, talk_seconds=LONG_TALK)
        in_transaction(
            sqlite_url,
            CallbackError,
            lambda s: place_for_agent(s, "bob", PATIENT, None, "preview", "bob", "test", queue="cardio"),
        )
        assert wait_until(lambda: ("answered", "bob") in [(k, a) for _, k, a in events(sqlite_url)], timeout=30)
        client = site.controller._web.application.test_client()
        login = csrf_of(client.get("/login").get_data(as_text=True))
        client.post("/login", data={"name": "bob", "password": PASSWORD, "csrf_token": login})
        headers = {"X-CSRF-Token": csrf_of(client.get("/workstation").get_data(as_text=True))}

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
