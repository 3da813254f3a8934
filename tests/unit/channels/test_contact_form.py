"""The contact form through the console's WSGI app: unverified filing, flood limits, refusals that keep the message."""

import dataclasses
import io
import logging

import pytest
from click.testing import CliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session
from web_site import csrf, seed

from ccctl.channels.web_form import typed_fields
from ccctl.cli import main
from ccctl.config import ConfigError, load_settings
from ccctl.records.database import make_engine
from ccctl.records.models.audit import AuditEntry
from ccctl.records.models.inbox import InboxAttachment, InboxItem, Ticket, TicketEvent
from ccctl.serve.controller import Controller
from ccctl.web.app import make_web_app

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
ANNA_PHONE = "+48600100200"
MESSAGE = "The waiting time at the cardiology clinic was four hours."


def contact_site(db_url, tmp_path, max_bytes=10_000_000, **limits):
    settings = load_settings("ccctl.yaml", environ={})
    settings = dataclasses.replace(
        settings,
        database=dataclasses.replace(settings.database, url=db_url),
        web=dataclasses.replace(settings.web, port=0, secret_key="test-secret"),
        inbox=dataclasses.replace(settings.inbox, attachments_dir=str(tmp_path / "attachments")),
        uploads=dataclasses.replace(settings.uploads, max_bytes=max_bytes),
        contact_form=dataclasses.replace(settings.contact_form, **limits),
    )
    app = make_web_app(Controller(settings, connect_inbound=False), settings)
    app.config["TESTING"] = True
    return app


@pytest.fixture
def patients(db_url):
    return seed(db_url)


def rows(url, model):
    engine = make_engine(url)
    try:
        with Session(engine) as db:
            return list(db.scalars(select(model).order_by(model.id)))
    finally:
        engine.dispose()


def send(client, phone=ANNA_PHONE, message=MESSAGE, document=None, complaint=False, address="192.0.2.1"):
    data = {"csrf_token": csrf(client), "name": "Anna", "phone": phone, "message": message}
    if complaint:
        data["complaint"] = "yes"
    if document is not None:
        data["document"] = (io.BytesIO(document[1]), document[0])
    return client.post("/contact", data=data, environ_base={"REMOTE_ADDR": address})


def ccctl(db_url, tmp_path, *args):
    settings = tmp_path / "ccctl-cli.yaml"
    settings.write_text(f"database:\n  url: {db_url}\n")
    return CliRunner().invoke(main, ["-c", str(settings), *args])


def test_a_message_naming_a_patient_by_phone_is_filed_unverified_until_staff_confirm_it(
    db_url, tmp_path, patients, monkeypatch
):
    for name in ("CCCTL_CONFIG", "CCCTL_DATABASE__URL"):
        monkeypatch.delenv(name, raising=False)
    client = contact_site(db_url, tmp_path).test_client()
    sent = send(client, complaint=True)
    assert sent.status_code == 200 and "its reference is" in sent.get_data(as_text=True)

    (item,) = rows(db_url, InboxItem)
    assert (item.patient_id, item.suggested_patient_id) == (None, patients["anna"])
    (ticket,) = rows(db_url, Ticket)
    assert (ticket.patient_id, ticket.inbox_item_id) == (None, item.id)

    listed = ccctl(db_url, tmp_path, "inbox", "list", "--flag", "unverified")
    assert listed.exit_code == 0, listed.output
    assert "P000001?" in listed.output and "unverified" in listed.output
    shown = ccctl(db_url, tmp_path, "inbox", "show", str(item.id), "--as", "nurse1")
    assert shown.exit_code == 0, shown.output
    assert f"once confirmed: ccctl inbox file {item.id} --patient P000001" in shown.output
    assert [(a.actor, a.action, a.patient_id) for a in rows(db_url, AuditEntry)] == [
        ("nurse1", "inbox show", patients["anna"])
    ]

    filed = ccctl(db_url, tmp_path, "inbox", "file", str(item.id), "--patient", "P000001", "--as", "nurse1")
    assert filed.exit_code == 0, filed.output
    (item,) = rows(db_url, InboxItem)
    assert (item.patient_id, item.suggested_patient_id) == (patients["anna"], None)
    (ticket,) = rows(db_url, Ticket)
    assert ticket.patient_id == patients["anna"]
    assert [(e.actor, e.action) for e in rows(db_url, TicketEvent) if e.action == "filed"] == [("nurse1", "filed")]
    assert "no inbox items" in ccctl(db_url, tmp_path, "inbox", "list", "--flag", "unverified").output


