"""Tickets: due date by category SLA, allowed state changes, history, escalation once, voice messages, report."""

from datetime import UTC, datetime, timedelta

import pytest

from ccctl.config import InboxSettings, Settings, TicketCategory
from ccctl.records.models.calls import VoiceMessage
from ccctl.records.models.inbox import InboxItem, Ticket
from ccctl.tickets.follow_up import escalate_overdue, file_voice_messages
from ccctl.tickets.report import report_csv, ticket_report
from ccctl.tickets.service import (
    TicketError,
    assign_ticket,
    change_state,
    get_ticket,
    open_from_item,
    open_ticket,
    ticket_history,
)

MONDAY = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
RULES = InboxSettings(
    ticket_categories=[TicketCategory("complaint", "patient-relations", 72), TicketCategory("billing", "finance", 24)],
    default_sla_hours=120,
)


def opened(session, category="complaint", at=MONDAY, patient_id=None) -> int:
    return open_ticket(session, "agent", patient_id, category, "the wait was too long", settings=RULES, now=at)


def test_the_due_date_and_department_come_from_the_category(session):
    billing = get_ticket(session, opened(session, "billing"))
    other = get_ticket(session, opened(session, "parking"))
    assert (billing.department, billing.due_at) == ("finance", MONDAY + timedelta(hours=24))
    assert (other.department, other.due_at) == ("", MONDAY + timedelta(hours=120))


def test_only_allowed_state_changes_happen_and_each_is_in_the_history(session):
    ticket_id = opened(session)
    with pytest.raises(TicketError, match="ticket 1 is new: it can move to assigned, in-progress, resolved, closed"):
        change_state(session, ticket_id, "waiting-for-patient", "maria")
    assign_ticket(session, ticket_id, "maria", "lead")
    change_state(session, ticket_id, "waiting-for-patient", "maria")
    change_state(session, ticket_id, "resolved", "maria")
    reopened = change_state(session, ticket_id, "in-progress", "maria")
    assert reopened.resolved_at is None and reopened.owner == "maria"
    moves = [(e.actor, e.action, e.from_state, e.to_state) for e in ticket_history(session, ticket_id)]
    assert moves == [
        ("system", "opened", "", "new"),
        ("lead", "assigned", "new", "assigned"),
        ("maria", "state", "assigned", "waiting-for-patient"),
        ("maria", "state", "waiting-for-patient", "resolved"),
        ("maria", "state", "resolved", "in-progress"),
    ]
    with pytest.raises(TicketError, match="state 'done' is not one of new, assigned"):
        change_state(session, ticket_id, "done", "maria")


def test_a_ticket_needs_a_known_source(session):
    with pytest.raises(TicketError, match="source 'pigeon' is not one of voice, fax, agent"):
        open_ticket(session, "pigeon", None, "complaint", "")


def test_overdue_open_tickets_escalate_once_and_finished_ones_never(session):
    late = opened(session, "billing")
    finished = opened(session, "billing")
    change_state(session, finished, "resolved", "maria")
    on_time = opened(session, "complaint")
    settings = Settings(inbox=RULES)
    day_later = MONDAY + timedelta(hours=25)
    assert escalate_overdue(session, settings, now=day_later) == [late]
    assert escalate_overdue(session, settings, now=day_later + timedelta(hours=1)) == []
    assert get_ticket(session, on_time).escalated_at is None
    (event,) = [e for e in ticket_history(session, late) if e.action == "escalated"]
    assert event.detail == "due 2026-11-24 08:00; no escalation address configured"


def test_voice_messages_are_filed_in_the_inbox_once_and_become_tickets_only_when_someone_decides(session, ann):
    for reason in ("complaint", "after_hours"):
        session.add(VoiceMessage(call_uuid="c-1", patient_id=ann.id, path="v.wav", reason=reason, created_at=MONDAY))
    session.flush()
    first, second = file_voice_messages(session)
    assert file_voice_messages(session) == []
    items = [session.get(InboxItem, first), session.get(InboxItem, second)]
    assert [(i.channel, i.patient_id, i.needs_reply, i.subject) for i in items] == [
        ("voice", ann.id, True, "voice message: complaint"),
        ("voice", ann.id, True, "voice message: after_hours"),
    ]
    assert items[0].attachments[0].content_type == "audio/wav"
    assert session.query(Ticket).count() == 0
    ticket = get_ticket(session, open_from_item(session, items[0], "complaint", "", settings=RULES, actor="maria"))
    assert (ticket.source, ticket.category, ticket.patient_id, ticket.inbox_item_id) == (
        "voice",
        "complaint",
        ann.id,
        first,
    )
    assert ticket.due_at.replace(tzinfo=UTC) == MONDAY + timedelta(hours=72)  # counted from the message


def test_the_report_groups_by_category_and_department_with_time_to_close(session):
    for hours in (2, 4, 9):
        ticket_id = opened(session, "complaint")
        get_ticket(session, ticket_id).created_at = datetime.now(UTC) - timedelta(hours=hours)
        change_state(session, ticket_id, "resolved", "maria")
    opened(session, "billing")
    complaint, billing = sorted(ticket_report(session), key=lambda row: row.category != "complaint")
    assert (complaint.opened, complaint.closed, complaint.still_open) == (3, 3, 0)
    assert round(complaint.median_hours_to_close) == 4 and round(complaint.mean_hours_to_close) == 5
    assert (billing.department, billing.opened, billing.still_open, billing.median_hours_to_close) == (
        "finance",
        1,
        1,
        None,
    )
    csv_lines = report_csv([billing]).splitlines()
    assert csv_lines[0].startswith("category,department,opened,closed,still_open,escalated")
    assert csv_lines[1] == "billing,finance,1,0,1,0,,"
