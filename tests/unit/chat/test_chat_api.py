"""The chat through the console's Flask app: the widget's API (token header, no cookie) and the agent's API."""

from __future__ import annotations

import dataclasses
import io
import sys
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "web"))
from web_site import console, csrf, log_in, seed  # noqa: E402

from ccctl.acd.agents import add_agent, set_status
from ccctl.patients.pins import PinHasher
from ccctl.records.database import make_engine
from ccctl.records.models.audit import AuditEntry
from ccctl.records.models.chat import ChatSession
from ccctl.records.models.inbox import InboxAttachment, InboxItem
from ccctl.records.models.patients import Patient

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def site(sqlite_url, tmp_path):
    ids = seed(sqlite_url)
    add_agent(sqlite_url, "agent1", "1001", {"chat": 3})
    add_agent(sqlite_url, "agent2", "1002", {"billing": 3})
    set_status(sqlite_url, "agent1", "Available")
    set_status(sqlite_url, "agent2", "Available")
    app, _controller = console(sqlite_url)
    settings = app.extensions["ccctl"].settings
    app.extensions["ccctl"].settings = dataclasses.replace(
        settings, inbox=dataclasses.replace(settings.inbox, attachments_dir=str(tmp_path / "attachments"))
    )
    return app, sqlite_url, ids


def rows(url, model):
    engine = make_engine(url)
    try:
        with Session(engine) as db:
            return list(db.scalars(select(model).order_by(model.id)))
    finally:
        engine.dispose()


def start(client, lang="en") -> dict[str, str]:
    answer = client.post("/chat/api/start", json={"lang": lang})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return {"X-Chat-Token": answer.json["token"]}


def test_a_chinese_question_is_answered_with_the_parking_article_and_its_title(site):
    app, _url, _ids = site
    patient = app.test_client()
    token = start(patient, "zh")
    assert (
        patient.post("/chat/api/messages", json={"text": "医院停车场在哪里？收费吗"}, headers=token).status_code == 200
    )
    lines = patient.get("/chat/api/messages", headers=token).json["messages"]
    assert [line["who"] for line in lines] == ["assistant", "patient", "assistant"]
    assert lines[2]["article"] == "parking" and "停车" in lines[2]["source"]
    # without its token the chat is nobody's to read
    assert patient.get("/chat/api/messages").status_code == 404


def test_a_question_the_articles_do_not_cover_gets_no_guess(site):
    app, _url, _ids = site
    patient = app.test_client()
    token = start(patient)
    patient.post("/chat/api/messages", json={"text": "what is the capital of france"}, headers=token)
    last = patient.get("/chat/api/messages", headers=token).json["messages"][-1]
    assert last["article"] == "" and "could not find" in last["text"]


def test_an_agent_with_the_chat_skill_takes_the_chat_answers_and_transfers_it(site):
    app, url, ids = site
    patient, agent = app.test_client(), app.test_client()
    token = start(patient)
    patient.post("/chat/api/messages", json={"text": "where can I park my car"}, headers=token)
    assert patient.post("/chat/api/person", json={}, headers=token).json == {"state": "waiting"}
    log_in(agent, "agent1")
    header = {"X-CSRF-Token": csrf(agent)}
    (offer,) = agent.get("/api/v1/chats").json["chats"]
    assert offer["state"] == "waiting"
    assert agent.post(f"/api/v1/chats/{offer['id']}/accept", headers=header).status_code == 200
    view = agent.get(f"/api/v1/chats/{offer['id']}").json
    assert [m["who"] for m in view["messages"]][:3] == ["assistant", "patient", "assistant"]
    assert view["patient"] is None
    (best, *_rest) = agent.get(f"/api/v1/chats/{offer['id']}/suggestions").json["articles"]
    assert best["slug"] == "parking"
    sent = agent.post(
        f"/api/v1/chats/{offer['id']}/messages", json={"text": best["short"], "article": "parking"}, headers=header
    )
    assert sent.status_code == 200
    assert patient.get("/chat/api/messages", headers=token).json["messages"][-1]["who"] == "agent"
    # the patient signs in with member number + PIN: the agent's view gains the record, and it is audited
    engine = make_engine(url)
    with Session(engine) as db, db.begin():
        db.get(Patient, ids["anna"]).pin_hash = PinHasher().hash("4321")
    engine.dispose()
    assert (
        patient.post("/chat/api/sign-in/pin", json={"member": "880001", "pin": "1111"}, headers=token).status_code
        == 403
    )
    assert patient.post("/chat/api/sign-in/pin", json={"member": "880001", "pin": "4321"}, headers=token).json[
        "signed_in"
    ]
    view = agent.get(f"/api/v1/chats/{offer['id']}").json
    assert view["patient"]["name"] == "Anna Kowalska"
    audited = [(a.action, a.patient_id) for a in rows(url, AuditEntry) if a.action == "chat view"]
    assert ("chat view", ids["anna"]) in audited
    # a transfer to a colleague offers it to them alone; the first agent no longer sees it
    moved = agent.post(f"/api/v1/chats/{offer['id']}/transfer", json={"agent": "agent2"}, headers=header)
    assert moved.status_code == 200
    assert agent.get("/api/v1/chats").json["chats"] == []
    colleague = app.test_client()
    log_in(colleague, "agent2")
    header2 = {"X-CSRF-Token": csrf(colleague)}
    assert [c["id"] for c in colleague.get("/api/v1/chats").json["chats"]] == [offer["id"]]
    assert colleague.post(f"/api/v1/chats/{offer['id']}/accept", headers=header2).status_code == 200
    done = colleague.post(f"/api/v1/chats/{offer['id']}/wrapup", json={"code": "resolved"}, headers=header2)
    assert done.status_code == 200, done.get_data(as_text=True)
    (item,) = rows(url, InboxItem)
    assert (item.channel, item.patient_id, item.problem) == ("chat", ids["anna"], "")
    assert "where can I park my car" in item.body


