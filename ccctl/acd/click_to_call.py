"""Click-to-call: an agent calls a patient now, through the ACD, and talks to them as to any callback.

pin_to_agent() pins a worklist callback to one agent and reserves that agent, both by compare-and-set (two
agents, or an agent and the router, never take one callback twice). The state is in the database: the router
of any `ccctl serve` on it dials the patient for that agent alone (engine._claim_pinned), the patient hears
the callback greeting and is offered to the agent. place_for_agent() does the same for any number (it files
the callback first when none is open): the call other code places for an agent.
"""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ccctl.acd import model, store
from ccctl.acd.callbacks import CallbackError, CallbackRow, file_callback, in_transaction, queues_of, row_of
from ccctl.records.audit import record_audit
from ccctl.records.models.acd import Agent, QueueEntry
from ccctl.records.models.base import utc_now

# the agent stays reserved this long for the router to take the call up (it re-reserves them while it rings)
PIN_HOLD_SECONDS = 30.0
PHONE_DIGITS = re.compile(r"^\+?[0-9]{3,20}$")
PINNED = "callback_pinned"


def pin_to_agent(
    session: Session,
    entry_id: int,
    agent: str,
    actor: str,
    source: str,
    queues: list[str] | None = None,
    now: datetime | None = None,
) -> CallbackRow:
    """Pin the open callback `entry_id` to the agent named `agent` and reserve them; the ACD then dials it
    for them at once. `queues`: the only queues the callback may be in (an agent's own), None = any.
    Audited as `callback call` by `actor` from `source`. CallbackError (one line, no caller data) when the
    callback is not open, already being called, or the agent is not Available and idle."""
    now = now or utc_now()
    row = row_of(session, entry_id)
    if queues is not None and row.queue not in queues:
        raise CallbackError(f"callback {entry_id} is not in your queues")
    if row.state == "calling":
        raise CallbackError(f"callback {entry_id} is being called by agent {row.agent or '?'} already")
    if row.state == "dialling":
        raise CallbackError(f"callback {entry_id} is being dialled by the ACD now; let that call end first")
    if row.state != "pending":
        raise CallbackError(f"callback {entry_id} is {row.state} already")
    agent_id = session.scalar(select(Agent.id).where(Agent.name == agent))
    if agent_id is None:
        raise CallbackError(f"no agent named {agent!r} (ccctl agents list)")
    taken = session.execute(
        update(QueueEntry)
        .where(QueueEntry.id == entry_id, QueueEntry.status == model.WAITING, QueueEntry.callback_number != "")
        .where(QueueEntry.pinned_agent_id.is_(None))
        .values(pinned_agent_id=agent_id, updated_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if taken != 1:  # the router or another agent took it in between
        raise CallbackError(f"callback {entry_id} was taken by the ACD or another agent just now")
    if session.scalar(select(Agent.status).where(Agent.id == agent_id)) != "available":
        raise CallbackError(f"agent {agent} is not Available: set Available first")
    if not store.claim_for_transfer(session, agent_id, entry_id, now, PIN_HOLD_SECONDS):
        raise CallbackError(f"agent {agent} is not free for a call now (in a call, ringing or in wrap-up)")
    entry = session.get(QueueEntry, entry_id)
    session.refresh(entry)
    store.add_event(session, entry, PINNED, now, agent_id, detail=f"by {actor}")
    record_audit(session, actor, "callback call", entry.patient_id, source, f"callback {entry_id} for {agent}")
    return row_of(session, entry_id)


def place_for_agent(
    session: Session,
    agent: str,
    number: str,
    patient_id: int | None,
    reason: str,
    actor: str,
    source: str,
    queue: str = "",
    now: datetime | None = None,
) -> int:
    """Call `number` now for the agent named `agent`: the open callback to that number in `queue` is pinned
    to them, or a new one is filed (a `callback_requested` event with `reason`, e.g. "preview") and pinned.
    `queue` "": the first of the agent's queues. Returns the callback's id (the queue entry's); the call, its
    answer and the talk are that entry's queue events, and the call record is the callback call's. Raises
    CallbackError as pin_to_agent does, and for a number that is not phone digits or an unknown queue."""
    now = now or utc_now()
    number = number.strip()
    if not PHONE_DIGITS.match(number):
        raise CallbackError("number: not phone digits (an optional + and 3 to 20 digits)")
    if not queue:
        mine = queues_of(session, agent)
        if not mine:
            raise CallbackError(f"agent {agent!r} takes no queue's calls: name one with --queue")
        queue = mine[0]
    if queue not in store.load_queues(session):
        raise CallbackError(f"no queue named {queue!r} (ccctl queues list)")
    entry = session.scalar(
        select(QueueEntry).where(
            QueueEntry.queue == queue,
            QueueEntry.callback_number == number,
            QueueEntry.status == model.WAITING,
            QueueEntry.pinned_agent_id.is_(None),
        )
    )
    if entry is None:
        entry = file_callback(session, queue, number, patient_id, reason, now)
    pin_to_agent(session, entry.id, agent, actor, source, now=now)
    return entry.id


def call_now(url: str, entry_id: int, agent: str, actor: str, source: str) -> CallbackRow:
    """`ccctl callbacks call`: pin_to_agent in its own transaction."""
    return in_transaction(url, lambda session: pin_to_agent(session, entry_id, agent, actor, source))
