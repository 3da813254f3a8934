"""After a controller restart: callers still parked on the switch are taken back, the others settled.

A queued caller's channel has socket_resume=true and cc_queue_entry=<id>; when its controller dies the
switch keeps it (the dialplan parks it) and the next controller transfers it back to its own socket.
Each process beats in acd_processes; only callers of processes not seen lately are taken over.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ccctl.acd import store
from ccctl.records.models_acd import AcdProcess, QueueEntry

log = logging.getLogger("ccctl.acd")
ADOPTABLE = (store.WAITING, store.OFFERED, store.BRIDGED)


def readopt(acd, entry_id: int, channel_uuid: str):
    """A caller transferred back to us: same place in line, its old reservations released."""
    from ccctl.acd.engine import QueueTicket

    now = acd.clock()

    def work(session: Session) -> QueueTicket:
        entry = session.get(QueueEntry, entry_id)
        rules = store.load_queues(session).get(entry.queue) if entry is not None else None
        if entry is None or rules is None or entry.status not in (store.WAITING, store.OFFERED):
            return QueueTicket(refused="no such waiting caller")
        return store.take_back(session, entry, rules, acd.instance_id, now)

    ticket = acd.in_db(work)
    acd.wake()
    return ticket


def held_calls(session: Session, instance_id: str, ringing_too: bool) -> set[str]:
    """Channels of this process's queued callers (waiting; ringing and talking too if asked): the switch
    keeps them if we let go (socket_resume was set as they entered; a callback has nothing to resume to)."""
    statuses = ADOPTABLE if ringing_too else (store.WAITING,)
    query = select(QueueEntry.call_uuid).where(
        QueueEntry.owner == instance_id, QueueEntry.status.in_(statuses), QueueEntry.callback_number == ""
    )
    return set(session.scalars(query))


HEARTBEATS_MISSED = 3  # a process not seen for this many heartbeats is taken to be dead


def beat(session: Session, instance_id: str, now: datetime) -> None:
    """This process is alive (the router loop calls it every acd.heartbeat_seconds)."""
    session.merge(AcdProcess(instance_id=instance_id, seen_at=now))


def adopt_orphans(acd, client, socket_address: str) -> None:
    """Take back the queued callers of processes that stopped or died (acd.adopted counts them)."""
    now = acd.clock()
    fresh = now - timedelta(seconds=acd.settings.heartbeat_seconds * HEARTBEATS_MISSED)

    def orphans(session: Session) -> list[tuple[int, str, str]]:
        live = select(AcdProcess.instance_id).where(AcdProcess.seen_at >= fresh)
        query = select(QueueEntry).where(
            QueueEntry.status.in_(ADOPTABLE), QueueEntry.callback_number == "", QueueEntry.owner.not_in(live)
        )
        return [(e.id, e.call_uuid, e.status) for e in session.scalars(query) if e.owner != acd.instance_id]

    for entry_id, call_uuid, status in acd.in_db(orphans):
        if client.api(f"uuid_exists {call_uuid}").strip() != "true":
            acd.call_finished(call_uuid)  # abandoned while nobody watched, or a talk that ended: settled now
            continue
        if status == store.BRIDGED:
            continue  # still talking: the bridge does not need us; its end is settled once the channel is gone
        reply = client.api(f"uuid_transfer {call_uuid} 'socket:{socket_address} async full' inline")
        if reply.startswith("+OK"):
            acd.adopted += 1
            log.info("queue entry %d: caller taken back from a stopped process", entry_id)
        else:
            log.warning("queue entry %d: could not take the caller back (%s)", entry_id, reply.strip()[:80])
    acd.adoption_passes += 1
