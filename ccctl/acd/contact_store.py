"""The database work of chats and tasks in the ACD: entering a queue, the router's claim of one place on an
agent's channel, accept, finish, transfer, offers not taken in time.

A call's phone is a state (agents.state); a chat or a task takes one of the agent's places on its channel,
counted in agents.chats_open / tasks_open and claimed with a compare-and-set against the agent's capacity,
so two processes never give an agent more than they take. Every function takes an open Session.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session

from ccctl.acd import store
from ccctl.acd.model import BRIDGED, CHAT, OFFERED, TASK, WAITING, Capacities
from ccctl.acd.queue_rules import QueueRules
from ccctl.errors import UserError
from ccctl.records.models.acd import AcdAlarm, Agent, QueueEntry, QueueEvent

CONTACT_CHANNELS = (CHAT, TASK)
MAX_REF_CHARS = 56  # "<channel>:<ref>" keys the contact's events in a 64-character column
_OPEN = {CHAT: Agent.chats_open, TASK: Agent.tasks_open}
_OWN_CAPACITY = {CHAT: Agent.chat_capacity, TASK: Agent.task_capacity}


class ContactError(UserError, ValueError):
    """A chat or task cannot be queued, accepted, finished or moved; str() names the entry, agent or queue."""


def contact_key(channel: str, contact_ref: str) -> str:
    """The entry's call_uuid for a chat or a task: unique, and what its queue events are keyed by."""
    return f"{channel}:{contact_ref}"


def _claim_statement(channel: str):
    opened = _OPEN[channel]
    return (
        update(Agent)
        .where(
            Agent.id == bindparam("agent_id"),
            store._free_now(bindparam("now")),
            opened < func.coalesce(_OWN_CAPACITY[channel], bindparam("capacity")),
        )
        .values({opened: opened + 1, Agent.last_offered_at: bindparam("now")})
    )


# built once, like the router's call claims
_CLAIM_PLACE = {channel: _claim_statement(channel) for channel in CONTACT_CHANNELS}
# the entry goes to Offered only if still waiting and held by this process
_CLAIM_ENTRY = (
    update(QueueEntry)
    .where(
        QueueEntry.id == bindparam("entry_id"), QueueEntry.status == WAITING, QueueEntry.owner == bindparam("holder")
    )
    .values(status=OFFERED, agent_id=bindparam("agent_id"), updated_at=bindparam("now"))
)


def enter(
    session: Session,
    rules: QueueRules,
    channel: str,
    contact_ref: str,
    patient_id: int | None,
    priority: int,
    owner: str,
    now: datetime,
) -> QueueEntry:
    """A chat or task joins the queue's line (the same row again if it was queued before and has left)."""
    if channel not in CONTACT_CHANNELS:
        raise ContactError(f"channel {channel!r}: queue_contact takes {' or '.join(CONTACT_CHANNELS)}")
    if not contact_ref or len(contact_ref) > MAX_REF_CHARS:
        raise ContactError(f"contact_ref of a {channel}: 1 to {MAX_REF_CHARS} characters")
    key = contact_key(channel, contact_ref)
    entry = session.scalar(select(QueueEntry).where(QueueEntry.call_uuid == key))
    if entry is not None and entry.status in (WAITING, OFFERED, BRIDGED):
        raise ContactError(f"{channel} {contact_ref!r} is in queue {entry.queue!r} already (entry {entry.id})")
    if rules.max_length:
        waiting = session.scalar(
            select(func.count()).where(QueueEntry.queue == rules.name, QueueEntry.status == WAITING)
        )
        if waiting >= rules.max_length:
            raise ContactError(f"queue {rules.name!r} is full ({rules.max_length} waiting)")
    if entry is None:
        entry = QueueEntry(call_uuid=key, channel=channel, contact_ref=contact_ref)
        session.add(entry)
    entry.queue, entry.patient_id, entry.priority, entry.entered_at = rules.name, patient_id, priority, now
    entry.status, entry.agent_id, entry.min_level, entry.callback_number = WAITING, None, 0, ""
    entry.updated_at, entry.owner = now, owner
    session.flush()
    store.add_event(session, entry, "entered", now, detail=f"priority={priority}")
    return entry


