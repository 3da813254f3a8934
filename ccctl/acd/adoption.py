"""After a controller restart: callers still parked on the switch are taken back, the others settled.

A queued caller's channel has socket_resume=true and cc_queue_entry=<id>; when its controller dies the
switch keeps it (the dialplan parks it) and the next controller transfers it back to its own socket.
Each process beats in acd_processes; only callers of processes not seen lately are taken over.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from functools import partial

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from ccctl.acd import model, store
from ccctl.callflow import HANDED_OVER, IN_PROGRESS
from ccctl.records.models.acd import AcdProcess, QueueEntry
from ccctl.records.models.calls import Call

log = logging.getLogger("ccctl.acd")
ADOPTABLE = (model.WAITING, model.OFFERED, model.BRIDGED)


def readopt(acd, entry_id: int, channel_uuid: str):
    """A caller transferred back to us: same place in line, its old reservations released."""
    from ccctl.acd.model import QueueTicket

    now = acd.clock()

    def work(session: Session) -> QueueTicket:
        entry = session.get(QueueEntry, entry_id)
        rules = store.load_queues(session).get(entry.queue) if entry is not None else None
        if entry is None or rules is None or entry.status not in (model.WAITING, model.OFFERED):
            return QueueTicket(refused="no such waiting caller")
        return store.take_back(session, entry, rules, acd.instance_id, now)

    ticket = acd.in_db(work)
    acd.wake()
    return ticket


def held_calls(session: Session, instance_id: str, ringing_too: bool) -> set[str]:
    """Channels of this process's queued callers (waiting; ringing and talking too if asked): the switch
    keeps them if we let go (socket_resume was set as they entered; a callback has nothing to resume to)."""
    statuses = ADOPTABLE if ringing_too else (model.WAITING,)
    query = select(QueueEntry.call_uuid).where(
        QueueEntry.owner == instance_id,
        QueueEntry.status.in_(statuses),
        QueueEntry.callback_number == "",
        QueueEntry.channel == model.VOICE,
    )
    return set(session.scalars(query))


# owner prefix while a caller is on its way back to the process named after it (one character: owner is 64 wide)
ADOPTING = ">"


def beat(session: Session, instance_id: str, now: datetime) -> None:
    """This process is alive (the router loop calls it every acd.heartbeat_seconds)."""
    session.merge(AcdProcess(instance_id=instance_id, seen_at=now))


# a dead controller stays listed (ccctl status, the wallboard's alarms) this long after its last heartbeat
DEAD_LISTED_SECONDS = 600


def controllers(session: Session, now: datetime, fresh: datetime) -> list[dict]:
    """Every controller with a heartbeat row: alive (seen since `fresh`) or silent; older rows are dropped."""
    session.execute(delete(AcdProcess).where(AcdProcess.seen_at < now - timedelta(seconds=DEAD_LISTED_SECONDS)))
    return [
        {
            "instance": row.instance_id,
            "health": "alive" if row.seen_at >= fresh else "silent",
            "seen_seconds_ago": round(max(0.0, (now - row.seen_at).total_seconds()), 1),
        }
        for row in session.scalars(select(AcdProcess).order_by(AcdProcess.instance_id))
    ]


def live_since(acd) -> datetime:
    """A process whose heartbeat is older than this is taken to be dead (acd.heartbeats_missed beats)."""
    return acd.clock() - timedelta(seconds=acd.settings.heartbeat_seconds * acd.settings.heartbeats_missed)


def adopt_orphans(acd, switches, socket_address: str) -> None:
    """Take back the queued callers of processes that stopped or died (acd.adopted counts them).

    Several live processes sweep at once: each orphan is first claimed with a compare-and-set on its owner,
    so only one of them transfers the caller to its socket. A claim whose caller never arrived (the transfer
    failed, or its process died too) is an orphan again after the same heartbeat window. `switches`
    (ccctl.esl.nodes.SwitchNodes) finds the node each caller is on; a caller on a node that is not
    connected waits for a later pass.
    """
    fresh = live_since(acd)

    def orphans(session: Session) -> list[tuple[int, str, str, str]]:
        live = select(AcdProcess.instance_id).where(AcdProcess.seen_at >= fresh)
        in_flight = QueueEntry.owner.startswith(ADOPTING) & (QueueEntry.updated_at >= fresh)
        # chats and tasks have no channel on the switch: a live process simply takes them over
        contacts = update(QueueEntry).where(
            QueueEntry.status.in_(ADOPTABLE), QueueEntry.channel != model.VOICE, QueueEntry.owner.not_in(live)
        )
        if session.execute(contacts.values(owner=acd.instance_id)).rowcount:
            acd.contacts.queued = True
        query = select(QueueEntry).where(
            QueueEntry.status.in_(ADOPTABLE),
            QueueEntry.callback_number == "",
            QueueEntry.channel == model.VOICE,
            QueueEntry.owner.not_in(live),
            ~in_flight,
        )
        found = session.scalars(query.order_by(QueueEntry.priority.desc(), QueueEntry.entered_at))
        return [(e.id, e.call_uuid, e.status, e.owner) for e in found if e.owner != acd.instance_id]

    for entry_id, call_uuid, status, owner in acd.in_db(orphans):
        try:
            _adopt_one(acd, switches, socket_address, entry_id, call_uuid, status, owner)
        except Exception as exc:  # one caller the switch would not answer for must not leave the others as ghosts
            log.warning("queue entry %d: not taken back or settled this pass (%s)", entry_id, type(exc).__name__)
    acd.adoption_passes += 1


def _adopt_one(acd, switches, socket_address: str, entry_id: int, call_uuid: str, status: str, owner: str) -> None:
    """One orphan: settled when no switch has the call, else claimed and transferred back to our socket."""
    found = switches.exists(call_uuid)
    if found is None:
        return  # its node is not connected: settled or taken back once it is back or known gone
    if not found:
        acd.calls.call_finished(call_uuid)  # abandoned while nobody watched, or a talk that ended: settled now
        outcome = "completed" if status == model.BRIDGED else "abandoned"
        acd.in_db(partial(settle_record, call_uuid=call_uuid, disposition=outcome, now=acd.clock()))
        return
    if status == model.BRIDGED:
        return  # still talking: the bridge does not need us; its end is settled once the channel is gone
    if not acd.in_db(partial(claim_orphan, entry_id=entry_id, owner=owner, adopter=acd.instance_id, now=acd.clock())):
        return  # another live process took this caller first
    client = switches.client_for(call_uuid)
    channel = channel_times(client.api(f"uuid_dump {call_uuid} json"))
    if channel:
        acd.in_db(partial(first_part_from_switch, call_uuid=call_uuid, channel=channel))
    reply = client.api(f"uuid_transfer {call_uuid} 'socket:{socket_address} async full' inline")
    if reply.startswith("+OK"):
        acd.adopted += 1
        log.info("queue entry %d: caller taken back from a stopped process", entry_id)
    else:
        log.warning("queue entry %d: could not take the caller back (%s)", entry_id, reply.strip()[:80])


def claim_orphan(session: Session, entry_id: int, owner: str, adopter: str, now: datetime) -> bool:
    """Whether this process won the caller of a dead `owner`: the entry is marked as coming to `adopter`
    (the router leaves it alone until it arrives) and the agents reserved for it are free again at once."""
    taken = session.execute(
        update(QueueEntry)
        .where(QueueEntry.id == entry_id, QueueEntry.owner == owner, QueueEntry.status.in_(ADOPTABLE))
        .values(owner=ADOPTING + adopter, status=model.WAITING, agent_id=None, updated_at=now)
    ).rowcount
    if taken != 1:
        return False
    store.release_reserved(session, entry_id, now)
    return True


def settle_record(session: Session, call_uuid: str, disposition: str, now: datetime) -> None:
    """A handed-over call that ended while no controller held it: its row gets the outcome (and the time
    we learnt of it, the nearest end time anyone knows)."""
    query = update(Call).where(Call.uuid == call_uuid, Call.disposition == HANDED_OVER)
    session.execute(query.values(disposition=disposition, ended_at=now))


def channel_times(dump: str) -> dict:
    """From `uuid_dump <uuid> json`: the channel's creation and answer times and its ends, {} if unreadable."""
    try:
        fields = json.loads(dump)
        created = _epoch_micros(fields["Caller-Channel-Created-Time"])
    except (ValueError, KeyError, TypeError):
        return {}
    return {
        "started_at": created,
        "answered_at": _epoch_micros(fields.get("Caller-Channel-Answered-Time", "0")),
        "hotline": fields.get("variable_cc_hotline", ""),
        "caller_number": fields.get("Caller-Caller-ID-Number", ""),
        "destination": fields.get("Caller-Destination-Number", ""),
    }


def _epoch_micros(value: str) -> datetime | None:
    micros = int(value or 0)
    return datetime.fromtimestamp(micros / 1_000_000, tz=UTC) if micros > 0 else None


def first_part_from_switch(session: Session, call_uuid: str, channel: dict) -> None:
    """A caller whose controller died without a word (kill -9): the row it opened when the call arrived
    (or, if it never got that far, a new first part) takes the times the switch knows, so the row the next
    controller completes starts when the patient called and keeps when they were answered."""
    if channel["started_at"] is None:
        return
    row = session.scalars(select(Call).where(Call.uuid == call_uuid)).first()
    if row is None:
        session.add(Call(uuid=call_uuid, disposition=HANDED_OVER, path=[], **channel))
        return
    if row.disposition != IN_PROGRESS:  # a clean stop wrote its part whole (handed over): keep it
        return
    row.started_at = min(row.started_at, channel["started_at"])
    if row.answered_at is None:
        row.answered_at = channel["answered_at"]
