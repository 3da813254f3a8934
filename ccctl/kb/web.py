"""The knowledge base in the console: the articles' pages (list, editor, review, publish) and the
workstation's API (suggestions for the call, search, an article by SMS to the caller).

Editing never touches what patients are served: a change is a draft (kb_drafts) until a supervisor or
admin publishes it as kb/<lang>/<slug>.md. Every step is audited with the article and what changed.
"""

from __future__ import annotations

import logging
from pathlib import Path

from flask import Blueprint, abort, current_app, flash, g, jsonify, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import Session

from ccctl.channels.sms_records import send_one
from ccctl.kb import store
from ccctl.kb.articles import SLUG, load_articles
from ccctl.kb.editing import ArticleForm
from ccctl.kb.knowledge import KnowledgeBase
from ccctl.kb.suggestions import suggest
from ccctl.kb.text import LANGUAGES
from ccctl.kb.web_words import words_for
from ccctl.records.audit import record_audit
from ccctl.records.models.calls import Call
from ccctl.records.models.web import AgentContact
from ccctl.web.context import audit_source, require_role, web

log = logging.getLogger("ccctl.web")
blueprint = Blueprint("kb", __name__)

EDITORS = ("admin", "supervisor", "agent")  # agents hear what patients ask: they may write drafts
REVIEWERS = ("admin", "supervisor")
SEARCH_SHOWN = 8
MAX_QUERY_CHARS = 300


def knowledge() -> KnowledgeBase:
    """The console's own view of kb.dir (rebuilt when a file changes, like the chat's and the phone's)."""
    kb = current_app.extensions.get("ccctl_kb")
    if kb is None:
        kb = current_app.extensions["ccctl_kb"] = KnowledgeBase.from_settings(web().settings)
    return kb


def _kb_dir() -> str:
    return web().settings.kb.dir


def _language(value: str) -> str:
    if value not in LANGUAGES:
        abort(404)
    return value


@blueprint.app_context_processor
def _kb_words() -> dict:
    user = g.get("user")
    return {"kbw": words_for(user.language if user else "en")}


# -- the articles' pages ----------------------------------------------------------------------------


@blueprint.get("/kb")
@require_role(*EDITORS)
def articles():
    ctx = web()
    load = load_articles(Path(ctx.settings.kb.dir))
    today = knowledge().today()
    with ctx.transaction() as db:
        drafts = store.drafts(db)
    rows = [
        {"language": a.language, "slug": a.slug, "title": a.title, "owner": a.owner,
         "valid_until": a.valid_until, "state": "expired" if a.expired(today) else "published"}
        for a in sorted(load.articles, key=lambda a: (a.language, a.slug))
    ]  # fmt: skip
    return render_template(
        "kb_articles.html",
        rows=rows,
        drafts=drafts,
        expired=[r for r in rows if r["state"] == "expired"],
        problems=[str(p) for p in load.problems],
        languages=LANGUAGES,
        reviewer=g.user.role in REVIEWERS,
    )


@blueprint.route("/kb/new", methods=["GET", "POST"])
@require_role(*EDITORS)
def new_article():
    language = _language(request.values.get("language", "en"))
    if request.method == "GET":
        return _editor(ArticleForm(language), new=True)
    form = ArticleForm.from_mapping(language, request.form)
    with web().transaction() as db:
        drafted = store.draft_for(db, language, form.slug) is not None
    if drafted or (SLUG.match(form.slug) and store.published(_kb_dir(), language, form.slug) is not None):
        return _editor(form, new=True, problems={"slug": [words_for(g.user.language)["slug_taken"]]}), 400
    return _save(form, new=True)


@blueprint.route("/kb/<language>/<slug>/edit", methods=["GET", "POST"])
@require_role(*EDITORS)
def edit(language: str, slug: str):
    language = _language(language)
    if not SLUG.match(slug):
        abort(404)
    with web().transaction() as db:
        draft = store.draft_for(db, language, slug)
        current = store.draft_article(draft) if draft else store.published(_kb_dir(), language, slug)
        draft_info = {"id": draft.id, "state": draft.state, "author": draft.author} if draft else None
    if current is None:
        abort(404)
    if request.method == "GET":
        return _editor(ArticleForm.from_article(current), draft=draft_info)
    form = ArticleForm.from_mapping(language, {**request.form, "slug": slug})
    return _save(form, draft=draft_info)


def _save(form: ArticleForm, new: bool = False, draft: dict | None = None):
    article, problems = form.check()
    if article is None:  # nothing is saved: the editor again, each problem beside its field
        return _editor(form, new=new, draft=draft, problems=problems), 400
    with web().transaction() as db:
        store.save_draft(db, _kb_dir(), form, g.user.name, audit_source())
    flash(("ok", words_for(g.user.language)["draft_saved"]))
    return redirect(url_for("kb.edit", language=form.language, slug=form.slug))


def _editor(form: ArticleForm, new: bool = False, draft: dict | None = None, problems: dict | None = None):
    return render_template(
        "kb_edit.html",
        form=form,
        new=new,
        draft=draft,
        problems=problems or {},
        languages=LANGUAGES,
        reviewer=g.user.role in REVIEWERS,
    )