def test_out_of_hours_the_patient_leaves_a_message_that_lands_in_the_inbox(site):
    app, url, _ids = site
    settings = app.extensions["ccctl"].settings
    app.extensions["ccctl"].settings = dataclasses.replace(
        settings, chat=dataclasses.replace(settings.chat, open_days=[])
    )
    patient = app.test_client()
    token = start(patient, "pl")
    assert patient.post("/chat/api/person", json={}, headers=token).json["leave"] is True
    left = patient.post(
        "/chat/api/leave", json={"contact": "anna@example.org", "text": "Prosze o kontakt"}, headers=token
    )
    (item,) = rows(url, InboxItem)
    assert left.json["reference"] == f"C{item.id}"
    assert item.needs_reply and "Prosze o kontakt" in item.body and item.patient_id is None
    assert rows(url, ChatSession)[0].state == "closed"


def test_a_file_goes_through_the_contact_forms_checks(site):
    app, url, _ids = site
    patient = app.test_client()
    token = start(patient)
    refused = patient.post("/chat/api/file", data={"file": (io.BytesIO(b"MZ\x90\x00"), "x.pdf")}, headers=token)
    assert refused.status_code == 400 and refused.json["error"] == "program"
    sent = patient.post("/chat/api/file", data={"file": (io.BytesIO(PDF), "ref.pdf")}, headers=token)
    assert sent.status_code == 200
    patient.post("/chat/api/end", json={}, headers=token)
    (item,) = rows(url, InboxItem)
    (attachment,) = rows(url, InboxAttachment)
    assert (attachment.item_id, attachment.content_type, item.problem) == (item.id, "application/pdf", "")


def test_too_many_chats_from_one_address_are_refused(site):
    app, _url, _ids = site
    settings = app.extensions["ccctl"].settings
    app.extensions["ccctl"].settings = dataclasses.replace(
        settings, chat=dataclasses.replace(settings.chat, max_chats_per_address=2)
    )
    patient = app.test_client()
    start(patient)
    start(patient)
    assert patient.post("/chat/api/start", json={"lang": "en"}).status_code == 429


def test_each_side_sees_the_other_typing(site):
    app, _url, _ids = site
    patient, agent = app.test_client(), app.test_client()
    token = start(patient)
    patient.post("/chat/api/person", json={}, headers=token)
    log_in(agent, "agent1")
    header = {"X-CSRF-Token": csrf(agent)}
    (offer,) = agent.get("/api/v1/chats").json["chats"]
    agent.post(f"/api/v1/chats/{offer['id']}/accept", headers=header)
    assert agent.get(f"/api/v1/chats/{offer['id']}").json["patient_typing"] is False
    patient.post("/chat/api/typing", json={}, headers=token)
    assert agent.get(f"/api/v1/chats/{offer['id']}?after=999").json["patient_typing"] is True
    assert patient.get("/chat/api/messages", headers=token).json["agent_typing"] is False
    agent.post(f"/api/v1/chats/{offer['id']}/typing", headers=header)
    assert patient.get("/chat/api/messages", headers=token).json["agent_typing"] is True
    # the agent's message ends their typing
    agent.post(f"/api/v1/chats/{offer['id']}/messages", json={"text": "Hello"}, headers=header)
    assert patient.get("/chat/api/messages", headers=token).json["agent_typing"] is False


def test_only_the_hospitals_site_may_call_the_chat_from_its_pages(site):
    app, _url, _ids = site
    settings = app.extensions["ccctl"].settings
    allowed = dataclasses.replace(settings.chat, allowed_origins=["https://www.hospital.example"])
    app.extensions["ccctl"].settings = dataclasses.replace(settings, chat=allowed)
    patient = app.test_client()
    asked = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "X-Chat-Token, Content-Type"}
    ours = patient.options("/chat/api/messages", headers={"Origin": "https://www.hospital.example", **asked})
    assert ours.headers["Access-Control-Allow-Origin"] == "https://www.hospital.example"
    assert "X-Chat-Token" in ours.headers["Access-Control-Allow-Headers"]
    other = patient.post("/chat/api/start", json={"lang": "en"}, headers={"Origin": "https://elsewhere.example"})
    assert "Access-Control-Allow-Origin" not in other.headers
