"""The callback worklist: callers who asked, while in line, to be called back (queue_entries with a callback
number), as staff see them, and how staff close one they called back by hand.

The ACD dials a pending callback when the caller's turn comes; staff may call first and mark it done, or
cancel it. Either takes the number off the entry (compare-and-set, so the router and a person never both
act on one caller) and leaves a queue event (for the KPIs) and an audit row.
"""

from __future__ import annotations

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


def mask_number(number: str) -> str:
    """'+48601000001' -> '+********001': enough to tell two callers apart, not to dial."""
    if not number:
        return ""
    head = "+" if number.startswith("+") else ""
    rest = number[len(head) :]
    shown = rest[-SHOWN_DIGITS:] if len(rest) > SHOWN_DIGITS + 2 else ""
    return head + "*" * (len(rest) - len(shown)) + shown


def in_transaction(url: str, work):
    return database.in_transaction(url, CallbackError, work)


def _state(entry: QueueEntry, kinds: set[str]) -> str:
    if entry.callback_number and entry.status == model.WAITING:
        return "pending"
    if entry.callback_number and entry.status == model.OFFERED:
        return "dialling"
    for outcome, (status, _) in CLOSED_BY_STAFF.items():
        if entry.status == status:
            return outcome
    return "called back" if "callback_made" in kinds else entry.status


def _rows(session: Session, entries: list[tuple[QueueEntry, datetime]], full: bool) -> list[CallbackRow]:
    uuids = [entry.call_uuid for entry, _ in entries]
    kinds: dict[str, set[str]] = {}
    attempts: dict[str, int] = {}
    if uuids:
        found = session.execute(
            select(QueueEvent.call_uuid, QueueEvent.kind, func.count())
            .where(QueueEvent.call_uuid.in_(uuids), QueueEvent.kind.in_(ATTEMPTS))
            .group_by(QueueEvent.call_uuid, QueueEvent.kind)
        )
        for uuid, kind, count in found:
            kinds.setdefault(uuid, set()).add(kind)
            attempts[uuid] = attempts.get(uuid, 0) + count
    codes: dict[int, str] = {}
    patient_ids = {entry.patient_id for entry, _ in entries if entry.patient_id is not None}
    if full and patient_ids:
        codes = dict(
            session.execute(select(Patient.id, Patient.patient_code).where(Patient.id.in_(patient_ids))).tuples().all()
        )
    rows = [
        CallbackRow(
            id=entry.id,
            requested_at=asked if asked.tzinfo else asked.replace(tzinfo=UTC),
            queue=entry.queue,
            attempts=attempts.get(entry.call_uuid, 0),
            state=_state(entry, kinds.get(entry.call_uuid, set())),
            number=entry.callback_number if full else mask_number(entry.callback_number),
            patient=codes.get(entry.patient_id, "") if entry.patient_id is not None else "",
        )
        for entry, asked in entries
    ]
    # pending first (dialling ones with them: still open), oldest request first
    return sorted(rows, key=lambda r: (r.state not in ("pending", "dialling"), r.requested_at, r.id))


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
    if row.state == "dialling":
        raise CallbackError(f"callback {entry_id} is being dialled by the ACD now; let that call end first")
    if row.state != "pending":
        raise CallbackError(f"callback {entry_id} is {row.state} already")
    now = utc_now()
    taken = session.execute(
        update(QueueEntry)
        .where(QueueEntry.id == entry_id, QueueEntry.status == model.WAITING, QueueEntry.callback_number != "")
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
