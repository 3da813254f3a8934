"""The patients' side of the chat: /chat/api/*, JSON for the widget (static/chat.js), and /chat, a page with it.

A chat is reached by the random token its browser got when it started (header X-Chat-Token),
never by the console's cookie session, so the console's CSRF check does not apply here and the
widget can live on the hospital's own site (chat.allowed_origins). Limits: chats per client
address and messages per chat within chat.window_seconds.
"""

from __future__ import annotations

import logging

from flask import Blueprint, current_app, g, jsonify, render_template, request

from ccctl.channels.uploads import UploadRefused, store_upload
from ccctl.chat import identity
from ccctl.chat.assistant import answer
from ccctl.chat.hours import is_open
from ccctl.chat.site import chat_routing, chat_site
from ccctl.chat.store import (
    LANGUAGES,
    ChatError,
    add_message,
    chat_by_token,
    close,
    free_agents,
    lines_after,
    patient_messages,
    start_chat,
)
from ccctl.chat.words import chat_words
from ccctl.ivr.services import AuthOutcome
from ccctl.patients.repository import find_by_member_number
from ccctl.records.models.base import utc_now

log = logging.getLogger("ccctl.chat")

blueprint = Blueprint("chat", __name__, url_prefix="/chat", template_folder="templates")
TOKEN_HEADER = "X-Chat-Token"


def _web():
    return current_app.extensions["ccctl"]


def _client() -> str:
    return request.remote_addr or "unknown"


@blueprint.after_request
def _cors(response):
    origin = request.headers.get("Origin", "")
    if origin and origin in _web().settings.chat.allowed_origins:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Allow-Headers"] = f"Content-Type, {TOKEN_HEADER}"
        response.headers["Access-Control-Allow-Methods"] = "GET, POST"
        response.headers["Vary"] = "Origin"
    return response


@blueprint.get("")
def page():
    """A page that embeds the widget as the hospital's site would (for trying it out and for the tests)."""
    language = request.args.get("lang", "en")
    return render_template("chat_page.html", language=language if language in LANGUAGES else "en")


@blueprint.post("/api/start")
def start():
    settings = _web().settings
    if not chat_site().live.take(f"address:{_client()}", settings.chat.max_chats_per_address):
        log.warning("chat refused from %s: too many chats from this address", _client())
        return jsonify(error="too_many"), 429
    language = str((request.get_json(silent=True) or {}).get("lang", "en"))
    with _web().transaction() as db:
        chat, token = start_chat(db, language)
        words = chat_words(chat.language)
        add_message(db, chat, "assistant", words["welcome"])
        chat_id = chat.id
    log.info("chat %d started (%s)", chat_id, language)
    return jsonify(token=token, words=words, open=_open_now())


def _open_now() -> bool:
    settings = _web().settings
    return is_open(settings.chat, settings.appointments.timezone, utc_now())


def _chat(db):
    chat = chat_by_token(db, request.headers.get(TOKEN_HEADER, ""))
    if chat is None:
        return None
    g.chat_words = chat_words(chat.language)
    return chat


def _unknown():
    return jsonify(error="no such chat"), 404


@blueprint.get("/api/messages")
def messages():
    after = request.args.get("after", "0")
    with _web().transaction() as db:
        chat = _chat(db)
        if chat is None:
            return _unknown()
        lines = lines_after(db, chat.id, int(after) if after.isdigit() else 0)
        typing = chat_site().live.is_typing(chat.id, "agent")
        return jsonify(
            messages=[_with_source(line.json(), chat.language) for line in lines],
            state=chat.state,
            signed_in=chat.patient_id is not None,
            agent_typing=typing,
        )


def _with_source(line: dict, language: str) -> dict:
    """An assistant's answer names its article's title as its source."""
    if line["article"]:
        article = chat_site().kb.article(line["article"], language)
        line["source"] = article.title if article is not None else line["article"]
    return line


@blueprint.post("/api/messages")
def send():
    text = str((request.get_json(silent=True) or {}).get("text", "")).strip()
    if not text:
        return jsonify(error="empty"), 400
    settings, site = _web().settings, chat_site()
    with _web().transaction() as db:
        chat = _chat(db)
        if chat is None:
            return _unknown()
        if chat.state == "closed":
            return jsonify(error="closed"), 409
        if not site.live.take(f"chat:{chat.id}", settings.chat.max_messages_per_chat):
            return jsonify(error="too_many"), 429
        add_message(db, chat, "patient", text)
        site.live.stopped_typing(chat.id, "patient")
        if chat.state == "assistant":
            _assistant_reply(db, chat, text)
    return jsonify(sent=True)


def _assistant_reply(db, chat, text: str) -> None:
    article = answer(chat_site().kb, text, chat.language)
    if article is None:
        add_message(db, chat, "assistant", g.chat_words["no_answer"])
        return
    add_message(db, chat, "assistant", article.short, article_slug=article.slug)


@blueprint.post("/api/typing")
def typing():
    with _web().transaction() as db:
        chat = _chat(db)
        if chat is None:
            return _unknown()
        chat_site().live.typing(chat.id, "patient")
    return jsonify(ok=True)


@blueprint.post("/api/feedback")
def feedback():
    helped = bool((request.get_json(silent=True) or {}).get("helped"))
    with _web().transaction() as db:
        chat = _chat(db)
        if chat is None:
            return _unknown()
        add_message(db, chat, "patient", g.chat_words["yes" if helped else "no"])
        add_message(db, chat, "assistant", g.chat_words["glad" if helped else "no_answer"])
    return jsonify(ok=True)


