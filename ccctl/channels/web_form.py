"""The patient-facing contact form (/contact): a message, an optional document, optionally a complaint.

Nothing typed in a form proves who sent it, so what is sent lands in the inbox (channel "web")
unverified: the patient it names is suggested for staff to confirm (`ccctl inbox file`), never
attached, and a complaint opens a ticket without a patient. How often it files a message is
limited per client address and per patient (contact_limits.py). The document is checked by its
content and stored outside any web root. Every refusal brings the form back filled in.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import Blueprint, current_app, render_template, request, session
from werkzeug.exceptions import HTTPException
from werkzeug.http import parse_options_header
from werkzeug.sansio.multipart import Data, Epilogue, Field, File, MultipartDecoder, NeedData

from ccctl.channels.contact_limits import ContactLimits
from ccctl.channels.contact_words import LANGUAGE_NAMES, MAX_MESSAGE_CHARS, contact_text
from ccctl.channels.inbox import IncomingMessage, match_patient, receive
from ccctl.channels.uploads import UploadRefused, check_upload, store_upload
from ccctl.tickets.service import open_ticket

log = logging.getLogger("ccctl.channels.web_form")

blueprint = Blueprint("contact", __name__, url_prefix="/contact", template_folder="templates")

LIMITS_KEY = "ccctl.contact_limits"
# the page is a patient's first sight of the hospital online: scripts and styles from this site only
PAGE_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:{logo}; connect-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
# the expected reply time reads in hours up to two days (inbox.default_sla_hours), in days beyond
REPLY_IN_HOURS_UP_TO = 48
# a number we can dial back: E.164 has at most 15 digits, the shortest subscriber numbers about 6;
# people write spaces, dashes, dots and brackets between them
PHONE_DIGITS = (6, 15)
PHONE_SEPARATORS = set(" -.()/")
# a request too large to parse is read this far for the fields typed before the document
TYPED_FIELDS_BYTES = 256_000


@dataclass
class ContactForm:
    name: str
    phone: str
    email: str
    patient_code: str
    message: str
    complaint: bool

    @classmethod
    def from_fields(cls, fields: Mapping[str, str]) -> ContactForm:
        return cls(
            name=fields.get("name", "").strip()[:200],
            phone=fields.get("phone", "").strip()[:40],
            email=fields.get("email", "").strip()[:200],
            patient_code=fields.get("patient_code", "").strip()[:32],
            message=fields.get("message", "").strip(),
            complaint=fields.get("complaint") == "yes",
        )

    def problems(self, text: dict[str, str]) -> dict[str, str]:
        """What is wrong, by the field it is shown next to ("contact": the phone and e-mail pair)."""
        found = {}
        if not self.phone and not self.email:
            found["contact"] = text["need_contact"]
        elif self.phone and not callable_number(self.phone):
            found["contact"] = text["bad_phone"]
        if not self.message:
            found["message"] = text["need_message"]
        elif len(self.message) > MAX_MESSAGE_CHARS:
            found["message"] = text["too_long"]
        return found

    def sender(self) -> str:
        return self.phone or self.email

    def subject(self) -> str:
        return "Complaint (web form)" if self.complaint else "Web form"

    def body(self) -> str:
        lines = [f"Name: {self.name}", f"Phone: {self.phone}", f"E-mail: {self.email}"]
        if self.patient_code:
            lines.append(f"Patient code: {self.patient_code}")
        return "\n".join(lines) + "\n\n" + self.message


def callable_number(phone: str) -> bool:
    """Digits with an optional leading + and the separators people type; 6 to 15 digits."""
    body = phone[1:] if phone.startswith("+") else phone
    digits = sum(c.isdigit() for c in body)
    return all(c.isdigit() and c.isascii() or c in PHONE_SEPARATORS for c in body) and (
        PHONE_DIGITS[0] <= digits <= PHONE_DIGITS[1]
    )


def _context():
    return current_app.extensions["ccctl"]


def _limits() -> ContactLimits:
    limits = current_app.extensions.get(LIMITS_KEY)
    if limits is None:
        limits = current_app.extensions[LIMITS_KEY] = ContactLimits(_context().settings.contact_form)
    return limits


def _text() -> dict[str, str]:
    settings = _context().settings
    megabytes = f"{settings.uploads.max_bytes / 1_000_000:g}"
    minutes = math.ceil(settings.contact_form.window_seconds / 60)
    hours = settings.inbox.default_sla_hours
    figures = dict(megabytes=megabytes, minutes=minutes, hours=f"{hours:g}", days=math.ceil(hours / 24))
    words = contact_text(_language())
    return {key: value.format(**figures) for key, value in words.items()}


def _language() -> str:
    return session.get("lang", "en")


def _page(
    text: dict[str, str],
    form: ContactForm | None = None,
    error: str = "",
    fields: dict[str, str] | None = None,
    reference: str = "",
) -> str:
    """The form as the hospital's own page: its name and logo, the reply time, the privacy notice; no console."""
    settings = _context().settings
    hours = settings.inbox.default_sla_hours
    return render_template(
        "contact.html",
        text=text,
        form=form,
        error=error,
        fields=fields or {},
        reference=reference,
        lang=_language(),
        languages=LANGUAGE_NAMES,
        hospital=settings.contact_form.hospital_name or text["hospital"],
        logo_url=_logo_url(settings.contact_form.logo_url),
        privacy=settings.contact_form.privacy_notice or text["privacy"],
        reply=text["reply_hours"] if hours <= REPLY_IN_HOURS_UP_TO else text["reply_days"],
    )


