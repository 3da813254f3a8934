"""Call controls act on the leg the agent talks to: a callback's screen pop names its queue entry (call_uuid)
and the originated leg (leg_uuid); the controls take either id and resolve the latest offer's leg."""

import pytest
from sqlalchemy.orm import Session
from web_site import console, csrf, log_in, seed

from ccctl.records.database import make_engine


@pytest.fixture
def site(sqlite_url):
    ids = seed(sqlite_url)
    app, _ = console(sqlite_url)
    return app, ids, sqlite_url


def offer(app, agent: str, call_uuid: str, leg_uuid: str | None = None) -> None:
    event = {"type": "offered", "agent": agent, "call_uuid": call_uuid, "patient_id": None, "queue": "cardio"}
    if leg_uuid is not None:
        event["leg_uuid"] = leg_uuid
    app.extensions["ccctl"].screen_pops.on_acd_event(event)


def test_a_callback_pop_resolves_to_its_latest_leg_for_its_agent_alone(site):
    app, _, url = site
    pops = app.extensions["ccctl"].screen_pops
    offer(app, "agent1", "callback-7", "leg-1")
    offer(app, "agent1", "call-8")  # an offer that names no leg (as chats' and older events')
    offer(app, "agent2", "call-9", "call-9")
    engine = make_engine(url)
    try:
        with Session(engine) as db:
            assert pops.live_leg(db, "callback-7", "agent1") == "leg-1"
            assert pops.live_leg(db, "leg-1", "agent1") == "leg-1"
            assert pops.live_leg(db, "callback-7", None) == "leg-1"  # a supervisor names any offered call
            assert pops.live_leg(db, "callback-7", "agent2") is None
            assert pops.live_leg(db, "call-8", "agent1") == "call-8"
            assert pops.live_leg(db, "call-9", "agent1") is None
        offer(app, "agent1", "callback-7", "leg-2")  # the same callback offered again on a new leg
        with Session(engine) as db:
            assert pops.live_leg(db, "callback-7", "agent1") == "leg-2"
    finally:
        engine.dispose()
    assert app.extensions["ccctl"].screen_pops.current("agent1")["leg_uuid"] == "leg-2"


def test_an_agent_controls_a_callback_by_the_pops_call_id_or_its_leg_and_no_one_elses(site):
    app, _, _ = site
    offer(app, "agent1", "callback-7", "leg-1")
    offer(app, "agent2", "call-9", "call-9")
    client = app.test_client()
    log_in(client, "agent1")
    headers = {"X-CSRF-Token": csrf(client)}

    def control(uuid: str):
        return client.post(f"/api/v1/calls/{uuid}/control", json={"action": "hangup"}, headers=headers)

    # allowed: the command goes to the switch, which this console is not connected to
    for uuid in ("callback-7", "leg-1"):
        answer = control(uuid)
        assert answer.status_code == 503 and answer.json["error"] == "no inbound ESL connection to FreeSWITCH"
    for uuid in ("call-9", "leg-2"):
        answer = control(uuid)
        assert answer.status_code == 403 and answer.json["error"] == "this call was not offered to you"
