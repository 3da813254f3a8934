"""The shared inbox in the console: sort and filter, flag, assign, reply, file under a patient, make a ticket.

Every staff role works the inbox. Opening an item (and playing its recording) writes an audit row; items
are addressed by their row id, never by anything of the patient's; recordings and attachments are
served through the page, never named by their path on the server.
"""

from __future__ import annotations

import io
import logging
from datetime import UTC, datetime

from flask import Blueprint, abort, flash, g, redirect, render_template, request, send_file, url_for
from sqlalchemy import select

from ccctl.channels.inbox import InboxFilter, assign, file_under, get_item, list_items, set_flag
from ccctl.channels.inbox_reply import reply, reply_route
from ccctl.errors import UserError
from ccctl.records.audit import record_audit
from ccctl.records.models.inbox import InboxAttachment, InboxItem
from ccctl.records.models.patients import Patient
from ccctl.storage.sealed import MediaKeyError, load_key, read_clear
from ccctl.tickets.service import open_from_item
from ccctl.tickets.words import inbox_words
from ccctl.web.context import audit_source, require_role, web

blueprint = Blueprint("inbox", __name__)
log = logging.getLogger("ccctl.web")
STAFF = ("admin", "supervisor", "agent")
SHOWS = ("open", "needs-reply", "unverified", "mine", "done", "all")
PAGE_ITEMS = 200


def local_time(value: datetime | None) -> str:
    """A stored UTC time in the server's zone (SQLite gives it back without its zone)."""
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return f"{value.astimezone():%Y-%m-%d %H:%M}"


