"""The patient-facing contact form (/contact): a message, an optional document, optionally a complaint.

What is sent lands in the inbox (channel "web") under the patient when matched; a complaint also
opens a ticket. The document is checked by its content and stored outside any web root.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from flask import Blueprint, current_app, render_template, request, session

from ccctl.channels.inbox import IncomingMessage, get_item, receive
from ccctl.channels.uploads import UploadRefused, store_upload

log = logging.getLogger("ccctl.channels.web_form")

blueprint = Blueprint("contact", __name__, url_prefix="/contact", template_folder="templates")

MAX_MESSAGE_CHARS = 5000
TEXT = {
    "en": {
        "title": "Write to the hospital",
        "intro": "Send us a message or a document (a referral, a result). PDF, JPEG or PNG only.",
        "name": "Your name",
        "phone": "Phone number",
        "email": "E-mail address",
        "code": "Patient code (if you know it)",
        "message": "Your message",
        "document": "Document (optional)",
        "complaint": "This is a complaint",
        "send": "Send",
        "thanks": "Thank you. Your message has been received; its reference is",
        "need_contact": "Please give a phone number or an e-mail address so we can answer you.",
        "need_message": "Please write a message.",
        "too_long": f"The message is longer than {MAX_MESSAGE_CHARS} characters.",
        "refused": "The document was not accepted:",
    },
    "zh": {
        "title": "给医院留言",
        "intro": "发送留言或文件（转诊单、检查结果）。仅限 PDF、JPEG 或 PNG。",
        "name": "您的姓名",
        "phone": "电话号码",
        "email": "电子邮箱",
        "code": "患者编号（如知道）",
        "message": "留言内容",
        "document": "文件（可选）",
        "complaint": "这是投诉",
        "send": "发送",
        "thanks": "谢谢。我们已收到您的留言，编号为",
        "need_contact": "请留下电话号码或电子邮箱，以便我们回复您。",
        "need_message": "请填写留言内容。",
        "too_long": f"留言超过 {MAX_MESSAGE_CHARS} 个字符。",
        "refused": "文件未被接受：",
    },
    "pl": {
        "title": "Napisz do szpitala",
        "intro": "Wyślij wiadomość lub dokument (skierowanie, wynik). Tylko PDF, JPEG lub PNG.",
        "name": "Imię i nazwisko",
        "phone": "Numer telefonu",
        "email": "Adres e-mail",
        "code": "Kod pacjenta (jeśli go znasz)",
        "message": "Wiadomość",
        "document": "Dokument (opcjonalnie)",
        "complaint": "To jest skarga",
        "send": "Wyślij",
        "thanks": "Dziękujemy. Wiadomość została przyjęta; jej numer to",
        "need_contact": "Podaj numer telefonu lub adres e-mail, abyśmy mogli odpowiedzieć.",
        "need_message": "Napisz wiadomość.",
        "too_long": f"Wiadomość jest dłuższa niż {MAX_MESSAGE_CHARS} znaków.",
        "refused": "Dokument nie został przyjęty:",
    },
}


@dataclass
class ContactForm:
    name: str
    phone: str
    email: str
    patient_code: str
    message: str
    complaint: bool

    @classmethod
    def from_request(cls) -> ContactForm:
        form = request.form
        return cls(
            name=form.get("name", "").strip()[:200],
            phone=form.get("phone", "").strip()[:40],
            email=form.get("email", "").strip()[:200],
            patient_code=form.get("patient_code", "").strip()[:32],
            message=form.get("message", "").strip(),
            complaint=form.get("complaint") == "yes",
        )

    def problem(self, text: dict[str, str]) -> str:
        if not self.phone and not self.email:
            return text["need_contact"]
        if not self.message:
            return text["need_message"]
        if len(self.message) > MAX_MESSAGE_CHARS:
            return text["too_long"]
        return ""

    def body(self) -> str:
        lines = [f"Name: {self.name}", f"Phone: {self.phone}", f"E-mail: {self.email}"]
        if self.patient_code:
            lines.append(f"Patient code: {self.patient_code}")
        return "\n".join(lines) + "\n\n" + self.message


def _text() -> dict[str, str]:
    return TEXT.get(session.get("lang", "en"), TEXT["en"])


def _context():
    return current_app.extensions["ccctl"]


@blueprint.get("")
def page():
    return render_template("contact.html", text=_text(), form=None, error="")


@blueprint.post("")
def send():
    text = _text()
    form = ContactForm.from_request()
    error = form.problem(text)
    attachments = []
    upload = request.files.get("document")
    if not error and upload is not None and upload.filename:
        settings = _context().settings
        data = upload.read(settings.uploads.max_bytes + 1)
        try:
            attachments.append(store_upload(settings, data, upload.filename))
        except UploadRefused as exc:
            log.info("web form document refused: %s", exc.__class__.__name__)
            error = f"{text['refused']} {exc}"
    if error:
        return render_template("contact.html", text=text, form=form, error=error), 400
    reference = _file(form, attachments)
    return render_template("contact.html", text=text, form=None, error="", reference=reference)


def _file(form: ContactForm, attachments: list) -> str:
    """Inbox item (and a ticket for a complaint) in one transaction; the reference shown to the patient."""
    from ccctl.tickets.service import open_ticket

    ctx = _context()
    message = IncomingMessage(
        channel="web",
        sender=form.phone or form.email,
        subject="Complaint (web form)" if form.complaint else "Web form",
        body=form.body(),
        attachments=attachments,
    )
    with ctx.transaction() as db:
        item_id = receive(db, message)
        if form.complaint:
            patient_id = get_item(db, item_id).patient_id
            open_ticket(
                db, "web", patient_id, "complaint", form.message, inbox_item_id=item_id, settings=ctx.settings.inbox
            )
    log.info("web form filed as inbox item %d (complaint: %s)", item_id, form.complaint)
    return f"W{item_id}"
