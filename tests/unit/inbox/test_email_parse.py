"""parse_email(): sender, subject, body, attachments and thread of a received mail; bad mail is kept."""

from email.message import EmailMessage
from pathlib import Path

from ccctl.channels.email import parse_email, thread_key_of

LIMIT = 1_000_000


def mail_with_attachment() -> bytes:
    message = EmailMessage()
    message["From"] = "Ann Lee <ann.lee@example.org>"
    message["To"] = "contact@hospital.example"
    message["Subject"] = "Referral for P000001"
    message["Message-ID"] = "<m2@example.org>"
    message["In-Reply-To"] = "<m1@example.org>"
    message["References"] = "<m0@example.org> <m1@example.org>"
    message.set_content("Please find my referral attached.")
    message.add_attachment(b"%PDF-1.4 referral", maintype="application", subtype="pdf", filename="referral.pdf")
    return message.as_bytes()


def test_a_mail_becomes_a_message_with_its_attachment_saved(tmp_path):
    incoming = parse_email(mail_with_attachment(), str(tmp_path), LIMIT)
    assert (incoming.channel, incoming.sender, incoming.subject) == (
        "email",
        "ann.lee@example.org",
        "Referral for P000001",
    )
    assert incoming.body == "Please find my referral attached."
    assert incoming.external_id == "<m2@example.org>"
    assert incoming.thread_key == "<m0@example.org>"
    assert incoming.problem == ""
    (attachment,) = incoming.attachments
    assert (attachment.filename, attachment.content_type) == ("referral.pdf", "application/pdf")
    assert Path(attachment.path).read_bytes() == b"%PDF-1.4 referral"


def test_the_thread_is_the_first_mail_of_the_conversation():
    assert thread_key_of("<c@x>", "<b@x>", "<a@x> <b@x>") == "<a@x>"
    assert thread_key_of("<c@x>", "<b@x>", "") == "<b@x>"
    assert thread_key_of("<c@x>", "", "") == "<c@x>"


def test_an_html_only_mail_gives_its_text(tmp_path):
    raw = (
        b"From: bob@example.org\r\nSubject: hi\r\nMessage-ID: <h@x>\r\nContent-Type: text/html\r\n\r\n"
        b"<p>My bill is &amp; was wrong</p>\r\n"
    )
    assert parse_email(raw, str(tmp_path), LIMIT).body == "My bill is & was wrong"


def test_an_oversized_mail_is_kept_whole_with_a_problem(tmp_path):
    raw = mail_with_attachment()
    incoming = parse_email(raw, str(tmp_path), max_bytes=100)
    assert incoming.problem.startswith(f"mail of {len(raw)} bytes is over the limit of 100 bytes")
    assert (incoming.sender, incoming.subject, incoming.external_id) == (
        "ann.lee@example.org",
        "Referral for P000001",
        "<m2@example.org>",
    )
    (kept,) = incoming.attachments
    assert kept.filename == "original.eml" and Path(kept.path).read_bytes() == raw


def test_broken_mime_is_kept_with_a_problem_and_the_original(tmp_path):
    raw = (
        b"From: carol@example.org\r\nSubject: scan\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="XYZ"\r\n\r\n'
        b"--XYZ\r\nContent-Type: text/plain\r\n\r\nhere is the scan\r\n"
        b"--XYZ\r\nContent-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!not base64"
    )
    incoming = parse_email(raw, str(tmp_path), LIMIT)
    assert incoming.problem.startswith("broken MIME (")
    assert "original kept as original.eml" in incoming.problem
    assert any(Path(a.path).read_bytes() == raw for a in incoming.attachments)
    # no Message-ID: an id from the bytes, so the next poll finds it already filed
    assert incoming.external_id.startswith("<sha256-")