@blueprint.post("/kb/drafts/<int:draft_id>/<step>")
@require_role(*EDITORS)
def draft_step(draft_id: int, step: str):
    if step not in ("submit", "publish", "discard"):
        abort(404)
    if step == "publish" and g.user.role not in REVIEWERS:
        abort(403)
    words = words_for(g.user.language)
    ctx = web()
    try:
        with ctx.transaction() as db:
            if step == "submit":
                store.submit(db, draft_id, g.user.name, audit_source())
            elif step == "publish":
                store.publish(db, ctx.settings.kb.dir, draft_id, g.user.name, audit_source())
            else:
                store.discard(db, draft_id, g.user.name, audit_source())
        flash(("ok", words[f"done_{step}"]))
    except store.DraftError as exc:
        flash(("error", str(exc)))
    return redirect(url_for("kb.articles"))


# -- the workstation's API --------------------------------------------------------------------------


@blueprint.get("/api/v1/kb/search")
@require_role(*EDITORS)
def search():
    language = request.args.get("lang", "")
    if language not in LANGUAGES:
        return jsonify(error=f"lang must be one of {', '.join(LANGUAGES)}"), 400
    text = request.args.get("q", "")[:MAX_QUERY_CHARS]
    result = knowledge().search(text, language, SEARCH_SHOWN)
    hits = [
        {"slug": h.article.slug, "language": language, "title": h.article.title, "short": h.article.short,
         "why": "search", "confidence": round(h.confidence, 3)}
        for h in result.hits
    ]  # fmt: skip
    return jsonify(articles=hits)


@blueprint.get("/api/v1/kb/suggestions")
@require_role("agent")
def suggestions():
    """Articles for the agent's call (its IVR path and queue): only a call the agent was offered."""
    language = request.args.get("lang", "")
    if language not in LANGUAGES:
        return jsonify(error=f"lang must be one of {', '.join(LANGUAGES)}"), 400
    call_uuid = request.args.get("call_uuid", "")[:64]
    with web().transaction() as db:
        queue = _offered_queue(db, g.user.agent, call_uuid)
    if queue is None:
        return jsonify(error="this call was not offered to you"), 403
    path = web().controller.call_path(call_uuid)
    found = suggest(knowledge(), path, queue, language)
    return jsonify(articles=[s.data() for s in found], path=path, queue=queue)


@blueprint.get("/api/v1/kb/articles/<language>/<slug>")
@require_role(*EDITORS)
def article(language: str, slug: str):
    found = knowledge().article(slug, language) if language in LANGUAGES else None
    if found is None:
        return jsonify(error=f"no published article '{slug}' ({language})"), 404
    return jsonify(slug=found.slug, language=found.language, title=found.title, short=found.short, body=found.body)


@blueprint.post("/api/v1/kb/sms")
@require_role("agent")
def sms_to_caller():
    """The article's short answer by SMS to the number the agent's call came from; audited, number never shown."""
    body = request.get_json(silent=True) or {}
    call_uuid, slug, language = (str(body.get(k, ""))[:64] for k in ("call_uuid", "slug", "language"))
    found = knowledge().article(slug, language) if language in LANGUAGES else None
    if found is None:
        return jsonify(error=f"no published article '{slug}' ({language})"), 404
    ctx = web()
    with ctx.transaction() as db:
        if _offered_queue(db, g.user.agent, call_uuid) is None:
            return jsonify(error="this call was not offered to you"), 403
        # the call this controller drives, else its in-progress record (a call on another controller)
        call = db.scalars(select(Call).where(Call.uuid == call_uuid)).first()
        number = ctx.controller.caller_number(call_uuid) or (call.caller_number if call else "")
        patient_id = call.patient_id if call else _offered_patient(db, g.user.agent, call_uuid)
        if not number:
            return jsonify(error="the caller's number is not known for this call"), 409
    with Session(ctx.engine, expire_on_commit=False) as db:  # send_one commits the row before Kannel is asked
        message = send_one(db, ctx.settings, number, found.short, patient_id)
        detail = f"article {language}/{slug}.md to the caller of call {call_uuid}: sms {message.id} {message.status}"
        record_audit(db, g.user.name, "kb sms", patient_id, audit_source(), detail=detail)
        db.commit()
        status, error = message.status, message.error
    log.info("agent %s sent article %s/%s by SMS (%s)", g.user.agent, language, slug, status)
    if status == "opted_out":
        return jsonify(error="the caller's number opted out of SMS", status=status), 409
    if status not in ("sent", "queued", "sending"):
        return jsonify(error=error or status, status=status), 502
    return jsonify(status=status, slug=slug, language=language)


def _offered_patient(db, agent: str, call_uuid: str) -> int | None:
    query = select(AgentContact.patient_id).where(AgentContact.agent == agent, AgentContact.call_uuid == call_uuid)
    return db.scalars(query.limit(1)).first()


def _offered_queue(db, agent: str, call_uuid: str) -> str | None:
    """The queue the call was offered to this agent from; None when it never was."""
    query = select(AgentContact.queue).where(AgentContact.agent == agent, AgentContact.call_uuid == call_uuid)
    return db.scalars(query.limit(1)).first() if call_uuid else None
