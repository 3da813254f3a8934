"""Chats and tasks in the ACD: what the chat sessions and the task worklists ask of it (queue, accept,
finish, transfer, leave) and the router's offers of them. AcdEngine owns one Contacts (engine.contacts);
its public methods queue_contact, accept, finish, transfer_contact and leave_contact call these.

An offer is published to the engine's listeners as {"type": "offer", "agent", "channel", "contact_ref",
"entry_id", "queue", "patient_id", "call_uuid"}; the workstation's event stream carries it to the agent.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

import gevent
from sqlalchemy.orm import Session

from ccctl.acd import contact_store, store
from ccctl.acd.model import Assignment, Capacities
from ccctl.records.models.acd import QueueEntry

if TYPE_CHECKING:
    from ccctl.acd.engine import AcdEngine

log = logging.getLogger("ccctl.acd")


class Contacts:
    """Chat and task operations of one AcdEngine; keeps the deadlines of the offers it made."""

    def __init__(self, acd: AcdEngine) -> None:
        self.acd = acd
        self._deadlines: dict[int, float] = {}  # entry id -> monotonic time its offer lapses
        self._watch: gevent.Greenlet | None = None
        self.queued = False  # a chat or task was queued by this process: the router looks for their channels

    def capacities(self) -> Capacities:
        settings = self.acd.settings
        return Capacities(
            settings.voice_capacity, settings.chat_capacity, settings.task_capacity, settings.max_chats_for_call
        )

    def queue(self, queue: str, channel: str, contact_ref: str, patient_id: int | None, priority: int) -> int:
        now = self.acd.clock()

        def work(session: Session) -> int:
            rules = self.acd._queue_rules(session, queue).get(queue)
            if rules is None:
                raise contact_store.ContactError(f"no queue named {queue!r} (ccctl queues add)")
            owner = self.acd.instance_id
            return contact_store.enter(session, rules, channel, contact_ref, patient_id, priority, owner, now).id

        self.queued = True
        entry_id = self.acd.in_db(work)
        self.acd.wake()
        return entry_id

    def claim(self, session: Session, assignment: Assignment, channel: str, now) -> bool:
        """The router's claim of a chat or task decision (runs in the database thread)."""
        agent = assignment.agents[0]
        return contact_store.claim_place(
            session, assignment.entry_id, agent.agent_id, channel, self.capacities(), now, self.acd.instance_id
        )

    def offered(self, entry_id: int, queue: str, agent: str) -> None:
        """Publish the router's offer to the agent (with the entry's patient, read off the router's path) and
        watch its deadline: the queue's no_answer_timeout."""
        now = self.acd.clock()
        self._expect_accept(entry_id, queue)

        def stored(session: Session) -> QueueEntry | None:
            entry = session.get(QueueEntry, entry_id)
            if entry is not None and entry.agent_id is not None:
                store.add_event(session, entry, "offered", now, entry.agent_id)
            return entry

        def publish() -> None:
            entry = self.acd.in_db(stored)
            if entry is not None:
                self._publish_entry("offer", agent, entry)

        gevent.spawn(publish)

    def _expect_accept(self, entry_id: int, queue: str) -> None:
        rules = self.acd._rules_cache[1].get(queue)
        timeout = rules.no_answer_timeout if rules is not None else 20
        self._deadlines[entry_id] = time.monotonic() + timeout
        if self._watch is None or self._watch.dead:
            self._watch = gevent.spawn(self._lapse_forever)

    def _publish(self, kind: str, agent: str, channel: str, key: str, entry_id: int, queue: str, patient_id=None):
        ref = key.split(":", 1)[1] if ":" in key else key
        self.acd.publish(kind, agent, key, patient_id, queue, channel=channel, contact_ref=ref, entry_id=entry_id)

    def _publish_entry(self, kind: str, agent: str, entry: QueueEntry) -> None:
        self._publish(kind, agent, entry.channel, entry.call_uuid, entry.id, entry.queue, entry.patient_id)

    def accept(self, entry_id: int, agent: str) -> None:
        now = self.acd.clock()
        entry = self.acd.in_db(lambda session: contact_store.accept(session, entry_id, agent, now))
        self._deadlines.pop(entry_id, None)
        self._publish_entry("answered", agent, entry)

    def finish(self, entry_id: int, agent: str, wrapup: str = "") -> None:
        now = self.acd.clock()
        entry = self.acd.in_db(lambda session: contact_store.finish(session, entry_id, agent, wrapup, now))
        self._publish_entry("ended", agent, entry)
        self.acd.wake()  # a place came free

    def leave(self, entry_id: int, kind: str = "abandoned") -> None:
        now = self.acd.clock()
        self.acd.in_db(lambda session: contact_store.leave(session, entry_id, kind, now))
        self._deadlines.pop(entry_id, None)
        self.acd.wake()  # an agent's place may have come free

    def transfer(self, entry_id: int, to_agent: str = "", to_queue: str = "") -> None:
        now = self.acd.clock()

        def work(session: Session):
            queues = self.acd._queue_rules(session, to_queue)
            return contact_store.transfer(session, entry_id, to_agent, to_queue, queues, self.capacities(), now)

        entry, target, first = self.acd.in_db(work)
        self._deadlines.pop(entry_id, None)
        self._publish_entry("transferred", first, entry)
        if target is not None:
            self._expect_accept(entry.id, entry.queue)
            self._publish_entry("offer", target.name, entry)
        else:
            self.acd.wake()

    # -- offers not accepted in time ------------------------------------------------

    def _lapse_forever(self) -> None:
        while self._deadlines:
            gevent.sleep(min(1.0, max(0.05, min(self._deadlines.values()) - time.monotonic())))
            due = [entry_id for entry_id, at in self._deadlines.items() if at <= time.monotonic()]
            for entry_id in due:
                self._deadlines.pop(entry_id, None)
                try:
                    self._lapse(entry_id)
                except Exception:  # the next offer of this contact is the router's
                    log.exception("lapsing the offer of entry %s failed", entry_id)

    def _lapse(self, entry_id: int) -> None:
        now = self.acd.clock()

        def work(session: Session):
            entry = session.get(QueueEntry, entry_id)
            rules = self.acd._queue_rules(session).get(entry.queue) if entry is not None else None
            return contact_store.lapse_offer(session, entry_id, rules, now)

        if self.acd.in_db(work) is not None:
            self.acd.wake()

    def stop(self) -> None:
        if self._watch is not None:
            self._watch.kill()
