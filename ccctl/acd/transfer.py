"""Transfers of an agent's live queued call: blind (to another agent or to a queue) and warm (consult first).

The request side (ccctl transfer, the workstation) checks and reserves, writes a `transfer_requested`
queue event, then gives FreeSWITCH one command:
- blind: `uuid_kill <agent's leg>`; the caller's greenlet, back from its bridge, finds the request
  (after_talk) and rings the new agent, or waits in the new queue near its old place;
- warm: `uuid_broadcast <agent's leg> att_xfer::<new agent's phone>` (no leg word: the app runs on
  that leg and its partner is held, switch_ivr_broadcast; mod_dptools' attended
  transfer: the caller is held, the two agents talk). Completing hangs up the first agent's leg
  (att_xfer then bridges the caller to the new agent); cancelling hangs up the consulted agent's
  leg (att_xfer puts the first agent back with the caller).
The controller that holds the caller sees the outcome as a CHANNEL_BRIDGE (bridge_seen): the caller
with the new agent is a hand-over, the caller with the first agent again is a failed transfer. Both
outcomes come from att_xfer's switch_ivr_uuid_bridge, which ends the caller's `bridge`: the caller's
greenlet then waits for the new bridge to end (acd/hold.moved_by_switch, AwaitBridgeEnd).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ccctl.acd import model, store
from ccctl.acd.model import AgentCandidate
from ccctl.acd.monitor import MonitorError, agent_node, find_agent_channel, live_channels, switch_api
from ccctl.config import Settings
from ccctl.errors import UserError
from ccctl.esl.node_choice import Announce
from ccctl.records.database import make_engine
from ccctl.records.models.acd import Agent, Queue, QueueEntry, QueueEvent
from ccctl.records.models.base import utc_now

Api = Callable[[str], str]
# the consulted agent stays reserved this long at most (a lost event cannot keep them from calls for ever)
CONSULT_SECONDS = 900
REQUESTED, TRANSFERRED, FAILED = "transfer_requested", "transferred", "transfer_failed"


class TransferError(UserError):
    """Why a transfer cannot go ahead; str() is one line naming the agent, queue or call."""


@dataclass(frozen=True)
class TransferResult:
    kind: str  # blind | warm | complete | cancel
    from_agent: str
    target: str  # agent name or queue name
    call_uuid: str


@dataclass(frozen=True)
class BlindTarget:
    """Where the caller goes once the first agent's leg is gone: an agent (reserved) or a queue."""

    agent: AgentCandidate | None = None
    queue: str = ""


def _agent(session: Session, name: str) -> Agent:
    row = session.scalar(select(Agent).where(or_(Agent.name == name, Agent.extension == name)))
    if row is None:
        raise TransferError(f"agent {name!r}: no such agent name or extension")
    return row


def _live_entry(session: Session, agent: Agent) -> QueueEntry:
    entry = session.scalar(
        select(QueueEntry)
        .where(QueueEntry.agent_id == agent.id, QueueEntry.status == model.BRIDGED)
        .order_by(QueueEntry.updated_at.desc())
    )
    if entry is None:
        raise TransferError(f"agent {agent.name!r} has no live queued call to transfer")
    return entry


def _leg(api: Api, agent: Agent) -> str:
    try:
        row = find_agent_channel(live_channels(api), agent.extension)
    except MonitorError as exc:
        raise TransferError(str(exc)) from None
    if row is None:
        raise TransferError(f"agent {agent.name!r} (extension {agent.extension}) has no live leg on the switch")
    return row["uuid"]


def candidate(agent: Agent) -> AgentCandidate:
    return AgentCandidate(agent.id, agent.name, agent.extension, contact=agent.contact)


def _pending(session: Session, entry: QueueEntry) -> tuple[QueueEvent | None, Agent | None]:
    """The open transfer request of the call (none once it was followed by transferred or failed)."""
    last = session.scalar(
        select(QueueEvent)
        .where(QueueEvent.call_uuid == entry.call_uuid, QueueEvent.kind.in_((REQUESTED, TRANSFERRED, FAILED)))
        .order_by(QueueEvent.id.desc())
    )
    if last is None or last.kind != REQUESTED:
        return None, None
    target = session.scalar(select(Agent).where(Agent.reserved_entry_id == entry.id, Agent.state == "reserved"))
    return last, target


def _reserve(session: Session, agent: Agent, entry: QueueEntry, now: datetime, seconds: float) -> None:
    if not store.claim_for_transfer(session, agent.id, entry.id, now, seconds):
        state = "On Break" if agent.status == "on_break" else agent.status.replace("_", " ")
        raise TransferError(f"agent {agent.name!r} is not free to take a call (status {state}, state {agent.state})")


