"""The booking panel's rules, through Flask's test client: whose visits an agent may see, CSRF, a taken slot."""

import pytest
from schedule_fixtures import add_cardiology, session_on
from sqlalchemy import select
from web_site import console, csrf_of, log_in, seed

from ccctl.appointments import store
from ccctl.records.models.appointments import Appointment
from ccctl.records.models.audit import AuditEntry


@pytest.fixture
def site(sqlite_url):
    ids = seed(sqlite_url)
    with session_on(sqlite_url) as session:
        slots = add_cardiology(session, slots=2)
    app, _ = console(sqlite_url)
    return app, ids, slots, sqlite_url


def offer(app, agent: str, patient_id: int) -> None:
    app.extensions["ccctl"].screen_pops.on_acd_event(
        {"type": "offered", "agent": agent, "call_uuid": "call-1", "patient_id": patient_id, "queue": "general"}
    )


def test_an_agent_sees_only_the_visits_of_a_patient_on_their_calls_and_the_refusal_is_audited(site):
    app, ids, _, url = site
    client = app.test_client()
    log_in(client, "agent1")
    assert client.get(f"/patients/{ids['anna']}/appointments").status_code == 403
    offer(app, "agent1", ids["anna"])
    page = client.get(f"/patients/{ids['anna']}/appointments")
    assert page.status_code == 200
    assert "Dr Novak D1" in page.get_data(as_text=True)
    with session_on(url) as session:
        actions = [(a.actor, a.action) for a in session.scalars(select(AuditEntry).order_by(AuditEntry.id))]
    assert actions == [("agent1", "view_refused"), ("agent1", "appointments read")]


def test_a_booking_without_the_csrf_token_is_refused(site):
    app, ids, slots, url = site
    client = app.test_client()
    log_in(client, "admin")
    answer = client.post(f"/patients/{ids['anna']}/appointments", data={"slot_id": slots[0]})
    assert answer.status_code == 403
    with session_on(url) as session:
        assert session.scalars(select(Appointment)).all() == []


def test_a_slot_taken_meanwhile_shows_a_sentence_and_books_nothing(site):
    app, ids, slots, url = site
    client = app.test_client()
    log_in(client, "admin")
    token = csrf_of(client.get(f"/patients/{ids['anna']}/appointments").get_data(as_text=True))
    with session_on(url) as session:  # another agent was quicker
        store.book(session, ids["wei"], slots[0], source="ivr", booked_by="ivr")
    answer = client.post(f"/patients/{ids['anna']}/appointments", data={"slot_id": slots[0], "csrf_token": token})
    assert answer.status_code == 409
    assert "Someone else has just booked this slot. Choose another." in answer.get_data(as_text=True)
    booked = client.post(f"/patients/{ids['anna']}/appointments", data={"slot_id": slots[1], "csrf_token": token})
    assert booked.status_code == 303
    assert "Visit 2 booked; the patient is told." in client.get(booked.headers["Location"]).get_data(as_text=True)
    with session_on(url) as session:
        held = session.execute(select(Appointment.patient_id, Appointment.held_slot_id).order_by(Appointment.id))
        assert list(held) == [(ids["wei"], slots[0]), (ids["anna"], slots[1])]
