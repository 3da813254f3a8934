"""The ticket board in the console: open tickets by state with owner and due date; a ticket's page with
its history, where it is assigned, moved and resolved (the outcome goes to the patient by their channel).

Opening a ticket of a patient writes an audit row; tickets are addressed by their number only.
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for

from ccctl.errors import UserError
from ccctl.records.audit import record_audit
from ccctl.records.models.inbox import Ticket
from ccctl.tickets.follow_up import resolve_ticket
from ccctl.tickets.inbox_web import audit_listing, local_time, patient_codes
from ccctl.tickets.service import (
    OPEN_STATES,
    TRANSITIONS,
    TicketFilter,
    assign_ticket,
    change_state,
    get_ticket,
    list_tickets,
    ticket_history,
)
from ccctl.tickets.words import inbox_words
from ccctl.web.context import audit_source, require_role, web

blueprint = Blueprint("tickets", __name__)
STAFF = ("admin", "supervisor", "agent")
BOARD_STATES = (*OPEN_STATES, "resolved")
BOARD_TICKETS = 500


def _overdue(ticket: Ticket, now: datetime) -> bool:
    due = ticket.due_at if ticket.due_at.tzinfo else ticket.due_at.replace(tzinfo=UTC)
    return ticket.state in OPEN_STATES and due < now


@blueprint.get("/tickets")
@require_role(*STAFF)
def board():
    mine = request.args.get("owner") == "me"
    now = datetime.now(UTC)
    columns: dict[str, list[dict]] = {state: [] for state in BOARD_STATES}
    with web().transaction() as db:
        tickets = [
            t
            for t in list_tickets(db, TicketFilter(owner=g.user.name if mine else None, limit=BOARD_TICKETS))
            if t.state in columns
        ]
        codes = patient_codes(db, {t.patient_id for t in tickets})
        for t in tickets:
            columns[t.state].append(
                {
                    "id": t.id,
                    "category": t.category,
                    "department": t.department,
                    "patient": codes.get(t.patient_id, ""),
                    "owner": t.owner or "",
                    "due": local_time(t.due_at),
                    "overdue": _overdue(t, now),
                    "source": t.source,
                }
            )
        audit_listing(db, "tickets board", list(codes.values()))
    return render_template("tickets.html", columns=columns, mine=mine, w=inbox_words(g.user.language))


@blueprint.get("/tickets/<int:ticket_id>")
@require_role(*STAFF)
def ticket_page(ticket_id: int):
    now = datetime.now(UTC)
    with web().transaction() as db:
        t = db.get(Ticket, ticket_id)
        if t is None:
            abort(404)
        if t.patient_id is not None:
            record_audit(db, g.user.name, "ticket show", t.patient_id, audit_source(), f"ticket {ticket_id}")
        view = {
            "id": t.id,
            "category": t.category,
            "department": t.department,
            "state": t.state,
            "owner": t.owner or "",
            "patient": patient_codes(db, {t.patient_id}).get(t.patient_id, ""),
            "patient_id": t.patient_id,
            "source": t.source,
            "inbox_item": t.inbox_item_id,
            "opened": local_time(t.created_at),
            "due": local_time(t.due_at),
            "overdue": _overdue(t, now),
            "description": t.description,
            "outcome": t.outcome,
            "next_states": [s for s in TRANSITIONS[t.state] if s != "resolved"],
            "can_resolve": "resolved" in TRANSITIONS[t.state],
        }
        history = [
            {"at": local_time(e.at), "actor": e.actor, "action": e.action, "to": e.to_state, "detail": e.detail}
            for e in ticket_history(db, ticket_id)
        ]
    return render_template("ticket.html", tk=view, history=history, w=inbox_words(g.user.language))


def _act(ticket_id: int, work):
    try:
        with web().transaction() as db:
            get_ticket(db, ticket_id)
            told = work(db)
    except UserError as exc:
        flash(("error", str(exc)))
    else:
        flash(("ok", told or inbox_words(g.user.language)("saved")))
    return redirect(url_for("tickets.ticket_page", ticket_id=ticket_id))


@blueprint.post("/tickets/<int:ticket_id>/assign")
@require_role(*STAFF)
def assign(ticket_id: int):
    owner = request.form.get("owner", "").strip() or g.user.name
    return _act(ticket_id, lambda db: assign_ticket(db, ticket_id, owner, g.user.name) and None)


@blueprint.post("/tickets/<int:ticket_id>/move")
@require_role(*STAFF)
def move(ticket_id: int):
    state = request.form.get("state", "")
    return _act(ticket_id, lambda db: change_state(db, ticket_id, state, g.user.name) and None)


@blueprint.post("/tickets/<int:ticket_id>/resolve")
@require_role(*STAFF)
def resolve(ticket_id: int):
    outcome = request.form.get("outcome", "")
    settings = web().settings
    # the line says how the patient was told (sent by email / sms, or that no address is known)
    return _act(ticket_id, lambda db: resolve_ticket(db, settings, ticket_id, outcome, g.user.name))