def request_transfer(
    api: Api,
    session: Session,
    from_agent: str,
    to_agent: str = "",
    to_queue: str = "",
    warm: bool = False,
    domain: str = "",
    ring_seconds: float = 60.0,
) -> TransferResult:
    """Check, reserve the target, record the request and send FreeSWITCH the command (see module doc)."""
    if bool(to_agent) == bool(to_queue):
        raise TransferError("name one target: --to-agent NAME or --to-queue NAME")
    if warm and not to_agent:
        raise TransferError("a warm transfer consults an agent first: use --to-agent NAME")
    now = utc_now()
    first = _agent(session, from_agent)
    entry = _live_entry(session, first)
    if _pending(session, entry)[0] is not None:
        raise TransferError(f"agent {first.name!r}: a transfer of this call is already under way")
    leg = _leg(api, first)
    if to_agent:
        target = _agent(session, to_agent)
        if target.id == first.id:
            raise TransferError(f"agent {first.name!r} cannot transfer a call to themselves")
        _reserve(session, target, entry, now, CONSULT_SECONDS if warm else ring_seconds)
        detail, name = f"{'warm' if warm else 'blind'} agent={target.name}", target.name
        command = f"uuid_broadcast {leg} att_xfer::{candidate(target).phone(domain)}" if warm else f"uuid_kill {leg}"
    else:
        if session.scalar(select(Queue.id).where(Queue.name == to_queue)) is None:
            raise TransferError(f"queue {to_queue!r}: no such queue (ccctl queues list)")
        detail, name, command = f"blind queue={to_queue}", to_queue, f"uuid_kill {leg}"
    store.add_event(session, entry, REQUESTED, now, first.id, detail=detail)
    session.commit()
    try:
        reply = api(command).strip()
    except (TransferError, MonitorError) as exc:  # the switch went away: undo, or the request would block retries
        reply = f"-ERR {exc}"
    if not reply.startswith("+OK"):
        store.add_event(session, entry, FAILED, utc_now(), first.id, detail=reply.removeprefix("-ERR").strip()[:80])
        store.release_reserved(session, entry.id, utc_now())
        session.commit()
        raise TransferError(f"FreeSWITCH did not take the transfer (agent {first.name!r}): {reply[:80]}")
    return TransferResult("warm" if warm else "blind", first.name, name, entry.call_uuid)


def finish_transfer(api: Api, session: Session, from_agent: str, complete: bool) -> TransferResult:
    """Warm transfer under way: complete (the first agent leaves) or cancel (the consulted agent leaves)."""
    first = _agent(session, from_agent)
    entry = _live_entry(session, first)
    request, target = _pending(session, entry)
    if request is None or target is None or not request.detail.startswith("warm"):
        raise TransferError(f"agent {first.name!r} has no warm transfer under way")
    leg = _leg(api, first if complete else target)
    reply = api(f"uuid_kill {leg}").strip()
    if not reply.startswith("+OK"):
        raise TransferError(f"FreeSWITCH refused to end the leg: {reply[:80]}")
    if not complete:
        store.add_event(session, entry, FAILED, utc_now(), first.id, detail=f"cancelled agent={target.name}")
        store.release_reserved(session, entry.id, utc_now())
        session.commit()
    return TransferResult("complete" if complete else "cancel", first.name, target.name, entry.call_uuid)


def bridge_outcome(
    session: Session, call_ids: set[str], channels: set[str], now: datetime, entry_ids: frozenset[int] = frozenset()
) -> list[tuple]:
    """A CHANNEL_BRIDGE seen by the caller's controller: hand-overs and failed transfers it settles.

    `entry_ids`: queue entries whose live channel is not their call_uuid (a called-back patient).
    Returns (kind, agent name, entry) for each: "transferred" when a channel names the reserved
    target, "transfer_failed" when the caller is with their first agent again.
    """
    done = []
    ours = or_(QueueEntry.call_uuid.in_(call_ids), QueueEntry.id.in_(sorted(entry_ids)))
    entries = session.scalars(select(QueueEntry).where(ours, QueueEntry.status == model.BRIDGED)).all()
    for entry in entries:
        request, target = _pending(session, entry)
        if request is None or target is None:
            continue
        if any(candidate(target).answers_on(name) for name in channels):
            store.hand_over(session, entry, target.id, now)
            done.append((TRANSFERRED, target.name, entry))
            continue
        first = session.get(Agent, entry.agent_id) if entry.agent_id else None
        if first is not None and any(candidate(first).answers_on(name) for name in channels):
            store.add_event(session, entry, FAILED, now, first.id, detail=f"agent={target.name} not connected")
            store.release_reserved(session, entry.id, now)
            done.append((FAILED, target.name, entry))
    return done


def blind_target(session: Session, entry: QueueEntry, now: datetime) -> BlindTarget | None:
    """After the first agent's leg is gone: the open blind request of this call, marked done."""
    request, target = _pending(session, entry)
    if request is None or not request.detail.startswith("blind"):
        return None
    if request.detail.startswith("blind queue="):
        queue = request.detail.removeprefix("blind queue=")
        store.add_event(session, entry, TRANSFERRED, now, request.agent_id, detail=f"queue={queue}")
        return BlindTarget(queue=queue)
    if target is None:  # the reservation ran out: the caller goes back to their queue
        store.add_event(session, entry, FAILED, now, request.agent_id, detail="target no longer reserved")
        return BlindTarget(queue=entry.queue)
    store.add_event(session, entry, TRANSFERRED, now, request.agent_id, detail=f"agent={target.name}")
    target.reserved_until = now + timedelta(seconds=CONSULT_SECONDS)
    return BlindTarget(agent=candidate(target))


def transfer_call(
    settings: Settings,
    from_agent: str,
    to_agent: str = "",
    to_queue: str = "",
    warm: bool = False,
    finish: str = "",
    announce: Announce | None = None,
) -> TransferResult:
    """ccctl transfer: request_transfer (or, with finish "complete"/"cancel", finish_transfer) over a fresh
    inbound ESL connection to the agent's node (monitor.agent_node: their queued call's, else their phone's
    registration's) and the configured database; `announce` hears each node before it is tried."""
    engine = make_engine(settings.database.url)
    try:
        with Session(engine) as session:
            node = agent_node(session, from_agent)
            with switch_api(settings, 0, node, announce) as api:
                if finish:
                    return finish_transfer(api, session, from_agent, complete=finish == "complete")
                ring = settings.acd.reservation_seconds + 60
                return request_transfer(
                    api, session, from_agent, to_agent, to_queue, warm, settings.freeswitch.domain, ring
                )
    except MonitorError as exc:
        raise TransferError(str(exc)) from None
    finally:
        engine.dispose()
