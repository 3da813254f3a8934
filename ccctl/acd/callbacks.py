"""The callback worklist: callers who asked, while in line, to be called back (queue_entries with a callback
number), as staff see them, and how staff close one they called back by hand.

The ACD dials a pending callback when the caller's turn comes; staff may call first and mark it done, or
cancel it. Either takes the number off the entry (compare-and-set, so the router and a person never both
act on one caller) and leaves a queue event (for the KPIs) and an audit row.
"""

from __future__ import annotations

import uuid as uuidlib
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from ccctl.acd import model, store
from ccctl.errors import UserError
from ccctl.records import database
from ccctl.records.audit import record_audit
from ccctl.records.models.acd import Agent, AgentSkill, QueueEntry, QueueEvent, Skill
from ccctl.records.models.base import utc_now
from ccctl.records.models.patients import Patient

REQUESTED = "callback_requested"
ATTEMPTS = ("callback_failed", "callback_made")  # each time the ACD dialled the caller
# how staff close a callback: queue_entries.status it leaves and queue_events.kind it writes
CLOSED_BY_STAFF = {"done": ("called_back", "callback_done"), "cancelled": ("cancelled", "callback_cancelled")}
MAX_NOTE_CHARS = 500
SHOWN_DIGITS = 3
OPEN_STATES = ("pending", "dialling", "calling")


class CallbackError(UserError, ValueError):
    """A callback command that cannot be done; str() names the callback at fault."""


@dataclass(frozen=True)
class CallbackRow:
    id: int  # the queue entry's id
    requested_at: datetime
    queue: str
    attempts: int
    state: str  # pending, dialling, called back, done, cancelled, or how the queued call ended
    number: str  # masked unless asked for in full (audited); "" once the callback is closed
    patient: str = ""  # patient code, only when the number is shown in full
    due: datetime | None = None  # to be made by then (after-hours requests: deadline_hours after opening)
    overdue: bool = False  # open past its due time
    not_before: datetime | None = None  # the ACD does not dial it before then (closed hotline, a failed try)
    agent: str = ""  # the agent a click-to-call is for, while it is being made
    last_attempt: str = ""  # why the last dialling failed (the switch's cause), "" if none failed


def mask_number(number: str) -> str:
    """'+48601000001' -> '+********001': enough to tell two callers apart, not to dial."""
    if not number:
        return ""
    head = "+" if number.startswith("+") else ""
    rest = number[len(head) :]
    shown = rest[-SHOWN_DIGITS:] if len(rest) > SHOWN_DIGITS + 2 else ""
    return head + "*" * (len(rest) - len(shown)) + shown


def file_callback(
    session: Session,
    queue: str,
    number: str,
    patient_id: int | None,
    reason: str,
    now: datetime,
    call_uuid: str = "",
    after: datetime | None = None,
    due: datetime | None = None,
) -> QueueEntry:
    """A new callback on the worklist, for a caller not in line (after hours, all busy, a call placed for an
    agent): a waiting queue entry with the number, not dialled before `after`, due by `due`. `call_uuid`: the
    call that asked (its queue events name it; a call that was in a queue before reuses its row), "" for none."""
    entry = session.scalar(select(QueueEntry).where(QueueEntry.call_uuid == call_uuid)) if call_uuid else None
    if entry is None:
        entry = QueueEntry(call_uuid=call_uuid or f"callback-{uuidlib.uuid4()}")
        session.add(entry)
    entry.queue, entry.patient_id, entry.priority, entry.entered_at = queue, patient_id, 0, now
    entry.status, entry.agent_id, entry.min_level, entry.callback_number = model.WAITING, None, 0, number
    entry.owner, entry.updated_at, entry.pinned_agent_id = "", now, None
    entry.callback_after, entry.callback_due = after, due
    session.flush()
    store.add_event(session, entry, REQUESTED, now, detail=reason)
    return entry


def in_transaction(url: str, work):
    return database.in_transaction(url, CallbackError, work)


