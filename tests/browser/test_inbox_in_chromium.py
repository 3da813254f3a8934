"""The shared inbox and the ticket board in real headless Chromium: an agent files a web-form message under its
patient and answers it (the answer goes by the e-mail the patient gave), plays a voice message in the page and
decides it is a ticket, then works the ticket on the board; the pages in Chinese and Polish."""

import dataclasses
import wave
from pathlib import Path

import pytest
from email_servers import smtp_server  # noqa: F401 - the fixture
from emulated_site import site_settings
from sqlalchemy import select
from sqlalchemy.orm import Session
from web_site import PASSWORD, seed

from ccctl.channels.inbox import IncomingMessage, receive
from ccctl.records.database import make_engine
from ccctl.records.models.audit import AuditEntry
from ccctl.records.models.calls import VoiceMessage
from ccctl.records.models.inbox import Ticket
from ccctl.serve.controller import Controller
from ccctl.tickets.follow_up import file_voice_messages


def silent_wav(path: Path) -> None:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(b"\0\0" * 1600)


def in_db(url: str, work):
    engine = make_engine(url)
    try:
        with Session(engine) as db, db.begin():
            return work(db)
    finally:
        engine.dispose()


@pytest.fixture
def console(sqlite_url, tmp_path, smtp_server):  # noqa: F811 - the fixture
    """A controller without a switch; a web-form message that names its patient (not yet confirmed) and a voice
    message of the same patient, recorded into a tmp file."""
    ids = seed(sqlite_url)
    recording = tmp_path / "voice" / "complaint-1.wav"
    recording.parent.mkdir()
    silent_wav(recording)

    def fill(db):
        form = IncomingMessage("web", "anna.k@example.org", "Web form", "Patient code: P000001\n\nMove my visit?")
        form.verified = False
        web_item = receive(db, form)
        db.add(VoiceMessage(call_uuid="call-1", patient_id=ids["anna"], path=str(recording), reason="complaint"))
        db.flush()
        (voice_item,) = file_voice_messages(db)
        return web_item, voice_item

    web_item, voice_item = in_db(sqlite_url, fill)
    settings = site_settings(sqlite_url, tmp_path)
    email = dataclasses.replace(settings.email, smtp_host=smtp_server.host, smtp_port=smtp_server.port)
    settings = dataclasses.replace(
        settings, email=email, web=dataclasses.replace(settings.web, secret_key="browser-test")
    )
    controller = Controller(settings, record_sink=lambda record: None, connect_inbound=False)
    controller.start()
    try:
        host, port = controller.web_address
        yield f"http://{host}:{port}", sqlite_url, ids["anna"], web_item, voice_item, str(tmp_path)
    finally:
        controller.stop(grace=1)


def submit(page, form: str) -> None:
    page.click(f"{form} button")
    page.wait_for_selector(".flash")


def test_an_agent_answers_files_and_tickets_inbox_items_and_works_the_ticket_board(
    console,
    browser_page,
    smtp_server,  # noqa: F811 - the fixture
):
    base, url, anna, web_item, voice_item, tmp = console
    page = browser_page
    page.goto(f"{base}/login")
    page.fill("#name", "agent1")
    page.fill("#password", PASSWORD)
    page.click("#login-button")
    page.click("nav >> text=Inbox")
    page.wait_for_selector("#inbox-list")
    rows = page.locator("#inbox-list tr[data-item]")
    assert [r.get_attribute("data-item") for r in rows.all()] == [str(voice_item), str(web_item)]
    page.select_option("#inbox-sort", "oldest")
    page.click("#inbox-apply")
    assert page.locator("#inbox-list tr[data-item]").first.get_attribute("data-item") == str(web_item)
    assert "patient not confirmed" in page.inner_text(f"tr[data-item='{web_item}']")

    # the web-form message: filed under its patient, then answered by the e-mail address given in the form
    page.click(f"tr[data-item='{web_item}'] td a >> nth=0")
    assert page.inner_text("#item-suggested") == "Suggested patient (not confirmed): P000001"
    page.fill("#file-form input[name=patient_code]", "P000001")
    submit(page, "#file-form")
    assert page.inner_text("#item-patient").strip() == "P000001"
    assert page.inner_text("#reply-route") == "The reply goes by e-mail to anna.k@example.org"
    page.fill("#reply-form textarea", "Your visit is now on Monday at 10:00.")
    submit(page, "#reply-form")
    assert page.inner_text(".flash.ok") == "Reply sent."
    (mail,) = smtp_server.messages()
    assert (mail["To"], mail.get_content().strip()) == ("anna.k@example.org", "Your visit is now on Monday at 10:00.")
    refused = page.evaluate(
        f"fetch('/inbox/{web_item}/flag', {{method: 'POST', body: new URLSearchParams({{flag: 'done'}})}})"
        ".then(r => r.status)"
    )
    assert refused == 403  # no CSRF token

    # the voice message plays from the page (never a path on the server) and becomes a ticket because we say so
    page.goto(f"{base}/inbox/{voice_item}")
    source = page.get_attribute("#item-attachments audio", "src")
    assert source.startswith(f"/inbox/{voice_item}/files/") and tmp not in page.content()
    page.wait_for_function("document.querySelector('#item-attachments audio').readyState >= 1")
    assert page.evaluate("document.querySelector('#item-attachments audio').duration") == pytest.approx(0.2)
    assert in_db(url, lambda db: db.query(Ticket).count()) == 0
    page.click("#ticket-form button")
    page.wait_for_selector("#ticket")
    assert page.inner_text("#ticket-state") == "new"
    assert page.inner_text("#ticket-patient") == "P000001"

    page.click("nav >> text=Tickets")
    card = page.locator("section[data-state='new'] .ticket")
    assert card.locator(".patient").inner_text() == "P000001" and card.locator(".owner").inner_text() == "nobody"
    card.locator("a").click()
    submit(page, "#ticket-assign")  # empty owner: the user who pressed
    assert page.inner_text("#ticket-owner") == "agent1"
    page.click("nav >> text=Tickets")
    assert page.locator("section[data-state='assigned'] .ticket .owner").inner_text() == "agent1"

    audits = in_db(url, lambda db: db.execute(select(AuditEntry.actor, AuditEntry.action, AuditEntry.patient_id)).all())
    for action in ("inbox show", "inbox attachment", "inbox reply", "ticket show"):
        assert ("agent1", action, anna) in [tuple(row) for row in audits]
    for action in ("inbox list", "tickets board"):  # the lists show patients' codes and subjects too
        assert ("agent1", action, None) in [tuple(row) for row in audits]

    for language, board, inbox in (("zh", "工单看板", "收件箱"), ("pl", "Tablica zgłoszeń", "Skrzynka")):
        page.select_option("#language", language)
        page.wait_for_selector(f"h1 >> text={board}")
        assert page.locator(f"nav >> text={inbox}").count() == 1
