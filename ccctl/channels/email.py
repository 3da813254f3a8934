"""E-mail in and out: SMTP sending, and parsing of received mail into inbox messages with threads kept.

The IMAP poller (ccctl.channels.email_imap) hands raw mails to parse_email; a mail too large or
with broken MIME still becomes a message, with `problem` set and its raw text kept as a file.
"""

from __future__ import annotations

import email
import email.errors
import email.header
import email.policy
import email.utils
import hashlib
import html
import re
import smtplib
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr

from ccctl.channels.inbox import Attachment, IncomingMessage, save_attachment
from ccctl.config import EmailSettings

MESSAGE_ID = re.compile(r"<[^<>\s]+>")
TAG = re.compile(r"<[^>]*>")
# servers quote the rejected address in their answer; it must not reach an error message
ADDRESS_IN_ANSWER = re.compile(r"<?[^\s<>@]+@[^\s<>]+>?")
SMTP_TIMEOUT_S = 30


class EmailError(RuntimeError):
    """Sending failed; str() is one line naming the server and its answer (never the recipient)."""


def send_email(
    settings: EmailSettings,
    to: str,
    subject: str,
    text: str,
    in_reply_to: str = "",
    references: str = "",
) -> str:
    """Send a plain-text mail through the configured SMTP server; its Message-ID."""
    message = EmailMessage()
    domain = settings.from_address.rpartition("@")[2] or "localhost"
    message_id = make_msgid(domain=domain)
    message["From"] = settings.from_address
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = message_id
    message["Date"] = format_datetime(email.utils.localtime())
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
        message["References"] = " ".join(filter(None, [references, in_reply_to]))
    message.set_content(text)
    where = f"SMTP {settings.smtp_host}:{settings.smtp_port}"
    try:
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=SMTP_TIMEOUT_S) as smtp:
            if settings.smtp_starttls:
                smtp.starttls()
            if settings.smtp_user:
                smtp.login(settings.smtp_user, settings.smtp_password)
            smtp.send_message(message)
    except smtplib.SMTPResponseException as exc:
        raise EmailError(f"{where} refused the mail: {exc.smtp_code} {_text(exc.smtp_error)}") from None
    except smtplib.SMTPRecipientsRefused:
        raise EmailError(f"{where} refused the recipient") from None
    except (smtplib.SMTPException, OSError) as exc:
        raise EmailError(f"{where}: {type(exc).__name__} {getattr(exc, 'strerror', '') or ''}".strip()) from None
    return message_id


def _text(value: bytes | str) -> str:
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
    return ADDRESS_IN_ANSWER.sub("<address>", " ".join(text.split()))


def thread_key_of(message_id: str, in_reply_to: str, references: str) -> str:
    """The Message-ID of the first mail of the thread: first of References, else In-Reply-To, else its own."""
    for header in (references, in_reply_to, message_id):
        ids = MESSAGE_ID.findall(header or "")
        if ids:
            return ids[0]
    return ""


def _raw_kept(raw: bytes, attachments_dir: str) -> Attachment:
    return save_attachment(attachments_dir, "original.eml", raw, "message/rfc822")


def _identity(raw: bytes, message_id: str) -> str:
    # a mail without Message-ID gets one from its bytes, so a re-poll still finds it filed
    return message_id or f"<sha256-{hashlib.sha256(raw).hexdigest()}@ccctl>"


def _headers(raw: bytes) -> email.message.Message:
    return email.message_from_bytes(raw, policy=email.policy.compat32, _class=email.message.Message)


def _header_text(message: email.message.Message, name: str) -> str:
    value = message.get(name, "")
    try:
        return str(email.header.make_header(email.header.decode_header(str(value))))
    except (ValueError, LookupError, email.errors.HeaderParseError):
        return str(value)


def _oversized(raw: bytes, attachments_dir: str, max_bytes: int) -> IncomingMessage:
    head = raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    headers = _headers(head)
    message_id = MESSAGE_ID.search(_header_text(headers, "Message-ID"))
    message_id_text = message_id.group(0) if message_id else ""
    return IncomingMessage(
        channel="email",
        sender=parseaddr(_header_text(headers, "From"))[1] or _header_text(headers, "From"),
        subject=_header_text(headers, "Subject"),
        attachments=[_raw_kept(raw, attachments_dir)],
        external_id=_identity(raw, message_id_text),
        thread_key=thread_key_of(
            message_id_text, _header_text(headers, "In-Reply-To"), _header_text(headers, "References")
        ),
        problem=f"mail of {len(raw)} bytes is over the limit of {max_bytes} bytes: not opened, kept as original.eml",
    )


def _body_text(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    content = part.get_content()
    if part.get_content_subtype() == "html":
        content = html.unescape(TAG.sub(" ", content))
    return content.strip()


def _attachments(message: EmailMessage, attachments_dir: str) -> list[Attachment]:
    saved = []
    for part in message.iter_attachments():
        data = part.get_payload(decode=True)
        if data is None:  # a message/rfc822 part: keep it whole
            data = part.as_bytes()
        saved.append(save_attachment(attachments_dir, part.get_filename() or "", data, part.get_content_type()))
    return saved


def parse_email(raw: bytes, attachments_dir: str, max_bytes: int) -> IncomingMessage:
    """One received mail as an inbox message: sender, subject, text body, saved attachments, thread.

    Never raises on content: an oversized or malformed mail comes back with `problem` set and
    the raw mail saved as original.eml, so an agent can still open it.
    """
    if len(raw) > max_bytes:
        return _oversized(raw, attachments_dir, max_bytes)
    message = email.message_from_bytes(raw, policy=email.policy.default)
    message_id = MESSAGE_ID.search(str(message.get("Message-ID", "") or ""))
    message_id_text = message_id.group(0) if message_id else ""
    incoming = IncomingMessage(
        channel="email",
        sender=parseaddr(str(message.get("From", "") or ""))[1],
        subject=str(message.get("Subject", "") or ""),
        external_id=_identity(raw, message_id_text),
        thread_key=thread_key_of(
            message_id_text, str(message.get("In-Reply-To", "") or ""), str(message.get("References", "") or "")
        ),
    )
    problems = [type(defect).__name__ for defect in message.defects]
    try:
        incoming.body = _body_text(message)
        incoming.attachments = _attachments(message, attachments_dir)
    except (LookupError, ValueError, TypeError, AttributeError) as exc:
        problems.append(f"{type(exc).__name__} while reading the parts")
    for part in message.walk():
        problems.extend(type(defect).__name__ for defect in part.defects if part is not message)
    if problems:
        incoming.problem = f"broken MIME ({', '.join(sorted(set(problems)))}): original kept as original.eml"
        incoming.attachments.append(_raw_kept(raw, attachments_dir))
    return incoming


def unreadable_mail(raw: bytes, attachments_dir: str, error: Exception) -> IncomingMessage:
    """The message for a mail the parser itself failed on: nothing but the raw text, kept for an agent."""
    return IncomingMessage(
        channel="email",
        sender="",
        attachments=[_raw_kept(raw, attachments_dir)],
        external_id=_identity(raw, ""),
        problem=f"mail could not be read ({type(error).__name__}): original kept as original.eml",
    )