def _state(entry: QueueEntry, kinds: set[str]) -> str:
    if entry.callback_number and entry.pinned_agent_id is not None and entry.status in (model.WAITING, model.OFFERED):
        return "calling"  # click-to-call: the router dials it for that agent
    if entry.callback_number and entry.status == model.WAITING:
        return "pending"
    if entry.callback_number and entry.status == model.OFFERED:
        return "dialling"
    for outcome, (status, _) in CLOSED_BY_STAFF.items():
        if entry.status == status:
            return outcome
    return "called back" if "callback_made" in kinds else entry.status


def _aware(at: datetime | None) -> datetime | None:
    return at.replace(tzinfo=UTC) if at is not None and at.tzinfo is None else at


def _last_failures(session: Session, uuids: list[str]) -> dict[str, str]:
    """Each callback's latest failed attempt's cause (NO_ANSWER, USER_BUSY...), if its last attempt failed."""
    last: dict[str, tuple[int, str, str]] = {}
    found = session.execute(
        select(QueueEvent.id, QueueEvent.call_uuid, QueueEvent.kind, QueueEvent.detail).where(
            QueueEvent.call_uuid.in_(uuids), QueueEvent.kind.in_(ATTEMPTS)
        )
    )
    for event_id, uuid, kind, detail in found:
        if uuid not in last or last[uuid][0] < event_id:
            last[uuid] = (event_id, kind, detail)
    return {
        uuid: detail.removeprefix("-ERR").strip() or "failed"
        for uuid, (_, kind, detail) in last.items()
        if kind == "callback_failed"
    }


def _rows(session: Session, entries: list[tuple[QueueEntry, datetime]], full: bool) -> list[CallbackRow]:
    uuids = [entry.call_uuid for entry, _ in entries]
    kinds: dict[str, set[str]] = {}
    attempts: dict[str, int] = {}
    failures: dict[str, str] = {}
    if uuids:
        found = session.execute(
            select(QueueEvent.call_uuid, QueueEvent.kind, func.count())
            .where(QueueEvent.call_uuid.in_(uuids), QueueEvent.kind.in_(ATTEMPTS))
            .group_by(QueueEvent.call_uuid, QueueEvent.kind)
        )
        for uuid, kind, count in found:
            kinds.setdefault(uuid, set()).add(kind)
            attempts[uuid] = attempts.get(uuid, 0) + count
        failures = _last_failures(session, uuids) if attempts else {}
    pinned = {entry.pinned_agent_id for entry, _ in entries if entry.pinned_agent_id is not None}
    agents = dict(session.execute(select(Agent.id, Agent.name).where(Agent.id.in_(pinned))).all()) if pinned else {}
    now = utc_now()
    codes: dict[int, str] = {}
    patient_ids = {entry.patient_id for entry, _ in entries if entry.patient_id is not None}
    if full and patient_ids:
        codes = dict(
            session.execute(select(Patient.id, Patient.patient_code).where(Patient.id.in_(patient_ids))).tuples().all()
        )
    rows = []
    for entry, asked in entries:
        state = _state(entry, kinds.get(entry.call_uuid, set()))
        due = _aware(entry.callback_due)
        rows.append(
            CallbackRow(
                id=entry.id,
                requested_at=_aware(asked),
                queue=entry.queue,
                attempts=attempts.get(entry.call_uuid, 0),
                state=state,
                number=entry.callback_number if full else mask_number(entry.callback_number),
                patient=codes.get(entry.patient_id, "") if entry.patient_id is not None else "",
                due=due,
                overdue=due is not None and due < now and state in OPEN_STATES,
                not_before=_aware(entry.callback_after) if state == "pending" else None,
                agent=agents.get(entry.pinned_agent_id, "") if state == "calling" else "",
                last_attempt=failures.get(entry.call_uuid, ""),
            )
        )
    # open ones first (pending, being dialled), oldest request first
    return sorted(rows, key=lambda r: (r.state not in OPEN_STATES, r.requested_at, r.id))


def _entries(session: Session, queues: list[str] | None, everything: bool, entry_id: int | None = None):
    asked = (
        select(QueueEvent.call_uuid, func.min(QueueEvent.at).label("at"))
        .where(QueueEvent.kind == REQUESTED)
        .group_by(QueueEvent.call_uuid)
        .subquery()
    )
    query = select(QueueEntry, asked.c.at).join(asked, asked.c.call_uuid == QueueEntry.call_uuid)
    if queues is not None:
        query = query.where(QueueEntry.queue.in_(queues))
    if not everything:
        query = query.where(QueueEntry.callback_number != "")
    if entry_id is not None:
        query = query.where(QueueEntry.id == entry_id)
    return [(entry, at) for entry, at in session.execute(query)]


