"""The ACD's database work: queues, free agents, waiting callers, compare-and-set claims, queue events.

Every function takes an open Session; the engine runs them in its database thread.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta

from sqlalchemy import String, and_, bindparam, func, or_, select, type_coerce, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from ccctl.acd.model import CHANNELS, CHAT, OFFERED, TASK, VOICE, WAITING, AgentCandidate, Capacities, WaitingCaller
from ccctl.acd.queue_rules import QueueRules, build_rules
from ccctl.records.models.acd import AcdAlarm, Agent, AgentSkill, Queue, QueueEntry, QueueEvent, QueueSkill, Skill


def load_queues(session: Session) -> dict[str, QueueRules]:
    skills: dict[int, dict[str, int]] = {}
    rows = session.execute(select(QueueSkill.queue_id, Skill.name, QueueSkill.min_level).join(Skill))
    for queue_id, skill, level in rows:
        skills.setdefault(queue_id, {})[skill] = level
    return {
        q.name: build_rules(q.name, q.strategy, skills.get(q.id, {}), q.settings or {})
        for q in session.scalars(select(Queue))
    }


DEADLOCK_DETECTED = "40P01"  # PostgreSQL's SQLSTATE for a transaction it cancelled to break a deadlock

# states that end by themselves at agents.reserved_until: an offer, wrap-up, the rest after a refused call
LAPSING = ("reserved", "wrapup", "resting")
# an agent whose phone is not registered fails an offer at once: without a rest the next pass offers again,
# and max_no_answer would bench someone who logged in a moment before their phone registered
UNREGISTERED_REST_SECONDS = 5.0


def shown_state(agent: Agent, now: datetime) -> str:
    """A lapsed reservation, wrap-up or rest shows as idle at once, before the router next runs."""
    if agent.state in LAPSING and agent.reserved_until is not None and agent.reserved_until < now:
        return "idle"
    return agent.state


def _free_now(now):
    """Available agents who are idle, or whose reservation, wrap-up or rest has run out (`now`: value or bindparam)."""
    lapsed = and_(Agent.state.in_(LAPSING), Agent.reserved_until < now)
    return and_(Agent.status == "available", or_(Agent.state == "idle", lapsed))


# The router's claim, built once: a statement built per call costs more than SQLite takes to run it
_CLAIM_AGENTS = (
    update(Agent)
    .where(Agent.id.in_(bindparam("agent_ids", expanding=True)), _free_now(bindparam("now")))
    .values(
        state="reserved",
        reserved_until=bindparam("until"),
        reserved_entry_id=bindparam("entry_id"),
        state_since=bindparam("now"),
    )
)
# the caller goes to Offered only if still waiting and ours (or waiting for a callback, which any process
# dials): with several controllers on one database, whichever claims first has them, the others get 0 rows
_CLAIM_CALLER = (
    update(QueueEntry)
    .where(
        QueueEntry.id == bindparam("entry_id"),
        QueueEntry.status == WAITING,
        or_(QueueEntry.owner == bindparam("claimant"), QueueEntry.callback_number != ""),
    )
    .values(status=OFFERED, agent_id=bindparam("first_agent"), updated_at=bindparam("now"))
)


_FREE_AGENTS = (
    select(
        Agent.id,
        Agent.name,
        Agent.extension,
        Agent.last_call_ended_at,
        Agent.state_since,
        Agent.last_offered_at,
        Agent.calls_answered,
        Agent.talk_seconds,
        Agent.contact,
        Agent.voice_capacity,
        Agent.chat_capacity,
        Agent.task_capacity,
        Agent.chats_open,
        Agent.tasks_open,
        Skill.name,
        AgentSkill.level,
    )
    .outerjoin(AgentSkill, AgentSkill.agent_id == Agent.id)
    .outerjoin(Skill, Skill.id == AgentSkill.skill_id)
    .where(
        _free_now(bindparam("now")),
        # room for a call, a chat or a task, of the channels that have someone waiting: a chat desk full
        # of chats is not read at all (nor, while no task waits, for the task place it has)
        or_(
            and_(
                bindparam("calls_wait"),
                func.coalesce(Agent.voice_capacity, bindparam("voice")) > 0,
                Agent.chats_open <= bindparam("most"),
            ),
            and_(bindparam("chats_wait"), Agent.chats_open < func.coalesce(Agent.chat_capacity, bindparam("chat"))),
            and_(bindparam("tasks_wait"), Agent.tasks_open < func.coalesce(Agent.task_capacity, bindparam("task"))),
        ),
    )
)


def free_agents(
    session: Session, now: datetime, capacities: Capacities | None = None, channels: Collection[str] = CHANNELS
) -> list[AgentCandidate]:
    """Every free agent with room on one of `channels` (those with someone waiting), with their skills: one
    query, whatever the number of waiting callers.

    Plain columns over the session's connection: this runs on every routing pass (no ORM identity map).
    """
    found: dict[int, AgentCandidate] = {}
    c = capacities or Capacities()
    params = {"now": now, "voice": c.voice, "most": c.max_chats_for_call, "chat": c.chat, "task": c.task}
    params.update(calls_wait=VOICE in channels, chats_wait=CHAT in channels, tasks_wait=TASK in channels)
    rows = session.connection().execute(_FREE_AGENTS, params)
    for row in rows:
        agent_id, skill, level = row[0], row[-2], row[-1]
        candidate = found.get(agent_id)
        if candidate is None:
            _, name, extension, ended, since, offered, answered, talk, contact, *own, chats, tasks = row[:-2]
            candidate = found[agent_id] = AgentCandidate(
                agent_id,
                name,
                extension,
                idle_since=ended or since,
                last_offered_at=offered,
                calls_answered=answered,
                talk_seconds=talk,
                contact=contact,
                capacity={channel: n for channel, n in zip(CHANNELS, own, strict=True) if n is not None},
                chats_open=chats,
                tasks_open=tasks,
            )
        if skill is not None:
            candidate.skills[skill] = level
    return list(found.values())


# Callers this process holds, and callers waiting for a callback (whichever process dials them) that may be
# dialled now (a pinned one at once, the others from callback_after): plain columns, as this runs on every
# routing pass
_MINE = and_(
    QueueEntry.status == WAITING,
    or_(QueueEntry.owner == bindparam("owner"), QueueEntry.callback_number != ""),
    or_(
        QueueEntry.callback_after.is_(None),
        QueueEntry.callback_after <= bindparam("now"),
        QueueEntry.pinned_agent_id.is_not(None),
    ),
)
_WAITING = select(
    QueueEntry.id,
    QueueEntry.queue,
    QueueEntry.priority,
    # only ever compared with each other: SQLite's stored text keeps its order and skips a datetime
    # parse per row and pass; PostgreSQL's driver gives datetimes as before
    type_coerce(QueueEntry.entered_at, String),
    QueueEntry.min_level,
    QueueEntry.callback_number,
    QueueEntry.call_uuid,
    QueueEntry.channel,
).where(_MINE, QueueEntry.pinned_agent_id.is_(None))  # a pinned callback waits for its agent alone
_WAITING_IN = _WAITING.where(QueueEntry.queue.in_(bindparam("queues", expanding=True)))
_ANYONE_WAITING = select(QueueEntry.id).where(_MINE).limit(1)
_CHANNELS_WAITING = select(QueueEntry.channel).where(_MINE).distinct()


def channels_waiting(session: Session, owner: str, now: datetime) -> set[str]:
    """The channels (voice, chat, task) of the contacts this process may offer now."""
    return set(session.connection().execute(_CHANNELS_WAITING, {"owner": owner, "now": now}).scalars())


def anyone_waiting(session: Session, owner: str, now: datetime) -> bool:
    """Whether this process has any caller to offer (one row at most is read)."""
    return session.connection().execute(_ANYONE_WAITING, {"owner": owner, "now": now}).first() is not None


def waiting_callers(
    session: Session, owner: str, now: datetime, queues: list[str] | None = None
) -> list[WaitingCaller]:
    """The callers this process may offer, in every queue or only in `queues` (nothing read when it is empty);
    callbacks pinned to an agent are not among them (pinned_callbacks)."""
    if queues is None:
        rows = session.connection().execute(_WAITING, {"owner": owner, "now": now})
    elif queues:
        rows = session.connection().execute(_WAITING_IN, {"owner": owner, "now": now, "queues": queues})
    else:
        return []
    return [WaitingCaller(*row) for row in rows]


_PINNED = (
    select(QueueEntry.id, QueueEntry.queue, QueueEntry.callback_number, Agent.id, Agent.name, Agent.extension)
    .add_columns(Agent.contact, Agent.status)
    .join(Agent, Agent.id == QueueEntry.pinned_agent_id)
    .where(QueueEntry.status == WAITING, QueueEntry.callback_number != "")
)


def pinned_callbacks(session: Session, now: datetime) -> list[tuple[WaitingCaller, AgentCandidate]]:
    """Callbacks an agent asked to make now (click-to-call), each with that agent: dialled for them alone.
    A pin whose agent is no longer Available (on break, logged out) is dropped: the callback is back on the
    worklist for anyone."""
    found, dropped = [], []
    for entry_id, queue, number, agent_id, name, extension, contact, status in session.connection().execute(_PINNED):
        if status != "available":
            dropped.append(entry_id)
            continue
        caller = WaitingCaller(entry_id, queue, 0, "", callback_number=number)
        found.append((caller, AgentCandidate(agent_id, name, extension, contact=contact)))
    for entry_id in dropped:
        unpin(session, entry_id, now, "agent not available")
    if dropped:
        session.commit()  # before the claims, which roll back what they could not do
    return found


def unpin(session: Session, entry_id: int, now: datetime, why: str, retry_at: datetime | None = None) -> None:
    """The callback is no longer pinned to an agent (their reservation for it ends); `retry_at`: not dialled
    before then."""
    entry = session.get(QueueEntry, entry_id)
    if entry is None or entry.pinned_agent_id is None:
        return
    release_reserved(session, entry_id, now)
    add_event(session, entry, "callback_unpinned", now, entry.pinned_agent_id, detail=why)
    entry.pinned_agent_id, entry.updated_at = None, now
    if retry_at is not None:
        entry.callback_after = retry_at


def claim_pinned(session: Session, entry_id: int, agent_id: int, now: datetime, hold_for: float) -> bool:
    """Offer a pinned callback to its agent: the agent stays (or becomes) reserved for it while the patient's
    phone rings, the entry goes to Offered; both or nothing (a compare-and-set, as claim)."""
    until = now + timedelta(seconds=hold_for)
    reserved_for_it = and_(Agent.state == "reserved", Agent.reserved_entry_id == entry_id)
    agent = (
        update(Agent)
        .where(Agent.id == agent_id, Agent.status == "available", or_(reserved_for_it, _free_now(now)))
        .values(state="reserved", reserved_until=until, reserved_entry_id=entry_id, state_since=now)
    )
    caller = (
        update(QueueEntry)
        .where(QueueEntry.id == entry_id, QueueEntry.status == WAITING, QueueEntry.pinned_agent_id == agent_id)
        .values(status=OFFERED, agent_id=agent_id, updated_at=now)
    )
    connection = session.connection()
    if connection.execute(agent).rowcount != 1 or connection.execute(caller).rowcount != 1:
        session.rollback()
        return False
    session.commit()
    return True


def claim(session: Session, entry_id: int, agent_ids: list[int], now: datetime, hold_for: float, owner: str) -> bool:
    """Reserve the agents and the caller together, or nothing: another process may have taken either.

    A compare-and-set: each UPDATE names the state it expects, and on PostgreSQL a concurrent claim of the
    same row waits for ours and then re-reads that condition, so it finds the row taken and changes nothing.
    Two processes reserving overlapping agents in opposite order can deadlock: PostgreSQL cancels one of
    them, which is then simply a lost claim. Core statements on the session's connection (no ORM objects).
    """
    until = now + timedelta(seconds=hold_for)
    connection = session.connection()
    try:
        taken = connection.execute(
            _CLAIM_AGENTS, {"agent_ids": sorted(agent_ids), "now": now, "until": until, "entry_id": entry_id}
        ).rowcount
        if taken != len(agent_ids):
            session.rollback()
            return False
        params = {"entry_id": entry_id, "first_agent": agent_ids[0], "now": now, "claimant": owner}
        if connection.execute(_CLAIM_CALLER, params).rowcount != 1:
            session.rollback()
            return False
        session.commit()
    except OperationalError as exc:
        if getattr(exc.orig, "sqlstate", "") != DEADLOCK_DETECTED:
            raise
        session.rollback()
        return False
    return True


def claim_for_transfer(session: Session, agent_id: int, entry_id: int, now: datetime, seconds: float) -> bool:
    """Reserve one free agent for a call being transferred to them (the router's compare-and-set)."""
    until = now + timedelta(seconds=seconds)
    params = {"agent_ids": [agent_id], "now": now, "until": until, "entry_id": entry_id}
    return session.connection().execute(_CLAIM_AGENTS, params).rowcount == 1


def release_reserved(session: Session, entry_id: int, now: datetime) -> int:
    """Agents still reserved for this call (it left, or a transfer did not happen) go back to Idle; how many."""
    return session.execute(
        update(Agent)
        .where(Agent.reserved_entry_id == entry_id, Agent.state == "reserved")
        .values(state="idle", state_since=now, reserved_until=None, reserved_entry_id=None)
    ).rowcount


def talk_started(session: Session, entry: QueueEntry) -> datetime | None:
    """When the call's current agent started talking: its answer, or the latest hand-over to them."""
    return session.scalar(
        select(QueueEvent.at)
        .where(QueueEvent.call_uuid == entry.call_uuid, QueueEvent.kind.in_(("answered", "transferred")))
        .where(QueueEvent.agent_id == entry.agent_id)
        .order_by(QueueEvent.id.desc())
    )


def hand_over(session: Session, entry: QueueEntry, to_agent_id: int, now: datetime) -> None:
    """A transfer completed: the first agent's talk is counted and they wrap up; the new agent talks."""
    rules = load_queues(session).get(entry.queue)
    wrapup = rules.wrapup_seconds if rules is not None else 0.0
    first = session.get(Agent, entry.agent_id) if entry.agent_id else None
    talk = 0
    if first is not None:
        talk = max(0, int((now - (talk_started(session, entry) or now)).total_seconds()))
        first.calls_answered += 1
        first.talk_seconds += talk
        first.last_call_ended_at = now
        set_agent_state(session, first.id, "wrapup", now, until=now + timedelta(seconds=wrapup))
    detail = f"from={first.name if first else ''} talk={talk}"
    add_event(session, entry, "transferred", now, to_agent_id, detail=detail)
    entry.agent_id, entry.updated_at = to_agent_id, now
    set_agent_state(session, to_agent_id, "in_call", now)
    session.execute(update(Agent).where(Agent.id == to_agent_id).values(no_answer_count=0))


def add_event(
    session: Session, entry: QueueEntry, kind: str, at: datetime, agent_id: int | None = None, detail: str = ""
) -> None:
    session.add(
        QueueEvent(
            at=at,
            queue=entry.queue,
            call_uuid=entry.call_uuid,
            channel=entry.channel or VOICE,
            kind=kind,
            agent_id=agent_id,
            patient_id=entry.patient_id,
            detail=detail,
        )
    )


def set_agent_state(session: Session, agent_id: int, state: str, now: datetime, until: datetime | None = None) -> None:
    session.execute(
        update(Agent)
        .where(Agent.id == agent_id)
        .values(state=state, state_since=now, reserved_until=until, reserved_entry_id=None)
    )


def note_no_answer(session: Session, agent_id: int, rules: QueueRules, now: datetime, cause: str = "") -> bool:
    """Count a missed offer; True when the agent reached max_no_answer and was put On Break (alarm raised).

    A busy phone (USER_BUSY), a refused call (CALL_REJECTED) or no answer rests the agent for the queue's
    busy_delay / reject_delay / no_answer_delay seconds (mod_callcenter's *_delay_time) before the next offer.
    A phone not registered (yet) was never rung: the agent rests UNREGISTERED_REST_SECONDS, not counted.
    """
    agent = session.get(Agent, agent_id)
    if agent is None:
        return False
    if cause == "USER_NOT_REGISTERED":
        agent.state, agent.reserved_until = "resting", now + timedelta(seconds=UNREGISTERED_REST_SECONDS)
        agent.state_since, agent.reserved_entry_id = now, None
        return False
    agent.no_answer_count += 1
    delays = {"USER_BUSY": rules.busy_delay_seconds, "CALL_REJECTED": rules.reject_delay_seconds}
    rest = delays.get(cause, rules.no_answer_delay_seconds)
    if rest > 0:
        agent.state, agent.reserved_until = "resting", now + timedelta(seconds=rest)
    else:
        agent.state, agent.reserved_until = "idle", None
    agent.state_since, agent.reserved_entry_id = now, None
    if rules.max_no_answer and agent.no_answer_count >= rules.max_no_answer:
        agent.status = "on_break"
        session.add(QueueEvent(at=now, queue=rules.name, call_uuid="", kind="agent_on_break", agent_id=agent.id))
        session.add(
            AcdAlarm(
                at=now,
                kind="agent_no_answer",
                agent_id=agent.id,
                queue=rules.name,
                detail=f"agent {agent.name} missed {agent.no_answer_count} calls in a row and was put On Break",
            )
        )
        return True
    return False


def settle_talk(
    session: Session, entry: QueueEntry, agent_id: int, answered_at: datetime, wrapup_seconds: float, now: datetime
) -> None:
    """End of a conversation: ended + wrapup_end events, the agent's counters, wrap-up until it runs out."""
    wrapup_end = now + timedelta(seconds=wrapup_seconds)
    talk = max(0, int((now - answered_at).total_seconds()))
    add_event(session, entry, "ended", now, agent_id, detail=f"talk={talk}")
    add_event(session, entry, "wrapup_end", wrapup_end, agent_id)
    entry.status, entry.updated_at = "done", now
    agent = session.get(Agent, agent_id) if agent_id is not None else None
    if agent is not None:
        agent.calls_answered += 1
        agent.talk_seconds += talk
        agent.last_call_ended_at = now
    set_agent_state(session, agent_id, "wrapup", now, until=wrapup_end)


def settle_hangup_in_talk(session: Session, entry: QueueEntry, now: datetime) -> None:
    """The caller hung up during the conversation: settle it from the stored answer time."""
    answered_at = talk_started(session, entry)
    rules = load_queues(session).get(entry.queue)
    wrapup = rules.wrapup_seconds if rules is not None else 0.0
    settle_talk(session, entry, entry.agent_id, answered_at or now, wrapup, now)


def take_back(session: Session, entry: QueueEntry, rules: QueueRules, owner: str, now: datetime):
    """A caller back under a live controller: same place in line, old reservations released."""
    from ccctl.acd.model import QueueTicket

    release_reserved(session, entry.id, now)
    entry.status, entry.agent_id, entry.updated_at, entry.owner = WAITING, None, now, owner
    add_event(session, entry, "readopted", now)
    return QueueTicket(entry.id, rules, entered_at=entry.entered_at, patient_id=entry.patient_id)
