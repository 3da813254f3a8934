"""The agent workstation: screen pops reach only their agent, wrap-ups are kept per call, status needs the ACD."""

import json

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from web_site import console, csrf, log_in, seed

from ccctl.records.database import make_engine
from ccctl.records.models.web import CallWrapUp


@pytest.fixture
def site(sqlite_url):
    ids = seed(sqlite_url)
    app, _ = console(sqlite_url)
    return app, ids, sqlite_url


def offer(app, agent: str, call_uuid: str, patient_id) -> None:
    app.extensions["ccctl"].screen_pops.on_acd_event(
        {"type": "offered", "agent": agent, "call_uuid": call_uuid, "patient_id": patient_id, "queue": "general"}
    )


def next_event(chunks) -> str:
    while True:
        text = next(chunks).decode()
        if text.startswith("event:"):
            return text


def test_offer_streams_to_its_agent_only(site):
    app, ids, _ = site
    mine, theirs = app.test_client(), app.test_client()
    log_in(mine, "agent1")
    log_in(theirs, "agent2")
    my_stream = iter(mine.get("/api/v1/agent/stream").response)
    their_stream = iter(theirs.get("/api/v1/agent/stream").response)
    assert next(my_stream).decode().startswith("retry:") and next(their_stream).decode().startswith("retry:")
    offer(app, "agent1", "call-7", ids["anna"])
    offer(app, "agent2", "call-8", None)
    event = next_event(my_stream)
    assert event.startswith("event: pop\n")
    data = json.loads(event.split("data: ", 1)[1])
    assert data == {"type": "offered", "agent": "agent1", "call_uuid": "call-7", "patient_id": ids["anna"],
                    "queue": "general"}  # fmt: skip
    assert json.loads(next_event(their_stream).split("data: ", 1)[1])["call_uuid"] == "call-8"


def test_page_loaded_mid_call_shows_the_current_offer(site):
    app, ids, _ = site
    offer(app, "agent1", "call-9", ids["wei"])
    client = app.test_client()
    log_in(client, "agent1")
    assert client.get("/api/v1/agent/current").json["offer"]["call_uuid"] == "call-9"
    assert '"call_uuid": "call-9"' in client.get("/workstation").get_data(as_text=True)


def test_wrap_up_is_saved_for_an_offered_call(site):
    app, ids, url = site
    offer(app, "agent1", "call-1", ids["anna"])
    client = app.test_client()
    log_in(client, "agent1")
    headers = {"X-CSRF-Token": csrf(client)}
    saved = client.post("/api/v1/calls/call-1/wrapup", json={"code": "resolved", "notes": "asked about visit"},
                        headers=headers)  # fmt: skip
    assert saved.status_code == 200 and saved.json["saved"]
    bad_code = client.post("/api/v1/calls/call-1/wrapup", json={"code": "nonsense"}, headers=headers)
    assert bad_code.status_code == 400 and bad_code.json["error"].startswith("code: 'nonsense' is not one of")
    not_mine = client.post("/api/v1/calls/call-2/wrapup", json={"code": "resolved"}, headers=headers)
    assert not_mine.status_code == 403
    engine = make_engine(url)
    try:
        with Session(engine) as db:
            rows = [(w.call_uuid, w.agent, w.code, w.notes) for w in db.scalars(select(CallWrapUp))]
    finally:
        engine.dispose()
    assert rows == [("call-1", "agent1", "resolved", "asked about visit")]


def test_status_change_is_checked_before_it_reaches_the_acd(site):
    app, _, _ = site
    client = app.test_client()
    log_in(client, "agent1")
    response = client.post("/api/v1/agent/status", json={"status": "dancing"}, headers={"X-CSRF-Token": csrf(client)})
    assert response.status_code == 400 and "not one of available, on_break, logged_out" in response.json["error"]