def test_a_flood_of_complaints_naming_one_patient_stops_at_the_limit_and_none_reaches_the_record(
    db_url, tmp_path, patients
):
    client = contact_site(db_url, tmp_path, max_per_patient=3).test_client()
    statuses = [send(client, complaint=True, address=f"198.51.100.{n}").status_code for n in range(10)]
    assert statuses == [200] * 3 + [429] * 7
    items = rows(db_url, InboxItem)
    assert len(items) == 3 and {i.patient_id for i in items} == {None}
    assert {t.patient_id for t in rows(db_url, Ticket)} == {None}
    # someone else is not held up by the flood
    assert send(client, phone="+8613800000001", address="198.51.100.99").status_code == 200


def test_one_address_sending_too_often_gets_the_form_back_filled_in(db_url, tmp_path, patients):
    client = contact_site(db_url, tmp_path, max_per_address=2).test_client()
    assert [send(client, phone=f"+4860000000{n}").status_code for n in range(2)] == [200, 200]
    refused = send(client, phone="+48600000009", message="Third message")
    page = refused.get_data(as_text=True)
    assert refused.status_code == 429
    assert "Please try again in 60 minutes, or call us." in page
    assert "Your message has not been sent yet and is still below" in page
    assert ">Third message</textarea>" in page and 'value="+48600000009"' in page
    assert len(rows(db_url, InboxItem)) == 2
    # another address is still served
    assert send(client, phone="+48600000009", address="192.0.2.2").status_code == 200


def test_a_document_over_the_request_limit_is_refused_in_the_patients_language_with_the_message_kept(
    db_url, tmp_path, patients
):
    client = contact_site(db_url, tmp_path, max_bytes=50_000).test_client()
    client.post("/language", data={"csrf_token": csrf(client), "language": "pl", "back": "/contact"})
    big = PDF[:-6] + b"\x00" * 1_200_000 + b"%%EOF\n"  # beyond uploads.max_bytes + 1 MB: the request is not parsed
    refused = send(client, document=("scan.pdf", big), complaint=True)
    page = refused.get_data(as_text=True)
    assert refused.status_code == 413
    assert "Dokument nie został przyjęty: jest większy niż 0.05 MB." in page
    assert f">{MESSAGE}</textarea>" in page and f'value="{ANNA_PHONE}"' in page
    assert 'id="contact-complaint" checked' in page
    assert rows(db_url, InboxItem) == []


def test_a_document_over_the_upload_limit_but_within_the_request_is_refused_the_same_way(db_url, tmp_path, patients):
    client = contact_site(db_url, tmp_path, max_bytes=50_000).test_client()
    refused = send(client, document=("scan.pdf", PDF[:-6] + b"\x00" * 60_000 + b"%%EOF\n"))
    page = refused.get_data(as_text=True)
    assert refused.status_code == 400
    assert "The document was not accepted: it is larger than 0.05 MB." in page
    assert f">{MESSAGE}</textarea>" in page
    assert rows(db_url, InboxItem) == [] and not (tmp_path / "attachments").exists()


def test_a_pdf_with_javascript_is_refused_and_nothing_is_stored(db_url, tmp_path, patients):
    client = contact_site(db_url, tmp_path).test_client()
    scripted = b"%PDF-1.4\n1 0 obj<</OpenAction<</S/JavaScript/JS(app.alert(1))>>>>endobj\ntrailer<<>>\n%%EOF\n"
    refused = send(client, document=("referral.pdf", scripted))
    assert refused.status_code == 400
    assert "it contains a script or program code" in refused.get_data(as_text=True)
    assert rows(db_url, InboxItem) == [] and not (tmp_path / "attachments").exists()
    accepted = send(client, document=("referral.pdf", PDF))
    assert accepted.status_code == 200 and len(rows(db_url, InboxAttachment)) == 1