def claim_place(
    session: Session, entry_id: int, agent_id: int, channel: str, capacities: Capacities, now: datetime, owner: str
) -> bool:
    """One place on the agent's channel and the entry together, or nothing (the agent filled up, or another
    process offered the entry first)."""
    connection = session.connection()
    params = {"agent_id": agent_id, "now": now, "capacity": capacities.of(channel)}
    if connection.execute(_CLAIM_PLACE[channel], params).rowcount != 1:
        session.rollback()
        return False
    offered = connection.execute(
        _CLAIM_ENTRY, {"entry_id": entry_id, "agent_id": agent_id, "now": now, "holder": owner}
    ).rowcount
    if offered != 1:
        session.rollback()
        return False
    session.commit()
    return True


def _free_place(session: Session, agent_id: int | None, channel: str) -> None:
    if agent_id is None:
        return
    opened = _OPEN[channel]
    session.execute(update(Agent).where(Agent.id == agent_id, opened > 0).values({opened: opened - 1}))


def agent_named(session: Session, name: str) -> Agent:
    agent = session.scalar(select(Agent).where(Agent.name == name))
    if agent is None:
        raise ContactError(f"no agent named {name!r} (ccctl agents list)")
    return agent


def _entry(session: Session, entry_id: int) -> QueueEntry:
    entry = session.get(QueueEntry, entry_id)
    if entry is None or entry.channel not in CONTACT_CHANNELS:
        raise ContactError(f"no chat or task in a queue with entry id {entry_id}")
    return entry


def accept(session: Session, entry_id: int, agent_name: str, now: datetime) -> QueueEntry:
    """The agent took the contact offered to them: it is theirs until finished or transferred."""
    entry, agent = _entry(session, entry_id), agent_named(session, agent_name)
    if entry.status != OFFERED or entry.agent_id != agent.id:
        raise ContactError(f"entry {entry_id} is not offered to agent {agent_name!r} (it is {entry.status})")
    entry.status, entry.updated_at = BRIDGED, now
    store.add_event(session, entry, "answered", now, agent.id)
    agent.no_answer_count = 0
    return entry


def finish(session: Session, entry_id: int, agent_name: str, wrapup: str, now: datetime) -> QueueEntry:
    """The agent is done with the contact: its place on the channel is free at once; `wrapup` (a code or a
    short note) is kept as the wrap-up event's detail."""
    entry, agent = _entry(session, entry_id), agent_named(session, agent_name)
    if entry.status != BRIDGED or entry.agent_id != agent.id:
        raise ContactError(f"entry {entry_id} is not with agent {agent_name!r} (it is {entry.status})")
    talk = max(0, int((now - (store.talk_started(session, entry) or now)).total_seconds()))
    store.add_event(session, entry, "ended", now, agent.id, detail=f"talk={talk}")
    store.add_event(session, entry, "wrapup_end", now, agent.id, detail=wrapup[:200])
    entry.status, entry.updated_at = "done", now
    agent.calls_answered += 1
    agent.talk_seconds += talk
    _free_place(session, agent.id, entry.channel)
    return entry


def leave(session: Session, entry_id: int, kind: str, now: datetime) -> QueueEntry:
    """The contact left the ACD without an agent finishing it (the patient closed the chat: `abandoned`).
    One an agent had accepted ends as answered: its talk is settled as by finish, with no wrap-up text."""
    entry = _entry(session, entry_id)
    if entry.status not in (WAITING, OFFERED, BRIDGED):
        raise ContactError(f"entry {entry_id} is not in a queue (it is {entry.status})")
    agent = session.get(Agent, entry.agent_id) if entry.agent_id is not None else None
    if entry.status == BRIDGED and agent is not None:
        return finish(session, entry_id, agent.name, "", now)
    if entry.status != WAITING:
        _free_place(session, entry.agent_id, entry.channel)
    store.add_event(session, entry, kind, now, entry.agent_id)
    entry.status, entry.updated_at = kind, now
    return entry