def patient_codes(db, ids: set[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return dict(db.execute(select(Patient.id, Patient.patient_code).where(Patient.id.in_(wanted))).all())


def audit_listing(db, action: str, codes: list[str]) -> None:
    """A list that shows patients' items (codes, subjects) is a read of them: one audit row names them all."""
    named = sorted({code for code in codes if code})
    if named:
        record_audit(db, g.user.name, action, None, audit_source(), f"patients {', '.join(named)}"[:2000])


def item_flags(item: InboxItem) -> list[str]:
    flags = [("unverified", item.suggested_patient_id is not None), ("needs-reply", item.needs_reply and not item.done)]
    flags += [("done", item.done), ("problem", bool(item.problem))]
    return [name for name, on in flags if on]


def _filter(show: str, sort: str) -> InboxFilter:
    filters = InboxFilter(limit=PAGE_ITEMS, oldest_first=sort == "oldest")
    if show == "mine":
        filters.assigned_to, filters.flag = g.user.name, "open"
    elif show != "all":
        filters.flag = show
    return filters


@blueprint.get("/inbox")
@require_role(*STAFF)
def page():
    show = request.args.get("show", "open")
    sort = request.args.get("sort", "newest")
    if show not in SHOWS or sort not in ("newest", "oldest"):
        abort(400)
    with web().transaction() as db:
        items = [item for item in list_items(db, _filter(show, sort)) if item.direction == "in"]
        codes = patient_codes(db, {i.patient_id for i in items} | {i.suggested_patient_id for i in items})
        rows = [
            {
                "id": item.id,
                "received": local_time(item.received_at),
                "channel": item.channel,
                "patient": codes.get(item.patient_id, ""),
                "flags": item_flags(item),
                "assigned_to": item.assigned_to or "",
                "subject": ((item.subject or item.body).strip().splitlines() or [""])[0][:80],
            }
            for item in items
        ]
        audit_listing(db, "inbox list", [row["patient"] for row in rows])
    return render_template("inbox.html", rows=rows, show=show, sort=sort, shows=SHOWS, w=inbox_words(g.user.language))


def _item_view(db, item: InboxItem) -> dict:
    codes = patient_codes(db, {item.patient_id, item.suggested_patient_id})
    channel, to = reply_route(item)
    return {
        "id": item.id,
        "received": local_time(item.received_at),
        "channel": item.channel,
        "sender": item.sender,
        "patient": codes.get(item.patient_id, ""),
        "patient_id": item.patient_id,
        "suggested": codes.get(item.suggested_patient_id, ""),
        "subject": item.subject,
        "body": item.body,
        "flags": item_flags(item),
        "assigned_to": item.assigned_to or "",
        "problem": item.problem,
        "reply_channel": channel if to else "",
        "reply_to": to,
        "attachments": [
            {"id": a.id, "filename": a.filename, "audio": a.content_type.startswith("audio/"), "size": a.size}
            for a in item.attachments
        ],
        "reason": item.subject.removeprefix("voice message: ") if item.channel == "voice" else "",
    }


@blueprint.get("/inbox/<int:item_id>")
@require_role(*STAFF)
def item_page(item_id: int):
    ctx = web()
    with ctx.transaction() as db:
        item = db.get(InboxItem, item_id)
        if item is None:
            abort(404)
        record_audit(db, g.user.name, "inbox show", item.patient_id, audit_source(), f"item {item_id}")
        view = _item_view(db, item)
    categories = [rule.name for rule in ctx.settings.inbox.ticket_categories]
    return render_template("inbox_item.html", item=view, categories=categories, w=inbox_words(g.user.language))


@blueprint.get("/inbox/<int:item_id>/files/<int:attachment_id>")
@require_role(*STAFF)
def attachment(item_id: int, attachment_id: int):
    """The file itself (a voice message plays in the page from here), audited like the item."""
    with web().transaction() as db:
        row = db.get(InboxAttachment, attachment_id)
        if row is None or row.item_id != item_id:
            abort(404)
        record_audit(db, g.user.name, "inbox attachment", row.item.patient_id, audit_source(), f"item {item_id}")
        path, content_type, filename = row.path, row.content_type, row.filename
    try:
        # sealed at rest: opened here, in memory, for this one answer
        data = read_clear(path, load_key(web().settings))
    except MediaKeyError as exc:
        # the operator's problem, said in one line that names the setting; the file's content stays out
        log.error("attachment of inbox item %s: %s", item_id, exc)
        return str(exc), 500, {"Content-Type": "text/plain; charset=utf-8"}
    except OSError:
        abort(404)
    return send_file(io.BytesIO(data), mimetype=content_type, download_name=filename, conditional=True)


def _act(item_id: int, work, done: str):
    """Run one change in a transaction; the item page again with its outcome (or the one-line refusal)."""
    w = inbox_words(g.user.language)
    try:
        with web().transaction() as db:
            get_item(db, item_id)
            target = work(db)
    except UserError as exc:
        flash(("error", str(exc)))
        return redirect(url_for("inbox.item_page", item_id=item_id))
    flash(("ok", w(done)))
    return redirect(target or url_for("inbox.item_page", item_id=item_id))


@blueprint.post("/inbox/<int:item_id>/flag")
@require_role(*STAFF)
def flag(item_id: int):
    return _act(item_id, lambda db: set_flag(db, item_id, request.form.get("flag", "")) and None, "saved")


@blueprint.post("/inbox/<int:item_id>/assign")
@require_role(*STAFF)
def assign_item(item_id: int):
    user = request.form.get("user", "").strip() or g.user.name
    return _act(item_id, lambda db: assign(db, item_id, user) and None, "saved")


@blueprint.post("/inbox/<int:item_id>/reply")
@require_role(*STAFF)
def reply_item(item_id: int):
    text = request.form.get("text", "")
    settings = web().settings
    return _act(item_id, lambda db: reply(db, settings, item_id, text, g.user.name) and None, "reply_sent")


@blueprint.post("/inbox/<int:item_id>/file")
@require_role(*STAFF)
def file_item(item_id: int):
    code = request.form.get("patient_code", "").strip()

    def work(db):
        item = file_under(db, item_id, code, g.user.name)
        record_audit(db, g.user.name, "inbox file", item.patient_id, audit_source(), f"item {item_id}")

    return _act(item_id, work, "saved")


@blueprint.post("/inbox/<int:item_id>/ticket")
@require_role(*STAFF)
def make_ticket(item_id: int):
    """A person decided this item needs a ticket (a voice message or a form is never one by itself)."""
    category = request.form.get("category", "")
    description = request.form.get("description", "")
    settings = web().settings

    def work(db):
        item = get_item(db, item_id)
        ticket_id = open_from_item(db, item, category, description, settings=settings.inbox, actor=g.user.name)
        item.needs_reply, item.done = False, True
        return url_for("tickets.ticket_page", ticket_id=ticket_id)

    return _act(item_id, work, "ticket_opened")
