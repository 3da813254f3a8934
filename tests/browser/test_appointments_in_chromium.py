"""The booking panel in real headless Chromium: from the agent's screen pop, book a free slot, move it, cancel it;
each change is listed and audited, and the patient's SMS is written in their language with the Warsaw time."""

import dataclasses
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from emulated_site import site_settings
from sqlalchemy import select
from sqlalchemy.orm import Session
from web_site import PASSWORD, seed

from ccctl.config import AppointmentsSettings
from ccctl.records.database import make_engine
from ccctl.records.models.appointments import Department, Doctor, Slot
from ccctl.records.models.audit import AuditEntry
from ccctl.records.models.channels import SmsMessage
from ccctl.serve.controller import Controller

WARSAW = ZoneInfo("Europe/Warsaw")
DAY = datetime.now(UTC).date() + timedelta(days=2)
FIRST = datetime(DAY.year, DAY.month, DAY.day, 8, 0, tzinfo=UTC)


def in_db(url: str, work):
    engine = make_engine(url)
    try:
        with Session(engine, expire_on_commit=False) as db, db.begin():
            return work(db)
    finally:
        engine.dispose()


def add_schedule(db) -> list[int]:
    cardiology = Department(code="CARD", name="Cardiology", names={"pl": "Kardiologia"})
    doctor = Doctor(code="D1", name="Dr Nowak", department=cardiology)
    slots = [Slot(doctor=doctor, department=cardiology, starts_at=FIRST + timedelta(minutes=20 * n)) for n in range(3)]
    db.add_all(slots)
    db.flush()
    return [slot.id for slot in slots]


@pytest.fixture
def console(sqlite_url, tmp_path):
    """A controller without a switch (its console on an ephemeral port), Warsaw time, an SMS gateway that refuses."""
    ids = seed(sqlite_url)
    slots = in_db(sqlite_url, add_schedule)
    settings = site_settings(sqlite_url, tmp_path)
    settings = dataclasses.replace(
        settings,
        web=dataclasses.replace(settings.web, secret_key="browser-test"),
        appointments=AppointmentsSettings(timezone="Europe/Warsaw"),
        sms=dataclasses.replace(settings.sms, sendsms_url="http://127.0.0.1:9/cgi-bin/sendsms", request_timeout=2),
    )
    controller = Controller(settings, record_sink=lambda record: None, connect_inbound=False)
    controller.start()
    try:
        host, port = controller.web_address
        web_context = controller._web.application.extensions["ccctl"]
        yield f"http://{host}:{port}", web_context, ids, slots
    finally:
        controller.stop(grace=1)


def local(slot_index: int) -> str:
    return f"{(FIRST + timedelta(minutes=20 * slot_index)).astimezone(WARSAW):%Y-%m-%d %H:%M}"


def test_agent_books_moves_and_cancels_a_visit_from_the_screen_pop(console, sqlite_url, browser_page):
    base, web_context, ids, slots = console
    page = browser_page
    page.goto(f"{base}/login")
    page.fill("#name", "agent2")  # works in Polish
    page.fill("#password", PASSWORD)
    page.click("#login-button")
    page.wait_for_url(f"{base}/workstation")
    page.wait_for_selector("body[data-stream=open]")
    web_context.screen_pops.on_acd_event(
        {"type": "offered", "agent": "agent2", "call_uuid": "c-7", "patient_id": ids["anna"], "queue": "general"}
    )
    page.click("#pop-appointments")  # click one: the panel
    page.wait_for_selector("#free-slots")
    assert page.text_content("#upcoming-visits td").strip() == "Brak"
    page.click(f"tr[data-slot='{slots[1]}'] button.book-slot")  # click two: booked
    page.wait_for_selector("#panel-message")
    assert page.text_content("#panel-message") == "Wizyta 1 zarezerwowana; pacjent zostanie powiadomiony."
    visit = page.locator("#upcoming-visits tr.visit")
    assert visit.locator("td").first.text_content() == local(1)
    assert page.locator(f"tr[data-slot='{slots[1]}']").count() == 0  # no longer offered

    page.click("#upcoming-visits a.move-visit")
    page.click(f"tr[data-slot='{slots[2]}'] button.move-here")
    page.wait_for_selector("text=Wizyta przeniesiona (teraz 2)")
    assert page.locator("#upcoming-visits tr.visit td").first.text_content() == local(2)

    page.click("#upcoming-visits button.cancel-visit")
    page.wait_for_selector("text=Wizyta 2 odwołana")
    assert page.locator("#upcoming-visits tr.visit").count() == 0

    def outcome(db):
        audit = [a.action for a in db.scalars(select(AuditEntry).where(AuditEntry.actor == "agent2"))]
        texts = [m.body for m in db.scalars(select(SmsMessage).order_by(SmsMessage.id))]
        return audit, texts

    audit, texts = in_db(sqlite_url, outcome)
    assert [a for a in audit if a.startswith("appointment ")] == [
        "appointment booked",
        "appointment moved",
        "appointment cancelled",
    ]
    assert audit.count("appointments read") >= 4  # the panel's every showing
    # the agent works in Polish, the patient reads English: the SMS is in the patient's language, Warsaw time
    when = (FIRST + timedelta(minutes=20)).astimezone(WARSAW)
    assert texts[0] == f"Your visit is booked: Cardiology, Dr Nowak, {when:%d %b %Y %H:%M}. Ref 1."
    assert len(texts) == 3
