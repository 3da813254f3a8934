"""The agents' side of the chat, beside the phone on the workstation (static/chats.js): /api/v1/chats/*.

An agent sees the chats waiting for one of their skills (or transferred to them by name) and the
chats they hold; reading one is audited (with its patient once they signed in), as a screen pop is.
The console's session and CSRF token apply, as for every other console API.
"""

from __future__ import annotations

import logging

from flask import Blueprint, g, jsonify, request

from ccctl.chat.assistant import suggestions
from ccctl.chat.routing import may_open_record
from ccctl.chat.site import chat_routing, chat_site
from ccctl.chat.store import (
    ChatError,
    add_message,
    chat_by_id,
    close,
    held_by,
    lines_after,
    patient_summary,
)
from ccctl.chat.words import agent_words, chat_words
from ccctl.records.audit import record_audit
from ccctl.web.context import audit_source, require_role, web

log = logging.getLogger("ccctl.chat")

blueprint = Blueprint("chat_agent", __name__)
MAX_NOTES = 4000
# the patient's last lines searched for suggestions
SUGGEST_FROM_LINES = 3


def _summary(chat) -> dict:
    return {
        "id": chat.id,
        "state": chat.state,
        "language": chat.language,
        "queue": chat.queue,
        "agent": chat.agent,
        "signed_in": chat.patient_id is not None,
    }


def _error(exc: ChatError, status: int = 409):
    return jsonify(error=str(exc)), status


def _visible(db, chat_id: int, agent: str):
    """The chat if it is offered to or held by this agent (ChatError otherwise)."""
    chat = chat_by_id(db, chat_id)
    held = chat.state == "with_agent" and chat.agent == agent
    if not held and not chat_routing().offered_to(db, chat, agent):
        raise ChatError(f"chat {chat_id} is not offered to you")
    return chat


@blueprint.get("/api/v1/chats/words")
@require_role("agent")
def words():
    """The panel's words in the agent's language, and the wrap-up codes."""
    return jsonify(words=agent_words(g.user.language), codes=web().settings.web.wrapup_codes)


@blueprint.get("/api/v1/chats")
@require_role("agent")
def chats():
    with web().transaction() as db:
        return jsonify(chats=[_summary(c) for c in chat_routing().chats_of(db, g.user.agent)])


@blueprint.post("/api/v1/chats/<int:chat_id>/accept")
@require_role("agent")
def take(chat_id: int):
    try:
        chat_routing().accept(chat_id, g.user.agent)
    except ChatError as exc:
        return _error(exc)
    with web().transaction() as db:
        chat = chat_by_id(db, chat_id)
        add_message(db, chat, "system", chat_words(chat.language)["joined"].format(agent=g.user.name))
    log.info("chat %d accepted by %s", chat_id, g.user.agent)
    return jsonify(chat=chat_id, state="with_agent")


@blueprint.get("/api/v1/chats/<int:chat_id>")
@require_role("agent")
def transcript(chat_id: int):
    """The chat's lines after `after`; the whole transcript (after=0) and its patient are audited reads."""
    after = request.args.get("after", "0")
    after_id = int(after) if after.isdigit() else 0
    with web().transaction() as db:
        try:
            chat = _visible(db, chat_id, g.user.agent)
        except ChatError as exc:
            return _error(exc, 403)
        lines = lines_after(db, chat.id, after_id)
        patient = patient_summary(db, chat.patient_id)
        if patient is not None and chat.state == "with_agent":
            may_open_record(db, g.user.agent, chat)
        if after_id == 0 or request.args.get("patient") != str(chat.patient_id or ""):
            detail = f"chat {chat.id}" + (f": patient {patient['code']}" if patient else "")
            record_audit(db, g.user.name, "chat view", chat.patient_id, audit_source(), detail=detail)
        return jsonify(
            chat=_summary(chat),
            messages=[line.json() for line in lines],
            patient=patient,
            patient_typing=chat_site().live.is_typing(chat.id, "patient"),
        )


@blueprint.post("/api/v1/chats/<int:chat_id>/messages")
@require_role("agent")
def answer(chat_id: int):
    body = request.get_json(silent=True) or {}
    text, slug = str(body.get("text", "")).strip(), str(body.get("article", ""))[:128]
    if not text:
        return jsonify(error="text: empty"), 400
    with web().transaction() as db:
        try:
            chat = held_by(db, chat_id, g.user.agent)
        except ChatError as exc:
            return _error(exc)
        line = add_message(db, chat, "agent", text, agent=g.user.agent, article_slug=slug)
        chat_site().live.stopped_typing(chat.id, "agent")
    return jsonify(message=line.json())


@blueprint.post("/api/v1/chats/<int:chat_id>/typing")
@require_role("agent")
def typing(chat_id: int):
    with web().transaction() as db:
        try:
            held_by(db, chat_id, g.user.agent)
        except ChatError as exc:
            return _error(exc)
    chat_site().live.typing(chat_id, "agent")
    return jsonify(ok=True)


@blueprint.get("/api/v1/chats/<int:chat_id>/suggestions")
@require_role("agent")
def suggest(chat_id: int):
    """Knowledge-base articles for what the patient wrote last, in the chat's language."""
    with web().transaction() as db:
        try:
            chat = _visible(db, chat_id, g.user.agent)
        except ChatError as exc:
            return _error(exc, 403)
        written = [line.text for line in lines_after(db, chat.id) if line.who == "patient"]
        language = chat.language
    text = " ".join(written[-SUGGEST_FROM_LINES:])
    return jsonify(articles=suggestions(chat_site().kb, text, language) if text else [])


@blueprint.post("/api/v1/chats/<int:chat_id>/transfer")
@require_role("agent")
def hand_over(chat_id: int):
    body = request.get_json(silent=True) or {}
    to_agent, to_queue = str(body.get("agent", "")).strip(), str(body.get("queue", "")).strip()
    try:
        chat_routing().transfer(chat_id, g.user.agent, to_agent, to_queue)
    except ChatError as exc:
        return _error(exc, 400)
    log.info("chat %d transferred by %s", chat_id, g.user.agent)
    return jsonify(chat=chat_id, state="waiting", agent=to_agent or None, queue=to_queue or None)


@blueprint.post("/api/v1/chats/<int:chat_id>/wrapup")
@require_role("agent")
def wrap_up(chat_id: int):
    """End the chat (its transcript filed in the inbox, under its patient) with the agent's wrap-up."""
    body = request.get_json(silent=True) or {}
    code, notes = str(body.get("code", "")), str(body.get("notes", ""))
    codes = web().settings.web.wrapup_codes
    if code not in codes:
        return jsonify(error=f"code: {code!r} is not one of {', '.join(codes)}"), 400
    if len(notes) > MAX_NOTES:
        return jsonify(error=f"notes: at most {MAX_NOTES} characters"), 400
    with web().transaction() as db:
        try:
            held_by(db, chat_id, g.user.agent)
        except ChatError as exc:
            return _error(exc)
    try:
        chat_routing().finish(chat_id, g.user.agent, code)
    except ChatError as exc:
        return _error(exc)
    with web().transaction() as db:
        chat = chat_by_id(db, chat_id)
        chat.wrapup_code, chat.wrapup_notes = code, notes
        add_message(db, chat, "system", chat_words(chat.language)["closed"])
        item_id = close(db, chat)
    return jsonify(chat=chat_id, state="closed", inbox_item=item_id)
