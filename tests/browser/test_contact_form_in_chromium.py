"""The patient contact form in real headless Chromium: message + document into the inbox, complaints as tickets."""

import dataclasses
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from emulated_site import site_settings
from sqlalchemy import select
from sqlalchemy.orm import Session
from web_site import seed

from ccctl.records.database import make_engine
from ccctl.records.models.inbox import InboxAttachment, InboxItem, Ticket
from ccctl.serve.controller import Controller, welcome_for_every_hotline

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
ELF = b"\x7fELF\x02\x01\x01" + b"\x00" * 200


@pytest.fixture
def site(sqlite_url, tmp_path):
    ids = seed(sqlite_url)
    settings = site_settings(sqlite_url, tmp_path)
    settings = dataclasses.replace(
        settings,
        web=dataclasses.replace(settings.web, secret_key="contact-test"),
        inbox=dataclasses.replace(settings.inbox, attachments_dir=str(tmp_path / "attachments")),
    )
    controller = Controller(
        settings, app_factory=welcome_for_every_hotline, record_sink=lambda record: None, connect_inbound=False
    )
    controller.start()
    host, port = controller.web_address
    try:
        yield {"base": f"http://{host}:{port}", "url": sqlite_url, "ids": ids, "tmp": tmp_path}
    finally:
        controller.stop(grace=1)


def rows(url, model):
    engine = make_engine(url)
    try:
        with Session(engine) as db:
            return list(db.scalars(select(model)))
    finally:
        engine.dispose()


def fill(page, base, tmp_path: Path, document: bytes, name: str, complaint: bool) -> None:
    page.goto(f"{base}/contact")
    page.fill("#contact-name", "Anna Kowalska")
    page.fill("#contact-phone", "+48600100200")
    page.fill("#contact-message", "The waiting time at the cardiology clinic was four hours.")
    path = tmp_path / name
    path.write_bytes(document)
    page.set_input_files("#contact-document", str(path))
    if complaint:
        page.check("#contact-complaint")
    page.click("#contact-send")


def test_a_patient_sends_a_complaint_with_a_referral(site, browser_page):
    fill(browser_page, site["base"], site["tmp"], PDF, "referral.pdf", complaint=True)
    reference = browser_page.text_content("#reference")
    assert reference.startswith("W")
    assert "48600100200" not in browser_page.url  # nothing the patient typed travels in the URL

    (item,) = rows(site["url"], InboxItem)
    assert (item.channel, item.patient_id, f"W{item.id}") == ("web", site["ids"]["anna"], reference)
    (attachment,) = rows(site["url"], InboxAttachment)
    assert attachment.content_type == "application/pdf"
    stored = Path(attachment.path)
    assert stored.read_bytes() == PDF and stored.is_relative_to(site["tmp"] / "attachments")
    (ticket,) = rows(site["url"], Ticket)
    assert (ticket.source, ticket.category, ticket.patient_id, ticket.state) == (
        "web",
        "complaint",
        item.patient_id,
        "new",
    )


def test_a_renamed_executable_is_refused_and_nothing_is_stored(site, browser_page):
    fill(browser_page, site["base"], site["tmp"], ELF, "referral.pdf", complaint=False)
    assert "The document was not accepted" in browser_page.text_content("#contact-error")
    # what the patient wrote is still in the form, to send again with another file
    assert browser_page.input_value("#contact-message").startswith("The waiting time")
    assert rows(site["url"], InboxItem) == []
    assert not (site["tmp"] / "attachments").exists() or not any((site["tmp"] / "attachments").rglob("*.*"))


def test_a_post_without_the_csrf_token_is_refused(site):
    request = urllib.request.Request(f"{site['base']}/contact", data=b"phone=1&message=hello", method="POST")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 403
    assert rows(site["url"], InboxItem) == []
