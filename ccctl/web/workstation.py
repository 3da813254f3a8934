"""The agent workstation: status (available, break with reason, logged out), screen pops, wrap-up, and the
callbacks waiting in the agent's queues.

Screen pops reach only the agent they are for (their own SSE stream); wrap-ups are kept per call. The
callbacks list shows the numbers to dial, so each view of it is audited.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator

from flask import Blueprint, Response, flash, g, jsonify, redirect, render_template, request, url_for
from gevent.queue import Empty

from ccctl.acd.agents import set_status as set_agent_status
from ccctl.acd.callbacks import CallbackError, CallbackRow, close_in, pending_in, queues_of
from ccctl.acd.click_to_call import pin_to_agent
from ccctl.records.audit import record_audit
from ccctl.records.models.web import CallWrapUp
from ccctl.web.callback_words import callback_words
from ccctl.web.context import audit_source, require_role, web
from ccctl.web.sessions import STREAM_CHECK_SECONDS, stream_watch
from ccctl.web.wallboard import sse

log = logging.getLogger("ccctl.web")
workstation = Blueprint("workstation", __name__)

AGENT_STATUSES = ("available", "on_break", "logged_out")
KEEPALIVE_SECONDS = 15.0
MAX_NOTES = 4000


@workstation.get("/workstation")
@require_role("agent")
def page():
    ctx = web()
    return render_template(
        "workstation.html",
        current=ctx.screen_pops.current(g.user.agent),
        codes=ctx.settings.web.wrapup_codes,
        statuses=AGENT_STATUSES,
        callbacks=_callbacks_shown(),
        cbw=callback_words(g.user.language),
    )


def _callbacks_shown() -> list[CallbackRow]:
    """The open callbacks of the agent's queues, numbers in full; one audit row names those shown."""
    with web().transaction() as db:
        rows = pending_in(db, queues_of(db, g.user.agent), full=True)
        if rows:
            patients = sorted({r.patient for r in rows if r.patient})
            detail = f"callbacks {', '.join(str(r.id) for r in rows)}" + (
                f": patients {', '.join(patients)}" if patients else ""
            )
            record_audit(db, g.user.name, "callbacks view", None, audit_source(), detail=detail)
    return rows


@workstation.post("/workstation/callbacks/<int:callback_id>/done")
@require_role("agent")
def callback_done(callback_id: int):
    note = request.form.get("note", "").strip()
    if not note:
        flash(("error", "callback_note_needed"))
        return redirect(url_for("workstation.page"))
    try:
        with web().transaction() as db:
            queues = queues_of(db, g.user.agent)
            close_in(db, callback_id, "done", note, g.user.name, audit_source(), queues=queues)
        flash(("ok", "callback_marked_done"))
    except CallbackError as exc:  # names the callback, never the caller
        flash(("error", str(exc)))
    return redirect(url_for("workstation.page"))


@workstation.post("/workstation/callbacks/<int:callback_id>/call")
@require_role("agent")
def callback_call(callback_id: int):
    """Call now: the callback is pinned to this agent, who is reserved while the ACD dials the patient."""
    try:
        with web().transaction() as db:
            queues = queues_of(db, g.user.agent)
            pin_to_agent(db, callback_id, g.user.agent, g.user.name, audit_source(), queues=queues)
        if web().acd is not None:
            web().acd.wake()  # this process's router dials at once; another process's finds the pin in its tick
        flash(("ok", callback_words(g.user.language)["calling_now"]))
    except CallbackError as exc:  # names the callback or the agent, never the caller
        flash(("error", str(exc)))
    return redirect(url_for("workstation.page"))


@workstation.get("/api/v1/agent/current")
@require_role("agent")
def current():
    return jsonify(offer=web().screen_pops.current(g.user.agent))


@workstation.post("/api/v1/agent/status")
@require_role("agent")
def set_status():
    body = request.get_json(silent=True) or {}
    status, reason = body.get("status", ""), str(body.get("reason", ""))[:200]
    if status not in AGENT_STATUSES:
        return jsonify(error=f"status: {status!r} is not one of {', '.join(AGENT_STATUSES)}"), 400
    try:
        set_agent_status(web().settings.database.url, g.user.agent, status, reason=reason)
    except (LookupError, ValueError) as exc:  # the ACD names what is wrong (unknown agent, bad move)
        return jsonify(error=str(exc)), 400
    log.info("agent %s set status %s", g.user.agent, status)
    return jsonify(agent=g.user.agent, status=status, reason=reason)


@workstation.post("/api/v1/calls/<call_uuid>/wrapup")
@require_role("agent", "admin")
def wrap_up(call_uuid: str):
    ctx = web()
    body = request.get_json(silent=True) or {}
    code, notes = str(body.get("code", "")), str(body.get("notes", ""))
    if code not in ctx.settings.web.wrapup_codes:
        return jsonify(error=f"code: {code!r} is not one of {', '.join(ctx.settings.web.wrapup_codes)}"), 400
    if len(notes) > MAX_NOTES:
        return jsonify(error=f"notes: at most {MAX_NOTES} characters"), 400
    agent = g.user.agent or g.user.name
    with ctx.transaction() as db:
        if g.user.role == "agent" and not ctx.screen_pops.may_wrap_up(db, agent, call_uuid):
            return jsonify(error="this call was not offered to you"), 403
        db.add(CallWrapUp(call_uuid=call_uuid[:64], agent=agent, code=code, notes=notes))
    return jsonify(call_uuid=call_uuid, code=code, saved=True)


@workstation.get("/api/v1/agent/stream")
@require_role("agent")
def stream():
    pops, agent = web().screen_pops, g.user.agent
    watch = stream_watch()

    def events() -> Iterator[str]:
        queue = pops.subscribe(agent)
        try:
            yield "retry: 2000\n\n"
            quiet_since = time.monotonic()
            while watch.still_open():
                try:
                    yield sse("pop", queue.get(timeout=STREAM_CHECK_SECONDS))
                    quiet_since = time.monotonic()
                except Empty:
                    if time.monotonic() - quiet_since >= KEEPALIVE_SECONDS:
                        yield ": keep-alive\n\n"
                        quiet_since = time.monotonic()
        finally:
            pops.unsubscribe(agent, queue)

    return Response(events(), mimetype="text/event-stream", headers={"Cache-Control": "no-store"})
