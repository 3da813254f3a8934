"""The booking panel in real headless Chromium: from the agent's screen pop, book a free slot, move it, cancel it;
each change is listed and audited, and the patient's SMS is written in their language with the Warsaw time;
through Kannel and fakesmsc the patient's phone receives the booking's text."""

import dataclasses
import subprocess
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import gevent
import pytest
from emulated_site import site_settings
from sqlalchemy import select
from sqlalchemy.orm import Session
from test_sms_kannel import FAKESMSC, _read_outgoing, free_port, wait_for_port, wait_until
from web_site import PASSWORD, seed

from ccctl.channels.sms_kannel import render_kannel_conf
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


def run_console(sqlite_url, tmp_path, sms):
    """A controller without a switch (its console on an ephemeral port), Warsaw time, the given SMS settings."""
    ids = seed(sqlite_url)
    slots = in_db(sqlite_url, add_schedule)
    settings = site_settings(sqlite_url, tmp_path)
    settings = dataclasses.replace(
        settings,
        web=dataclasses.replace(settings.web, secret_key="browser-test"),
        appointments=AppointmentsSettings(timezone="Europe/Warsaw"),
        sms=sms(settings.sms),
    )
    controller = Controller(settings, record_sink=lambda record: None, connect_inbound=False)
    controller.start()
    try:
        host, port = controller.web_address
        web_context = controller._web.application.extensions["ccctl"]
        yield f"http://{host}:{port}", web_context, ids, slots
    finally:
        controller.stop(grace=1)


@pytest.fixture
def console(sqlite_url, tmp_path):
    """The console with an SMS gateway that refuses: texts are written and kept, none leaves."""
    refusing = "http://127.0.0.1:9/cgi-bin/sendsms"
    yield from run_console(
        sqlite_url, tmp_path, lambda sms: dataclasses.replace(sms, sendsms_url=refusing, request_timeout=2)
    )


@pytest.fixture
def kannel_phones(tmp_path):
    """Kannel's bearerbox and smsbox with a fake SMSC, and fakesmsc as the patients' phones: the SMS settings
    that reach it, and the list of (from, to, kind, text) the phones received."""
    out_port, sendsms_port, admin_port, smsbox_port = free_port(), free_port(), free_port(), free_port()

    def sms(settings):
        return dataclasses.replace(
            settings,
            sendsms_url=f"http://127.0.0.1:{sendsms_port}/cgi-bin/sendsms",
            bearerbox_admin_port=admin_port,
            bearerbox_smsbox_port=smsbox_port,
            sender="Hospital",
            request_timeout=5,
        )

    settings = site_settings("sqlite://", tmp_path)
    settings = dataclasses.replace(settings, sms=sms(settings.sms))
    smscs = [{"smsc": "fake", "smsc-id": "out", "port": str(out_port), "connect-allow-ip": "127.0.0.1"}]
    conf = tmp_path / "kannel.conf"
    conf.write_text(render_kannel_conf(settings, smscs, log_dir=str(tmp_path), forced_smsc="out", log_level=0))
    processes: list[subprocess.Popen] = []
    received: list[tuple[str, str, str, str]] = []

    def start(*argv: str, log: str | None) -> subprocess.Popen:
        output = open(tmp_path / log, "wb") if log else subprocess.PIPE
        processes.append(subprocess.Popen(argv, stdout=output, stderr=subprocess.STDOUT))
        return processes[-1]

    if not FAKESMSC.exists():
        pytest.fail("Kannel (kannel, kannel-extras) is not installed: scripts/install.sh --test", pytrace=False)
    try:
        start("/usr/sbin/bearerbox", "-v", "4", str(conf), log="bearerbox.out")
        wait_for_port(smsbox_port)
        start("/usr/sbin/smsbox", "-v", "4", str(conf), log="smsbox.out")
        phones = start(str(FAKESMSC), "-H", "127.0.0.1", "-r", str(out_port), "-m", "0", "0 0 text unused", log=None)
        gevent.spawn(_read_outgoing, phones.stdout, received)
        wait_for_port(sendsms_port)
        yield sms, received
    finally:
        for process in reversed(processes):
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


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


def test_the_patient_s_phone_receives_the_booking_an_agent_makes_in_chromium(
    kannel_phones, sqlite_url, tmp_path, browser_page
):
    sms, received = kannel_phones
    site = run_console(sqlite_url, tmp_path / "console", sms)
    base, web_context, ids, slots = next(site)
    try:
        page = browser_page
        page.goto(f"{base}/login")
        page.fill("#name", "agent1")
        page.fill("#password", PASSWORD)
        page.click("#login-button")
        page.wait_for_url(f"{base}/workstation")
        page.wait_for_selector("body[data-stream=open]")
        web_context.screen_pops.on_acd_event(
            {"type": "offered", "agent": "agent1", "call_uuid": "c-8", "patient_id": ids["anna"], "queue": "general"}
        )
        page.click("#pop-appointments")
        page.wait_for_selector("#free-slots")
        page.click(f"tr[data-slot='{slots[0]}'] button.book-slot")
        page.wait_for_selector("#panel-message")
        wait_until(lambda: received, "the patient's phone (fakesmsc) to receive the SMS", seconds=20)
    finally:
        site.close()
    when = FIRST.astimezone(WARSAW)
    sender, to, kind, text = received[0]
    assert (sender, to, kind) == ("Hospital", "+48600100200", "text")
    assert text == f"Your visit is booked: Cardiology, Dr Nowak, {when:%d %b %Y %H:%M}. Ref 1."
    sent = in_db(sqlite_url, lambda db: [(m.recipient, m.status) for m in db.scalars(select(SmsMessage))])
    assert sent == [("+48600100200", "sent")]
