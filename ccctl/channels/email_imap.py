"""Inbound e-mail: polls an IMAP folder, files every unseen mail in the inbox, then marks it seen.

A mail is marked seen only after its inbox item is committed, so a crash in between files it
again on the next poll, where the Message-ID de-duplication returns the first item instead.
"""

from __future__ import annotations

import imaplib
import logging
from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from ccctl.channels.email import parse_email, unreadable_mail
from ccctl.channels.inbox import receive
from ccctl.config import EmailSettings
from ccctl.storage.sealed import seal_file

log = logging.getLogger(__name__)
IMAP_TIMEOUT_S = 30


class MailboxError(RuntimeError):
    """The mailbox cannot be read; str() names the server and folder (never a password)."""


@dataclass
class PollResult:
    filed: list[int]  # inbox item ids, in mailbox order (an already filed mail gives its old id)
    problems: int  # mails filed with a problem set


def _connect(settings: EmailSettings) -> imaplib.IMAP4:
    where = f"IMAP {settings.imap_host}:{settings.imap_port}"
    try:
        kind = imaplib.IMAP4_SSL if settings.imap_ssl else imaplib.IMAP4
        imap = kind(settings.imap_host, settings.imap_port, timeout=IMAP_TIMEOUT_S)
    except OSError as exc:
        raise MailboxError(f"{where}: cannot connect ({exc.strerror or type(exc).__name__})") from None
    try:
        imap.login(settings.imap_user, settings.imap_password)
        status, _ = imap.select(_quoted(settings.imap_folder))
    except imaplib.IMAP4.error as exc:
        imap.logout()
        raise MailboxError(f"{where}: login as {settings.imap_user!r} refused ({exc})") from None
    if status != "OK":
        imap.logout()
        raise MailboxError(f"{where}: no folder {settings.imap_folder!r}")
    return imap


def _quoted(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _raw_mail(imap: imaplib.IMAP4, uid: bytes) -> bytes | None:
    status, data = imap.uid("FETCH", uid, "(BODY.PEEK[])")
    if status != "OK":
        return None
    for part in data:
        if isinstance(part, tuple):
            return part[1]
    return None


def poll_mailbox(settings: EmailSettings, attachments_dir: str, engine: Engine, key: bytes | None = None) -> PollResult:
    """File every unseen mail of the configured folder; each in its own transaction.

    With a key (storage.key_file) its attachments are sealed once filed (their size and checksum are the clear file's).
    """
    result = PollResult(filed=[], problems=0)
    imap = _connect(settings)
    try:
        status, data = imap.uid("SEARCH", None, "UNSEEN")
        uids = data[0].split() if status == "OK" and data and data[0] else []
        for uid in uids:
            raw = _raw_mail(imap, uid)
            if raw is None:
                log.warning("IMAP %s: mail uid %s could not be fetched; left unseen", settings.imap_host, uid)
                continue
            try:
                message = parse_email(raw, attachments_dir, settings.max_message_bytes)
            except Exception as exc:  # noqa: BLE001 - a mail the parser chokes on is still kept
                message = unreadable_mail(raw, attachments_dir, exc)
            with Session(engine) as session, session.begin():
                result.filed.append(receive(session, message))
            if key is not None:
                for attachment in message.attachments:
                    seal_file(attachment.path, key)
            result.problems += bool(message.problem)
            imap.uid("STORE", uid, "+FLAGS", "(\\Seen)")
    finally:
        try:
            imap.logout()
        except (imaplib.IMAP4.error, OSError):
            pass
    return result