def _logo_url(url: str) -> str:
    """The logo only from an http(s) address or a path of this site; anything else is left out."""
    return url if url.startswith(("https://", "http://", "/")) and not url.startswith("//") else ""


def _refusal(text: dict[str, str], reason: str) -> str:
    return f"{text['refused']} {text['upload_' + reason]} {text['kept']}"


def _again(text: dict[str, str], form: ContactForm, error: str, status: int, fields: dict | None = None):
    return _page(text, form, error, fields), status


@blueprint.after_request
def page_policy(response):
    """The console's policy (files from this site only), with the logo's host let in for images."""
    found = urlsplit(_context().settings.contact_form.logo_url)
    logo = f" {found.scheme}://{found.netloc}" if found.scheme in ("http", "https") and found.netloc else ""
    response.headers["Content-Security-Policy"] = PAGE_POLICY.format(logo=logo)
    return response


@blueprint.get("")
def page():
    return _page(_text())


@blueprint.post("")
def send():
    text = _text()
    form = ContactForm.from_fields(request.form)
    fields = form.problems(text)
    if fields:
        return _again(text, form, text["check_fields"], 400, fields)
    document = _document()
    if isinstance(document, UploadRefused):
        log.info("web form document refused (%s)", document.reason)
        return _again(text, form, _refusal(text, document.reason), 400)
    address = request.remote_addr or "unknown"
    if not _limits().take_address(address):
        log.warning("web form refused from %s: too many messages from this address", address)
        return _again(text, form, f"{text['too_many']} {text['kept']}", 429)
    reference = _file(form, document)
    if reference is None:
        log.warning("web form refused: too many messages about one patient or from one sender")
        return _again(text, form, f"{text['too_many']} {text['kept']}", 429)
    return _page(text, reference=reference)


def _document() -> tuple[bytes, str] | UploadRefused | None:
    """The uploaded file's bytes and name once its content passed the checks (None when none was sent)."""
    upload = request.files.get("document")
    if upload is None or not upload.filename:
        return None
    max_bytes = _context().settings.uploads.max_bytes
    data = upload.read(max_bytes + 1)
    try:
        check_upload(data, upload.filename, max_bytes)
    except UploadRefused as exc:
        return exc
    return data, upload.filename


def _file(form: ContactForm, document: tuple[bytes, str] | None) -> str | None:
    """File the inbox item (and a complaint's ticket) in one transaction; the reference shown to the patient.

    None, with nothing filed, when the patient it names (or its sender) has had its share already.
    """
    ctx = _context()
    limits = _limits()
    with limits.filing(), ctx.transaction() as db:
        candidate = match_patient(db, "web", form.sender(), f"{form.subject()}\n{form.body()}")
        if not limits.patient_allows(db, candidate, form.sender()):
            return None
        attachments = [store_upload(ctx.settings, *document)] if document else []
        message = IncomingMessage(
            channel="web",
            sender=form.sender(),
            subject=form.subject(),
            body=form.body(),
            attachments=attachments,
            verified=False,
        )
        item_id = receive(db, message)
        if form.complaint:
            open_ticket(db, "web", None, "complaint", form.message, inbox_item_id=item_id, settings=ctx.settings.inbox)
    log.info(
        "web form filed as inbox item %d (complaint: %s, names a patient: %s)",
        item_id,
        form.complaint,
        candidate is not None,
    )
    return f"W{item_id}"


@blueprint.errorhandler(413)
def too_large(_error):
    """A request over the console's size limit: the document is refused, what was typed comes back."""
    text = _text()
    form = ContactForm.from_fields(typed_fields(request.environ))
    log.info("web form document refused (request too large)")
    return _again(text, form, _refusal(text, "too_large"), 413)


def typed_fields(environ: dict) -> dict[str, str]:
    """The form fields a multipart body carries before its first file, read from the start of the body.

    Browsers send the fields in page order, and the page puts the document last: a request too
    large to parse still gives back the message typed above it.
    """
    mimetype, options = parse_options_header(environ.get("CONTENT_TYPE", ""))
    boundary = options.get("boundary", "")
    if mimetype != "multipart/form-data" or not boundary:
        return {}
    fields: dict[str, str] = {}
    try:
        _read_fields(environ["wsgi.input"], boundary, fields)
    except (ValueError, HTTPException):
        pass  # a malformed body: keep the fields read so far
    return fields


def _read_fields(stream, boundary: str, fields: dict[str, str]) -> None:
    decoder = MultipartDecoder(boundary.encode("latin-1"), max_form_memory_size=TYPED_FIELDS_BYTES)
    name, parts, read = "", [], 0
    while read < TYPED_FIELDS_BYTES:
        chunk = stream.read(min(65_536, TYPED_FIELDS_BYTES - read))
        if not chunk:
            return
        read += len(chunk)
        decoder.receive_data(chunk)
        event = decoder.next_event()
        while not isinstance(event, NeedData):
            if isinstance(event, File | Epilogue):
                return
            if isinstance(event, Field):
                name, parts = event.name, []
            elif isinstance(event, Data) and name:
                parts.append(event.data)
                if not event.more_data:
                    fields[name] = b"".join(parts).decode("utf-8", "replace")
            event = decoder.next_event()
