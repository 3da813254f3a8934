"""The patient contact form in real headless Chromium: message + document into the inbox (unverified: the patient
it names is only suggested), complaints as tickets, refusals that bring the form back filled in."""

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


HOSPITAL = "Szpital św. Łukasza"

# small enough that a test document can be larger than the console takes in one request
MAX_UPLOAD_BYTES = 200_000


@pytest.fixture
def site(sqlite_url, tmp_path):
    ids = seed(sqlite_url)
    settings = site_settings(sqlite_url, tmp_path)
    settings = dataclasses.replace(
        settings,
        web=dataclasses.replace(settings.web, secret_key="contact-test"),
        inbox=dataclasses.replace(settings.inbox, attachments_dir=str(tmp_path / "attachments")),
        uploads=dataclasses.replace(settings.uploads, max_bytes=MAX_UPLOAD_BYTES),
        contact_form=dataclasses.replace(settings.contact_form, max_per_address=3, hospital_name=HOSPITAL),
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
    # the typed phone number names Anna, but proves nothing: staff confirm with `ccctl inbox file`
    assert (item.channel, item.patient_id, item.suggested_patient_id, f"W{item.id}") == (
        "web",
        None,
        site["ids"]["anna"],
        reference,
    )
    (attachment,) = rows(site["url"], InboxAttachment)
    assert attachment.content_type == "application/pdf"
    stored = Path(attachment.path)
    assert stored.read_bytes() == PDF and stored.is_relative_to(site["tmp"] / "attachments")
    (ticket,) = rows(site["url"], Ticket)
    assert (ticket.source, ticket.category, ticket.patient_id, ticket.state) == ("web", "complaint", None, "new")


def test_a_renamed_executable_is_refused_and_nothing_is_stored(site, browser_page):
    fill(browser_page, site["base"], site["tmp"], ELF, "referral.pdf", complaint=False)
    assert "The document was not accepted" in browser_page.text_content("#contact-error")
    # what the patient wrote is still in the form, to send again with another file
    assert browser_page.input_value("#contact-message").startswith("The waiting time")
    assert rows(site["url"], InboxItem) == []
    assert not (site["tmp"] / "attachments").exists() or not any((site["tmp"] / "attachments").rglob("*.*"))


def test_a_document_too_large_for_the_console_comes_back_as_a_polish_error_with_the_message_kept(site, browser_page):
    browser_page.goto(f"{site['base']}/contact")
    browser_page.select_option("#language", "pl")
    browser_page.wait_for_selector("text=Napisz do szpitala")
    # over uploads.max_bytes + 1 MB: the console does not parse the request, yet the message comes back
    big = PDF[:-6] + b"\x00" * (MAX_UPLOAD_BYTES + 1_500_000) + b"%%EOF\n"
    fill(browser_page, site["base"], site["tmp"], big, "scan.pdf", complaint=True)
    error = browser_page.text_content("#contact-error")
    assert "Dokument nie został przyjęty: jest większy niż 0.2 MB." in error
    assert "Wiadomość nie została jeszcze wysłana" in error
    assert browser_page.input_value("#contact-message").startswith("The waiting time")
    assert browser_page.input_value("#contact-phone") == "+48600100200"
    assert browser_page.is_checked("#contact-complaint")
    assert rows(site["url"], InboxItem) == []


def test_a_pdf_with_javascript_inside_is_refused(site, browser_page):
    scripted = b"%PDF-1.4\n1 0 obj<</OpenAction<</S/JavaScript/JS(app.alert(1))>>>>endobj\ntrailer<<>>\n%%EOF\n"
    fill(browser_page, site["base"], site["tmp"], scripted, "referral.pdf", complaint=False)
    assert "it contains a script or program code" in browser_page.text_content("#contact-error")
    assert rows(site["url"], InboxItem) == []


def test_a_fourth_message_from_one_address_is_held_back_with_what_to_do(site, browser_page):
    for _ in range(3):
        fill(browser_page, site["base"], site["tmp"], PDF, "referral.pdf", complaint=False)
        assert browser_page.text_content("#reference").startswith("W")
    fill(browser_page, site["base"], site["tmp"], PDF, "referral.pdf", complaint=False)
    assert "Please try again in 60 minutes, or call us." in browser_page.text_content("#contact-error")
    assert browser_page.input_value("#contact-message").startswith("The waiting time")
    assert len(rows(site["url"], InboxItem)) == 3


def test_a_post_without_the_csrf_token_is_refused(site):
    request = urllib.request.Request(f"{site['base']}/contact", data=b"phone=1&message=hello", method="POST")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 403
    assert rows(site["url"], InboxItem) == []


def test_the_form_is_the_hospitals_page_in_chinese_and_a_missing_field_keeps_what_was_typed(site, browser_page):
    page = browser_page
    page.set_viewport_size({"width": 390, "height": 844})  # a phone
    page.goto(f"{site['base']}/contact")
    page.select_option("#language", "zh")
    page.wait_for_selector("text=给医院留言")
    assert page.text_content("#hospital-name") == HOSPITAL  # from contact_form.hospital_name
    assert page.text_content("#reply-time") == "我们会在 5 天内回复。"  # inbox.default_sla_hours: 120
    assert "请只写与您的问题相关的健康信息" in page.text_content("#privacy-notice")
    assert page.locator("header nav").count() == 0 and page.locator("#whoami").count() == 0  # no staff console
    # required fields are marked and tied to their labels; the form fits the phone's width
    assert page.get_by_label("留言内容").get_attribute("required") is not None
    assert page.locator("#contact-answer legend .mark").text_content() == "*"
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

    page.get_by_label("您的姓名").fill("Anna Kowalska")
    page.get_by_label("留言内容").fill("请给我回电话。")
    page.click("#contact-send")  # neither a phone number nor an e-mail address
    assert page.text_content("#contact-answer-error") == "请留下电话号码或电子邮箱，以便我们回复您。"
    assert page.get_attribute("#contact-phone", "aria-invalid") == "true"
    assert (page.input_value("#contact-name"), page.input_value("#contact-message")) == (
        "Anna Kowalska",
        "请给我回电话。",
    )
    assert page.text_content("#hospital-name") == HOSPITAL and rows(site["url"], InboxItem) == []