@blueprint.post("/api/person")
def person():
    """To a person when one answers now, else the widget offers to leave a message."""
    skill = _web().settings.chat.skill
    with _web().transaction() as db:
        chat = _chat(db)
        if chat is None:
            return _unknown()
        if chat.state in ("waiting", "with_agent", "closed"):
            return jsonify(state=chat.state)
        if not _open_now() or not free_agents(db, skill):
            return jsonify(state=chat.state, leave=True)
        chat_id = chat.id
    try:
        chat_routing().to_person(chat_id)
    except ChatError as exc:  # the ACD refused it (no such queue, queue full): a message instead
        log.warning("chat %d not queued: %s", chat_id, exc)
        return jsonify(state="assistant", leave=True)
    with _web().transaction() as db:
        add_message(db, _chat(db), "system", g.chat_words["waiting"])
    log.info("chat %d waits for a person", chat_id)
    return jsonify(state="waiting")


@blueprint.post("/api/leave")
def leave():
    body = request.get_json(silent=True) or {}
    contact, text = str(body.get("contact", "")).strip()[:200], str(body.get("text", "")).strip()
    if not text or not contact:
        return jsonify(error="empty"), 400
    with _web().transaction() as db:
        chat = _chat(db)
        if chat is None:
            return _unknown()
        if chat.state == "closed":
            return jsonify(error="closed"), 409
        add_message(db, chat, "patient", f"{text}\n\n({contact})")
        item_id = close(db, chat, subject="Chat: message left", needs_reply=True)
        reference = f"C{item_id}"
        add_message(db, chat, "system", g.chat_words["left"].format(reference=reference))
    log.info("chat left a message: inbox item %d", item_id)
    return jsonify(reference=reference)


@blueprint.post("/api/sign-in/pin")
def sign_in_pin():
    body = request.get_json(silent=True) or {}
    with _web().transaction() as db:
        chat = _chat(db)
        if chat is None:
            return _unknown()
        chat_id = chat.id
    outcome = identity.sign_in_with_pin(
        chat_site().services, chat_id, str(body.get("member", "")), str(body.get("pin", ""))
    )
    if outcome is not AuthOutcome.OK:
        key = "locked" if outcome is AuthOutcome.LOCKED else "sign_in_failed"
        return jsonify(signed_in=False, message=g.chat_words[key]), 403
    with _web().transaction() as db:
        chat = _chat(db)
        patient = find_by_member_number(db, str(body.get("member", "")).strip()[:32])
        identity.attach_patient(db, chat, patient.id, "pin")
        add_message(db, chat, "system", g.chat_words["signed_in"])
    return jsonify(signed_in=True, message=g.chat_words["signed_in"])


@blueprint.post("/api/sign-in/code/send")
def send_code():
    member = str((request.get_json(silent=True) or {}).get("member", ""))
    site = chat_site()
    with _web().transaction() as db:
        chat = _chat(db)
        if chat is None:
            return _unknown()
        if not site.live.take(f"code:{chat.id}", 3):
            return jsonify(error="too_many", message=g.chat_words["too_many"]), 429
        identity.send_code(db, _web().settings, site.hasher, chat, member)
    return jsonify(message=g.chat_words["code_sent"])


@blueprint.post("/api/sign-in/code")
def sign_in_code():
    code = str((request.get_json(silent=True) or {}).get("code", ""))
    with _web().transaction() as db:
        chat = _chat(db)
        if chat is None:
            return _unknown()
        if not identity.check_code(_web().settings, chat_site().hasher, chat, code):
            return jsonify(signed_in=False, message=g.chat_words["sign_in_failed"]), 403
        identity.attach_patient(db, chat, chat.code_patient_id, "sms")
        add_message(db, chat, "system", g.chat_words["signed_in"])
    return jsonify(signed_in=True, message=g.chat_words["signed_in"])


@blueprint.post("/api/file")
def upload():
    """A file through the contact form's checks (content, size, nothing to run), kept outside any web root."""
    settings = _web().settings
    with _web().transaction() as db:
        chat = _chat(db)
        if chat is None:
            return _unknown()
        if chat.state == "closed":
            return jsonify(error="closed"), 409
        if not chat_site().live.take(f"chat:{chat.id}", settings.chat.max_messages_per_chat):
            return jsonify(error="too_many"), 429
        sent = request.files.get("file")
        if sent is None or not sent.filename:
            return jsonify(error="empty"), 400
        try:
            stored = store_upload(settings, sent.read(settings.uploads.max_bytes + 1), sent.filename)
        except UploadRefused as exc:
            log.info("chat %d file refused (%s)", chat.id, exc.reason)
            return jsonify(error=exc.reason, message=f"{g.chat_words['file_refused']} {exc}"), 400
        add_message(db, chat, "patient", stored.filename, attachment_path=stored.path)
    return jsonify(message=g.chat_words["file_sent"])


@blueprint.post("/api/end")
def end():
    """The patient closed the chat: out of the ACD's line or off the agent, the transcript filed."""
    with _web().transaction() as db:
        chat = _chat(db)
        if chat is None:
            return _unknown()
        chat_id, state = chat.id, chat.state
    if state == "closed":
        return jsonify(state="closed")
    chat_routing().leave(chat_id)
    with _web().transaction() as db:
        chat = _chat(db)
        if patient_messages(db, chat.id):
            close(db, chat)
        else:
            chat.state, chat.ended_at = "closed", utc_now()
    return jsonify(state="closed")