def transfer(
    session: Session,
    entry_id: int,
    to_agent: str,
    to_queue: str,
    queues: dict[str, QueueRules],
    capacities: Capacities,
    now: datetime,
) -> tuple[QueueEntry, Agent | None, str]:
    """Hand an accepted (or offered) contact to another agent, offered to them at once, or back in line in
    another queue with its first arrival time. Returns the entry, the new agent (or None) and the first
    agent's name."""
    entry = _entry(session, entry_id)
    if entry.status not in (OFFERED, BRIDGED) or entry.agent_id is None:
        raise ContactError(f"entry {entry_id} is with no agent (it is {entry.status})")
    if bool(to_agent) == bool(to_queue):
        raise ContactError("transfer a contact to an agent or to a queue (one of them)")
    first = session.get(Agent, entry.agent_id)
    first_name = first.name if first is not None else ""
    if to_queue and to_queue not in queues:
        raise ContactError(f"no queue named {to_queue!r} (ccctl queues add)")
    target = agent_named(session, to_agent) if to_agent else None
    if target is not None:
        if target.id == entry.agent_id:
            raise ContactError(f"entry {entry_id} is with agent {to_agent!r} already")
        if not claim_target(session, target.id, entry.channel, capacities, now):
            raise ContactError(f"agent {to_agent!r} has no room for a {entry.channel} now (status {target.status})")
    _free_place(session, entry.agent_id, entry.channel)
    detail = f"blind agent={to_agent}" if target is not None else f"blind queue={to_queue}"
    store.add_event(session, entry, "transfer_requested", now, entry.agent_id, detail=detail)
    if target is not None:
        entry.status, entry.agent_id = OFFERED, target.id
        store.add_event(session, entry, "offered", now, target.id, detail=f"from={first_name}")
    else:
        entry.queue, entry.status, entry.agent_id, entry.min_level = to_queue, WAITING, None, 0
        store.add_event(session, entry, "entered", now, detail="transfer")
    entry.updated_at = now
    return entry, target, first_name


def claim_target(session: Session, agent_id: int, channel: str, capacities: Capacities, now: datetime) -> bool:
    """One place on a transfer target's channel (the router's compare-and-set, without the entry)."""
    params = {"agent_id": agent_id, "now": now, "capacity": capacities.of(channel)}
    return session.connection().execute(_CLAIM_PLACE[channel], params).rowcount == 1


def lapse_offer(session: Session, entry_id: int, rules: QueueRules | None, now: datetime) -> QueueEntry | None:
    """An offer the agent did not accept in the queue's no_answer_timeout: back in line, same place, and the
    agent's missed offer counted as for a call (max_no_answer puts them On Break)."""
    entry = session.get(QueueEntry, entry_id)
    if entry is None or entry.status != OFFERED or entry.agent_id is None:
        return None
    agent_id = entry.agent_id
    _free_place(session, agent_id, entry.channel)
    store.add_event(session, entry, "no_answer", now, agent_id)
    entry.status, entry.agent_id, entry.updated_at = WAITING, None, now
    agent = session.get(Agent, agent_id)
    if agent is None or rules is None:
        return entry
    agent.no_answer_count += 1
    if rules.max_no_answer and agent.no_answer_count >= rules.max_no_answer and agent.status == "available":
        agent.status = "on_break"  # the phone's state is left alone: the agent may be on a call
        session.add(QueueEvent(at=now, queue=rules.name, call_uuid="", kind="agent_on_break", agent_id=agent.id))
        detail = f"agent {agent.name} left {agent.no_answer_count} offers in a row unanswered and was put On Break"
        session.add(AcdAlarm(at=now, kind="agent_no_answer", agent_id=agent.id, queue=rules.name, detail=detail))
    return entry
