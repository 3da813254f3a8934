"""E-mail end to end with a real Dovecot (IMAP) and a real SMTP server, driven through `ccctl inbox`.

A patient's mail with an attachment is polled, filed under the patient and answered; the answer
arrives at the SMTP server in the same thread; an oversized or broken mail is kept for an agent.
"""

# ruff: noqa: F811 - the mail server fixtures are imported from email_servers by name

import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from pathlib import Path

import pytest
from email_servers import ccctl_runner, dovecot, smtp_server, smtp_settings  # noqa: F401 (fixtures)
from sqlalchemy import select
from sqlalchemy.orm import Session

from ccctl.channels.inbox import IncomingMessage, receive
from ccctl.patients.repository import PatientData, add_patient
from ccctl.records.database import make_engine
from ccctl.records.models.audit import AuditEntry
from ccctl.records.models.inbox import InboxItem

PDF = b"%PDF-1.4\n% a referral letter\n"


@pytest.fixture
def ccctl(db_url, tmp_path, monkeypatch, dovecot, smtp_server):
    """`ccctl -c <settings: test database, the two mail servers, attachments under tmp_path> ARGS`."""
    settings = tmp_path / "ccctl.yaml"
    settings.write_text(
        f"database:\n  url: {db_url}\n"
        + smtp_settings(smtp_server)
        + f"  imap_host: {dovecot.host}\n  imap_port: {dovecot.port}\n"
        f"  imap_user: {dovecot.user}\n  imap_password: {dovecot.password}\n"
        f"  max_message_bytes: 20000\n"
        f"inbox:\n  attachments_dir: {tmp_path / 'attachments'}\n"
    )
    return ccctl_runner(settings, monkeypatch)


@pytest.fixture
def patient_code(db_url) -> str:
    with session_on(db_url) as session:
        return add_patient(session, PatientData("Ann", "Lee", ["+48600100200"]), {}).patient_code


@contextmanager
def session_on(db_url: str) -> Iterator[Session]:
    engine = make_engine(db_url)
    try:
        with Session(engine, expire_on_commit=False) as session, session.begin():
            yield session
    finally:
        engine.dispose()


def items(db_url) -> list[InboxItem]:
    with session_on(db_url) as session:
        found = list(session.scalars(select(InboxItem).order_by(InboxItem.id)))
        for item in found:
            item.attachments  # noqa: B018 - loaded before the session closes
        return found


def referral_mail() -> bytes:
    message = EmailMessage()
    message["From"] = "Ann Lee <ann.lee@example.org>"
    message["To"] = "contact@hospital.example"
    message["Subject"] = "My referral"
    message["Message-ID"] = "<referral-1@example.org>"
    message.set_content("Hello, the referral from my GP is attached.")
    message.add_attachment(PDF, maintype="application", subtype="pdf", filename="referral.pdf")
    return message.as_bytes()


def test_a_mail_with_an_attachment_is_filed_and_the_reply_is_delivered_in_its_thread(
    ccctl,
    db_url,
    dovecot,
    smtp_server,
    patient_code,
):
    ccctl("inbox", "add-address", patient_code, "ann.lee@example.org")
    dovecot.append(referral_mail())

    assert ccctl("inbox", "poll") == "filed 1 mail(s), 0 with a problem\n"
    assert dovecot.unseen() == 0
    (listed,) = json.loads(ccctl("inbox", "list", "--patient", patient_code, "--json"))
    assert (listed["channel"], listed["subject"], listed["flags"]) == ("email", "My referral", "-")
    shown = ccctl("inbox", "show", str(listed["id"]), "--as", "maria")
    assert f"attached:  referral.pdf (application/pdf, {len(PDF)} bytes" in shown
    (item,) = items(db_url)
    (attachment,) = item.attachments
    assert Path(attachment.path).read_bytes() == PDF
    assert attachment.sha256 == hashlib.sha256(PDF).hexdigest()

    ccctl("inbox", "reply", str(item.id), "--text", "Thank you, we booked you for Monday.", "--as", "maria")

    (sent,) = smtp_server.messages()
    assert (sent["To"], sent["Subject"], sent["In-Reply-To"]) == (
        "ann.lee@example.org",
        "Re: My referral",
        "<referral-1@example.org>",
    )
    assert sent.get_content().strip() == "Thank you, we booked you for Monday."
    # the patient answers from another address: same thread, same patient
    answer = EmailMessage()
    answer["From"] = "ann@work.example.com"
    answer["Subject"] = "Re: Re: My referral"
    answer["Message-ID"] = "<answer-1@example.com>"
    answer["References"] = f"<referral-1@example.org> {sent['Message-ID']}"
    answer.set_content("Monday is fine.")
    dovecot.append(answer.as_bytes())
    ccctl("inbox", "poll")
    original, reply, follow_up = items(db_url)
    assert [i.direction for i in (original, reply, follow_up)] == ["in", "out", "in"]
    assert {i.thread_key for i in (original, reply, follow_up)} == {"<referral-1@example.org>"}
    assert follow_up.patient_id == original.patient_id is not None
    assert original.done and not original.needs_reply
    with session_on(db_url) as session:
        actions = [(a.actor, a.action) for a in session.scalars(select(AuditEntry).order_by(AuditEntry.id))]
    assert ("maria", "inbox show") in actions and ("maria", "inbox reply") in actions


def test_oversized_and_broken_mails_are_kept_for_an_agent(ccctl, db_url, dovecot):
    big = EmailMessage()
    big["From"] = "someone@example.net"
    big["Subject"] = "scans"
    big["Message-ID"] = "<big@example.net>"
    big.set_content("x" * 40000)
    dovecot.append(big.as_bytes())
    dovecot.append(b"From: x@example.net\r\nContent-Type: multipart/mixed; boundary=Q\r\n\r\n--Q\r\nbroken")

    assert ccctl("inbox", "poll") == "filed 2 mail(s), 2 with a problem\n"
    assert ccctl("inbox", "poll") == "filed 0 mail(s), 0 with a problem\n"
    oversized, broken = items(db_url)
    assert "over the limit of 20000 bytes" in oversized.problem
    assert oversized.subject == "scans" and oversized.patient_id is None
    assert broken.problem.startswith("broken MIME")
    listing = ccctl("inbox", "list", "--unassigned")
    assert listing.count("problem") == 2 and listing.count("unfiled") == 2


def test_a_letter_is_filed_by_the_code_in_it_and_cannot_be_answered_automatically(ccctl, db_url, patient_code):
    with session_on(db_url) as session:
        item_id = receive(session, IncomingMessage("letter", "", body=f"{patient_code}: the parking is full"))
    assert f"letter  in  {patient_code}" in ccctl("inbox", "list", "--channel", "letter")
    refused = ccctl("inbox", "reply", str(item_id), "--text", "Sorry", fails=True)
    assert refused == f"ccctl: inbox item {item_id} came by letter, which has no automatic reply\n"


def test_the_serve_workers_poll_the_mailbox_from_the_threadpool(ccctl, db_url, dovecot, tmp_path):
    from ccctl.config import load_settings
    from ccctl.tickets.worker import InboxWorkers

    dovecot.append(referral_mail())
    workers = InboxWorkers(load_settings(tmp_path / "ccctl.yaml", environ={}))
    try:
        assert workers.run_in_threadpool(workers.poll_mail) == 1
        assert workers.run_in_threadpool(workers.follow_up) == ([], [])
    finally:
        workers.stop()
    (item,) = items(db_url)
    assert item.subject == "My referral" and item.patient_id is None