def queues_of(session: Session, agent_name: str) -> list[str]:
    """The queues this agent can take callers of (every skill the queue asks for, at any level)."""
    skills = set(
        session.scalars(
            select(Skill.name)
            .join(AgentSkill, AgentSkill.skill_id == Skill.id)
            .join(Agent)
            .where(Agent.name == agent_name)
        )
    )
    return sorted(name for name, rules in store.load_queues(session).items() if set(rules.skills) <= skills)


def pending_in(session: Session, queues: list[str], full: bool = False) -> list[CallbackRow]:
    """Open callbacks of these queues, oldest first (the workstation's list)."""
    return _rows(session, _entries(session, queues, everything=False), full)


def list_callbacks(url: str, queue: str | None = None, everything: bool = False) -> list[CallbackRow]:
    """Open callbacks (with `everything`, closed ones too), pending first, oldest first; numbers masked."""
    return in_transaction(url, lambda s: _rows(s, _entries(s, [queue] if queue else None, everything), full=False))


def row_of(session: Session, entry_id: int) -> CallbackRow:
    """One callback as the worklist shows it (number masked); CallbackError when there is none."""
    return _one(session, entry_id, full=False)


def _one(session: Session, entry_id: int, full: bool) -> CallbackRow:
    found = _entries(session, None, everything=True, entry_id=entry_id)
    if not found:
        raise CallbackError(f"no callback {entry_id} (ccctl callbacks list --all)")
    return _rows(session, found, full)[0]


def show_callback(url: str, entry_id: int, actor: str, source: str) -> CallbackRow:
    """One callback with its number in full and the patient's code: audited, as a read of the caller's data."""

    def work(session: Session) -> CallbackRow:
        row = _one(session, entry_id, full=True)
        patient_id = session.get(QueueEntry, entry_id).patient_id
        record_audit(session, actor, "callback show", patient_id, source, f"callback {entry_id}")
        return row

    return in_transaction(url, work)


def close_in(
    session: Session,
    entry_id: int,
    outcome: str,
    note: str,
    actor: str,
    source: str,
    queues: list[str] | None = None,
) -> CallbackRow:
    """Staff called the caller back by hand ("done") or dropped the request ("cancelled"); `queues`: the only
    queues this person may close callbacks of (an agent's), None = any."""
    status, kind = CLOSED_BY_STAFF[outcome]
    if len(note) > MAX_NOTE_CHARS:
        raise CallbackError(f"callback {entry_id}: the note has more than {MAX_NOTE_CHARS} characters")
    row = _one(session, entry_id, full=False)
    if queues is not None and row.queue not in queues:
        raise CallbackError(f"callback {entry_id} is not in your queues")
    if row.state in ("dialling", "calling"):
        raise CallbackError(f"callback {entry_id} is being dialled by the ACD now; let that call end first")
    if row.state != "pending":
        raise CallbackError(f"callback {entry_id} is {row.state} already")
    now = utc_now()
    taken = session.execute(
        update(QueueEntry)
        .where(QueueEntry.id == entry_id, QueueEntry.status == model.WAITING, QueueEntry.callback_number != "")
        .where(QueueEntry.pinned_agent_id.is_(None))  # an agent is calling them now
        .values(status=status, callback_number="", updated_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if taken != 1:  # the router offered the caller to an agent in between
        raise CallbackError(f"callback {entry_id} is being dialled by the ACD now; let that call end first")
    entry = session.get(QueueEntry, entry_id)
    session.refresh(entry)
    store.add_event(session, entry, kind, now, detail=note)
    record_audit(session, actor, f"callback {outcome}", entry.patient_id, source, f"callback {entry_id}")
    return _one(session, entry_id, full=False)


def close_callback(url: str, entry_id: int, outcome: str, note: str, actor: str, source: str) -> CallbackRow:
    return in_transaction(url, lambda session: close_in(session, entry_id, outcome, note, actor, source))