def test_the_fields_typed_before_the_document_are_read_from_the_start_of_the_body():
    body = (
        b'--b\r\nContent-Disposition: form-data; name="message"\r\n\r\nZa\xc5\xbc\xc3\xb3\xc5\x82\xc4\x87\r\n'
        b'--b\r\nContent-Disposition: form-data; name="document"; filename="x.pdf"\r\n\r\n' + b"x" * 500_000
    )
    environ = {"CONTENT_TYPE": "multipart/form-data; boundary=b", "wsgi.input": io.BytesIO(body)}
    assert typed_fields(environ) == {"message": "Zażółć"}
    assert typed_fields({"CONTENT_TYPE": "application/x-www-form-urlencoded", "wsgi.input": io.BytesIO()}) == {}


def test_a_contact_form_limit_below_one_is_refused_naming_the_file_and_key(tmp_path):
    settings = tmp_path / "ccctl.yaml"
    settings.write_text("contact_form:\n  max_per_patient: 0\n")
    with pytest.raises(ConfigError) as refused:
        load_settings(settings, environ={})
    assert str(refused.value) == f"{settings}: 'contact_form.max_per_patient' must be at least 1, got 0"


def test_what_the_patient_typed_reaches_no_log_line_filed_or_refused(db_url, tmp_path, patients, caplog):
    caplog.set_level(logging.DEBUG)
    client = contact_site(db_url, tmp_path, max_per_patient=1).test_client()
    assert send(client, complaint=True).status_code == 200
    assert send(client, complaint=True, address="192.0.2.7").status_code == 429
    assert send(client, document=("x.pdf", b"MZ" + b"\x00" * 100), address="192.0.2.8").status_code == 400
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "web form filed as inbox item" in logged and "too many messages about one patient" in logged
    for typed in (ANNA_PHONE, "600100200", "Anna", "cardiology", "P000001"):
        assert typed not in logged


@pytest.mark.parametrize("phone", ["call me", "12", "+48 601 234 567 890 123", "+48６０１２３４５６７"])
def test_a_phone_number_we_could_not_call_is_refused_and_the_message_kept(sqlite_url, tmp_path, phone):
    client = contact_site(sqlite_url, tmp_path).test_client()
    page = send(client, phone=phone).get_data(as_text=True)
    assert "The phone number is not one we can call: write it in digits" in page
    assert MESSAGE in page  # still in the form, to send again
    assert rows(sqlite_url, InboxItem) == []


def test_a_phone_number_written_with_spaces_and_brackets_is_taken(sqlite_url, tmp_path):
    client = contact_site(sqlite_url, tmp_path).test_client()
    assert send(client, phone="+48 (60) 010-0200").status_code == 200
    assert len(rows(sqlite_url, InboxItem)) == 1


def test_the_page_is_the_hospitals_with_its_logo_and_reply_time_and_no_console(sqlite_url, tmp_path):
    logo = "https://www.hospital.example/logo.png"
    app = contact_site(sqlite_url, tmp_path, hospital_name="St. Luke's Hospital", logo_url=logo)
    app.extensions["ccctl"].settings.inbox.default_sla_hours = 24  # a day or less reads in hours
    page = app.test_client().get("/contact")
    html = page.get_data(as_text=True)
    assert "St. Luke&#39;s Hospital" in html and f'src="{logo}"' in html
    assert "img-src 'self' data: https://www.hospital.example;" in page.headers["Content-Security-Policy"]
    assert "We answer within 24 hours." in html
    assert "style.css" not in html and "<nav" not in html  # none of the staff console
    assert 'name="viewport"' in html and "contact.css" in html

    elsewhere = contact_site(sqlite_url, tmp_path, logo_url="javascript:alert(1)").test_client().get("/contact")
    assert "javascript:" not in elsewhere.get_data(as_text=True)
    assert "img-src 'self' data:;" in elsewhere.headers["Content-Security-Policy"]
