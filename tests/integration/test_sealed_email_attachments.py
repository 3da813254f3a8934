"""A patient's e-mail attachment polled from a real Dovecot is sealed at rest once filed
(storage.key_file), keeps its clear size and checksum on the row, and reads back in clear.
"""

# ruff: noqa: F811 - the mail server fixtures are imported from email_servers by name

import hashlib
from email.message import EmailMessage
from pathlib import Path

from email_servers import ccctl_runner, dovecot, smtp_server, smtp_settings  # noqa: F401 (fixtures)
from sqlalchemy import select
from sqlalchemy.orm import Session

from ccctl.records.database import make_engine
from ccctl.records.models.inbox import InboxAttachment
from ccctl.storage.commands import keygen
from ccctl.storage.sealed import read_clear, read_key_file

PDF = b"%PDF-1.4\n% a referral letter\n%%EOF\n"


def test_a_mailed_attachment_is_sealed_once_filed_and_reads_back_in_clear(
    sqlite_url, tmp_path, monkeypatch, dovecot, smtp_server
):
    key_file = keygen(tmp_path / "media.key")
    settings = tmp_path / "ccctl.yaml"
    settings.write_text(
        f"database:\n  url: {sqlite_url}\n"
        + smtp_settings(smtp_server)
        + f"  imap_host: {dovecot.host}\n  imap_port: {dovecot.port}\n"
        f"  imap_user: {dovecot.user}\n  imap_password: {dovecot.password}\n"
        f"inbox:\n  attachments_dir: {tmp_path / 'attachments'}\n"
        f"storage:\n  key_file: {key_file}\n"
    )
    ccctl = ccctl_runner(settings, monkeypatch)
    message = EmailMessage()
    message["From"] = "ann.lee@example.org"
    message["Subject"] = "My referral"
    message.set_content("The referral is attached.")
    message.add_attachment(PDF, maintype="application", subtype="pdf", filename="referral.pdf")
    dovecot.append(message.as_bytes())

    assert ccctl("inbox", "poll") == "filed 1 mail(s), 0 with a problem\n"

    engine = make_engine(sqlite_url)
    with Session(engine) as db:
        (row,) = db.scalars(select(InboxAttachment).where(InboxAttachment.filename == "referral.pdf")).all()
        path, size, sha256 = row.path, row.size, row.sha256
    engine.dispose()
    assert not Path(path).read_bytes().startswith(b"%PDF")
    assert (size, sha256) == (len(PDF), hashlib.sha256(PDF).hexdigest())
    assert read_clear(path, read_key_file(key_file)) == PDF
