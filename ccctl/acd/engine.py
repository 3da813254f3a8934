"""AcdEngine: the router loop of one process plus what a queued call's greenlet asks of the ACD.

The waiting callers and reservations live in the database; this object keeps only wake-ups and listeners.
"""

from __future__ import annotations

import logging
import os
import random
import socket
import time
import uuid as uuidlib
from collections.abc import Callable, Generator
from datetime import datetime
from typing import Any, TypeVar

import gevent
from gevent.event import Event as Flag
from gevent.threadpool import ThreadPool
from sqlalchemy import Engine, delete, func, select
from sqlalchemy.orm import Session

from ccctl.acd import model, store
from ccctl.acd.contacts import Contacts
from ccctl.acd.model import Assignment, Offer, QueueTicket
from ccctl.acd.queued_calls import QueuedCalls
from ccctl.acd.routing import plan_assignments, queues_served
from ccctl.callflow import AppResult, CallInfo, Command
from ccctl.config import AcdSettings
from ccctl.esl.nodes import SwitchNodes
from ccctl.ivr.hold_words import HoldWords
from ccctl.ivr.services import Surveys
from ccctl.records.database import make_engine
from ccctl.records.models.acd import AcdProcess, QueueEntry
from ccctl.records.models.base import utc_now

log = logging.getLogger("ccctl.acd")
T = TypeVar("T")
# queue settings are re-read this often by the router (a `ccctl queues add` takes effect within it)
QUEUE_RULES_SECONDS = 2.0
# a uuid_break that lands between two hold prompts is lost: sent again while the caller has not taken the offer
BREAK_RETRY_SECONDS = 0.5
BREAK_ATTEMPTS = 6
Listener = Callable[[dict], None]


class AcdEngine:
    """Router loop + call-side operations over one database; see docs/acd.md."""

    def __init__(
        self,
        url_or_engine: str | Engine,
        settings: AcdSettings | None = None,
        clock: Callable[[], datetime] = utc_now,
        rng: random.Random | None = None,
        domain: str = "cc.local",
        agent_route: str = "",
        tts: tuple[str, str] = ("flite", "slt"),
    ) -> None:
        self._owns_engine = not isinstance(url_or_engine, Engine)
        self.engine = make_engine(url_or_engine) if self._owns_engine else url_or_engine
        self.settings = settings or AcdSettings()
        self.clock = clock
        self.rng = rng or random.Random()
        self.domain = domain  # agents' phones are user/<extension>@<domain> unless they have a contact
        # with a SIP front (several switches): "sofia/trunk/{extension}@<Kamailio>" rings agents through it
        self.agent_route = agent_route
        self.tts = tts  # freeswitch.tts_engine and tts_voice, for the calls the ACD originates (callbacks)
        # names this process in queue_entries.owner: its router offers agents only to the callers it holds
        self.instance_id = f"{socket.gethostname()[:40]}:{os.getpid()}:{uuidlib.uuid4().hex[:8]}"
        self._db = ThreadPool(1)
        self._wake = Flag()
        self._offers: dict[int, Offer] = {}
        self._rules_cache: tuple[float, dict] = (0.0, {})  # (when to re-read, name -> QueueRules)
        self._rules_refreshing = False
        self._line_empty = True  # nobody was waiting at the last pass: see route_once
        self._listeners: list[Listener] = []
        # what happens to each queued call once the router picked agents (offered, answered, ended...)
        self.calls = QueuedCalls(self)
        # chats and tasks: queued, offered to an agent with room on their channel, accepted, finished
        self.contacts = Contacts(self)
        self._loop: gevent.Greenlet | None = None
        self.inbound = None  # the default node's ccctl.esl.inbound.InboundClient, set by attach_switches
        self.switches: SwitchNodes | None = None  # every node's client, and which node each call is on
        self._paused_by_node: dict[str, list[str]] = {}  # node -> agents on break while it does not answer
        self.recordings_dir = ""
        # the surveys a queue's `survey` setting names (ccctl.surveys.call.DbSurveys, set by the Controller)
        self.surveys: Surveys | None = None
        self.adopted = 0  # callers taken back from a dead controller since start
        self.adoption_passes = 0
        self._beaten = 0.0
        self._sweeping = True  # until the first adoption pass (started by attach_inbound) is over
        # "host:port" of this process's outbound ESL server: where callbacks are sent (set by the Controller)
        self.callback_socket: Callable[[], str] | None = None
        self.break_retry_seconds = BREAK_RETRY_SECONDS

    # -- life cycle -----------------------------------------------------------------

    def start(self) -> None:
        self._beat()
        self._loop = gevent.spawn(self._route_forever)

    def stop(self) -> None:
        """Stop routing; the heartbeat goes at once, so the next process takes our waiting callers now."""
        if self._loop is not None:
            self._loop.kill()
        self.contacts.stop()
        try:
            self.in_db(
                lambda session: session.execute(delete(AcdProcess).where(AcdProcess.instance_id == self.instance_id))
            )
        except Exception as exc:  # then the others wait for the heartbeat to go stale
            log.warning("ACD heartbeat not removed at stop (%s)", type(exc).__name__)
        self._db.kill()
        if self._owns_engine:
            self.engine.dispose()

    def wake(self) -> None:
        """Route now (a caller arrived, an agent became free) instead of at the next tick."""
        self._wake.set()

    def attach_inbound(self, client) -> None:
        """One switch's inbound client (ccctl serve attaches all its nodes with attach_switches)."""
        self.attach_switches(SwitchNodes({"": client}))

    def attach_switches(self, switches: SwitchNodes) -> None:
        """Learn answer times from CHANNEL_BRIDGE; place callbacks; take back callers a dead controller left:
        on every node."""
        self.switches = switches
        self.inbound = switches.default
        gevent.spawn(self._adopt_when_connected)
        switches.subscribe(["CHANNEL_BRIDGE", "CUSTOM sofia::register sofia::unregister sofia::expire"])
        for subclass in ("sofia::register", "sofia::unregister", "sofia::expire"):
            switches.on(f"CUSTOM {subclass}", self._registration)
        switches.on("CHANNEL_BRIDGE", self._bridge_event)
        switches.on_lost(self._node_lost)
        if not self.agent_route:  # behind Kamailio every live node reaches every phone
            switches.on_back(self._node_back)

    def client_for(self, call_uuid: str):
        """The inbound client of the node a call is on (None without a connection)."""
        return self.switches.client_for(call_uuid) if self.switches is not None else self.inbound

    def callback_client(self):
        """A connected node's client for a call we place (each node in turn); None when none is."""
        return self.switches.next_live() if self.switches is not None else self.inbound

    def _bridge_event(self, node: str, event) -> None:
        self.calls.channel_bridged(event.uuid, event.get("Other-Leg-Channel-Name") or "")
        self.calls.bridge_seen(event)

    def _registration(self, node: str, event) -> None:
        """A phone (un)registered through `node`: the agent with that extension is rung there from now on, and
        the node is on their row (agents status, the tools' node choice)."""
        from ccctl.acd.registrations import contact_dial_string, expires_seconds, learn_registration

        user = event.get("from-user") or event.get("username") or ""
        registered = event.subclass == "sofia::register" and event.get("expires") != "0"
        contact = contact_dial_string(event.get("profile-name") or "", event.get("contact") or "") if registered else ""
        expires, now = expires_seconds(event.get("expires")), self.clock()
        if user:
            gevent.spawn(self.in_db, lambda session: learn_registration(session, user, contact, node, now, expires))

    def _node_lost(self, node: str) -> None:
        """No agent is shown registered through `node` any more; without a SIP front, those agents also leave
        routing (on break) until it answers again, since only that node reached their phones."""
        from ccctl.acd.node_loss import pause_agents
        from ccctl.acd.registrations import forget_node, registered_through

        def settle(session: Session) -> list[str]:
            now = self.clock()
            extensions = registered_through(session, node, now) if not self.agent_route else []
            forget_node(session, node)
            return pause_agents(session, extensions, node, now)

        names = self.in_db(settle)
        if names:
            self._paused_by_node.setdefault(node, []).extend(names)
            log.warning("FreeSWITCH node %s lost: %d agent(s) registered through it left routing", node, len(names))

    def _node_back(self, node: str) -> None:
        from ccctl.acd.node_loss import resume_agents

        names = self._paused_by_node.pop(node, [])
        back = self.in_db(lambda session: resume_agents(session, names, self.clock()))
        if back:
            log.info("FreeSWITCH node %s back: %d agent(s) available again", node, len(back))
            self.wake()

    def _adopt_when_connected(self) -> None:
        from ccctl.acd.adoption import adopt_orphans

        try:
            if self.inbound.wait_connected(timeout=30) and self.callback_socket is not None:
                adopt_orphans(self, self.switches, self.callback_socket())
        except Exception:  # the callers stay in the table: the next sweep tries again
            log.exception("re-adopting queued callers failed")
        finally:
            self._sweeping = False

    def readopt(self, entry_id: int, channel_uuid: str) -> QueueTicket:
        from ccctl.acd.adoption import readopt

        return readopt(self, entry_id, channel_uuid)

    def add_listener(self, fn: Listener) -> None:
        self._listeners.append(fn)

    def publish(
        self, kind: str, agent: str, call_uuid: str, patient_id: int | None, queue: str, **contact: Any
    ) -> None:
        """Tell the listeners; a chat's or task's events add channel, contact_ref and entry_id (`contact`)."""
        event = {"type": kind, "agent": agent, "call_uuid": call_uuid, "patient_id": patient_id, "queue": queue}
        event["channel"] = contact.pop("channel", model.VOICE)
        event.update(contact)
        for fn in list(self._listeners):
            try:
                fn(event)
            except Exception:  # a listener's bug must not stop calls
                log.exception("ACD listener failed on %s", kind)

    def in_db(self, work: Callable[[Session], T]) -> T:
        def job() -> T:
            with Session(self.engine, expire_on_commit=False) as session:
                result = work(session)
                session.commit()
                return result

        return self._db.apply(job)

    # -- the router -----------------------------------------------------------------

    def _route_forever(self) -> None:
        while True:
            self._wake.wait(self.settings.router_tick_seconds)
            self._wake.clear()
            try:
                if time.monotonic() - self._beaten >= self.settings.heartbeat_seconds:
                    self._beat()
                    self._sweep_orphans()
                self.route_once()
            except Exception:
                log.exception("ACD routing pass failed; next pass in %.1fs", self.settings.router_tick_seconds)

    def _beat(self) -> None:
        from ccctl.acd.adoption import beat

        self._beaten = time.monotonic()
        self.in_db(lambda session: beat(session, self.instance_id, self.clock()))

    def _sweep_orphans(self) -> None:
        """Callers of a process that died since we started: taken over here (one sweep at a time)."""
        if self.switches is None or self.callback_socket is None or self._sweeping:
            return
        self._sweeping = True
        gevent.spawn(self._adopt_when_connected)

    def _queue_rules(self, session: Session, name: str = "") -> dict:
        """Queue settings change rarely (`ccctl queues add`): the cached ones, read now only when there are
        none yet or `name` is missing (a queue just added). Runs in the database thread."""
        rules = self._rules_cache[1]
        if not rules or (name and name not in rules):
            rules = self._reload_rules(session)
        return rules

    def _reload_rules(self, session: Session) -> dict:
        rules = store.load_queues(session)
        self._rules_cache = (time.monotonic() + QUEUE_RULES_SECONDS, rules)
        return rules

    def _refresh_rules_if_old(self) -> None:
        """Re-read the queue settings every QUEUE_RULES_SECONDS, after a pass rather than inside one:
        the read (about 2 ms for 20 queues) is not added to a routing decision."""
        if time.monotonic() < self._rules_cache[0] or self._rules_refreshing:
            return
        self._rules_refreshing = True

        def refresh() -> None:
            try:
                self.in_db(self._reload_rules)
            finally:
                self._rules_refreshing = False

        gevent.spawn(refresh)

    def route_once(self) -> list[Assignment]:
        """One pass: two reads (free agents, waiting callers), a plan, one claim per decision.

        Under load few agents are free: they are read first and only the callers of queues they can
        serve follow. When the last pass found nobody waiting, a one-row check comes first, and with
        the line still empty that is all the pass costs (idle agents are not read every tick).

        Queue rules come from a cache re-read every QUEUE_RULES_SECONDS after a pass; the statements are
        built once (store).
        """
        now = self.clock()

        mine = self.instance_id

        def read(session: Session) -> tuple[list, list, dict]:
            # busy times: few agents free (or with room on a channel someone waits on), many callers;
            # a process that never queued a chat or task has only calls (its own and callbacks) to offer
            channels = store.channels_waiting(session, mine, now) if self.contacts.queued else (model.VOICE,)
            free = store.free_agents(session, now, self.contacts.capacities(), channels)
            if not free:
                return [], [], {}
            queues = self._queue_rules(session)
            callers = store.waiting_callers(session, mine, now, queues_served(free, queues))
            self._line_empty = not callers and not store.anyone_waiting(session, mine, now)
            return callers, free, queues

        def work(session: Session) -> list[Assignment]:
            if self._line_empty and not store.anyone_waiting(session, mine, now):
                return []  # quiet times: one tiny read per pass
            made = self._claim_pinned(session, now)  # click-to-call: the agent who asked, before anyone else
            callers, free, queues = read(session)
            if not callers or not free:
                return made
            plan = plan_assignments(callers, free, queues, self.rng, self.contacts.capacities())
            hold = self.settings.reservation_seconds
            by_entry = {c.entry_id: c for c in callers}
            for assignment in plan:
                hold_for = hold + queues[assignment.queue].no_answer_timeout
                caller = by_entry[assignment.entry_id]
                if caller.channel != model.VOICE:
                    if self.contacts.claim(session, assignment, caller.channel, now):
                        made.append((assignment, caller))
                    continue
                agent_ids = [a.agent_id for a in assignment.agents]
                if store.claim(session, assignment.entry_id, agent_ids, now, hold_for, self.instance_id):
                    made.append((assignment, caller))
            return made

        made = self.in_db(work)
        self._refresh_rules_if_old()
        for assignment, caller in made:
            if caller.channel != model.VOICE:
                self.contacts.offered(assignment.entry_id, assignment.queue, assignment.agents[0].name)
                continue
            self._offers[assignment.entry_id] = Offer(assignment.entry_id, assignment.queue, assignment.agents)
            if caller.callback_number:
                gevent.spawn(self.calls.call_back, assignment.entry_id, caller.callback_number)
            elif caller.call_uuid:
                gevent.spawn(self._end_hold_music, caller.call_uuid, assignment.entry_id)
        return [assignment for assignment, _ in made]

    def _claim_pinned(self, session: Session, now: datetime) -> list[tuple[Assignment, model.WaitingCaller]]:
        """Callbacks pinned to an agent (click-to-call), each offered to that agent alone."""
        made = []
        for caller, agent in store.pinned_callbacks(session, now):
            rules = self._queue_rules(session, caller.queue).get(caller.queue)
            hold_for = self.settings.reservation_seconds + (rules.no_answer_timeout if rules else 0)
            if store.claim_pinned(session, caller.entry_id, agent.agent_id, now, hold_for):
                made.append((Assignment(caller.entry_id, caller.queue, [agent]), caller))
        return made

    def _end_hold_music(self, call_uuid: str, entry_id: int) -> None:
        """Stop the caller's hold prompt now (uuid_break), so their greenlet rings the agents at once
        instead of at the end of the prompt. Without the inbound connection it just ends in its time.

        Never `uuid_break <uuid> all`: break_function (mod_commands.c) then also flushes the channel's
        queued private events, which drops the `execute` the caller's greenlet may have just sent
        (the bridge or the next hold prompt) and leaves the patient in silence. Without `all` only the
        playing prompt stops; a break that lands between two prompts is lost (switch_core_session_exec
        clears CF_BREAK), so the break is sent again while the caller's greenlet has not taken its offer.
        """
        if self.inbound is None:
            return
        for attempt in range(BREAK_ATTEMPTS):
            if attempt:
                gevent.sleep(self.break_retry_seconds)
                if entry_id not in self._offers:
                    return  # the prompt ended: the caller's greenlet took the offer
            try:
                self.client_for(call_uuid).api(f"uuid_break {call_uuid}", timeout=5)
            except Exception as exc:  # the call may have just ended; the prompt ends by itself anyway
                log.debug("uuid_break %s: %s", call_uuid, type(exc).__name__)
                return

    # -- what a queued call asks ----------------------------------------------------

    def enqueue(self, queue: str, call_uuid: str, priority: int, patient_id: int | None) -> QueueTicket:
        now = self.clock()

        def work(session: Session) -> QueueTicket:
            rules = self._queue_rules(session, queue).get(queue)
            if rules is None:
                return QueueTicket(refused=f"no queue named {queue!r} (ccctl queues add)")
            waiting = session.scalar(
                select(func.count()).where(QueueEntry.queue == queue, QueueEntry.status == model.WAITING)
            )
            entry = session.scalar(select(QueueEntry).where(QueueEntry.call_uuid == call_uuid))
            if entry is not None and entry.status in (model.WAITING, model.OFFERED):
                # the flow ran again for a caller already in line (taken back after a restart): same place
                return store.take_back(session, entry, rules, self.instance_id, now)
            if rules.max_length and waiting >= rules.max_length:
                return QueueTicket(rules=rules, refused="full")
            if entry is None:  # a call that left a queue and comes back to one reuses its row
                entry = QueueEntry(call_uuid=call_uuid)
                session.add(entry)
            entry.queue, entry.patient_id, entry.priority, entry.entered_at = queue, patient_id, priority, now
            entry.status, entry.agent_id, entry.min_level, entry.callback_number = model.WAITING, None, 0, ""
            entry.updated_at, entry.owner = now, self.instance_id
            session.flush()
            store.add_event(session, entry, "entered", now, detail=f"priority={priority}")
            return QueueTicket(entry.id, rules, entered_at=now, patient_id=patient_id)

        ticket = self.in_db(work)
        if ticket.entry_id:
            self.wake()
        return ticket

    # -- chats and tasks (docs/acd.md "Chats and tasks") ------------------------------

    def queue_contact(
        self, queue: str, channel: str, contact_ref: str, patient_id: int | None = None, priority: int = 0
    ) -> int:
        """A chat (contact_ref: its session id) or a task (an inbox item or callback id) joins a queue; the
        entry id. ContactError names an unknown queue, a full one, or a contact already queued."""
        return self.contacts.queue(queue, channel, contact_ref, patient_id, priority)

    def accept(self, entry_id: int, agent: str) -> None:
        """The agent takes the chat or task offered to them (an "offer" event named the entry)."""
        self.contacts.accept(entry_id, agent)

    def finish(self, entry_id: int, agent: str, wrapup: str = "") -> None:
        """The agent is done with it: their place on the channel is free at once."""
        self.contacts.finish(entry_id, agent, wrapup)

    def transfer_contact(self, entry_id: int, to_agent: str = "", to_queue: str = "") -> None:
        """To another agent with room (offered to them at once) or back in line in another queue."""
        self.contacts.transfer(entry_id, to_agent, to_queue)

    def leave_contact(self, entry_id: int, kind: str = "abandoned") -> None:
        """The patient went (closed the chat) or the task was done elsewhere: the entry leaves the ACD."""
        self.contacts.leave(entry_id, kind)

    def after_talk(self, ticket: QueueTicket) -> QueueTicket | None:
        """The caller's agent left the call: None when the call is over, else where a blind transfer sends
        them (the new agent offered at once, or the new queue with the caller's first arrival time)."""
        from ccctl.acd.transfer import blind_target

        now = self.clock()

        def work(session: Session) -> tuple[QueueTicket | None, Offer | None]:
            entry = session.get(QueueEntry, ticket.entry_id)
            target = blind_target(session, entry, now) if entry is not None else None
            if target is None:
                return None, None
            queues = store.load_queues(session)
            entry.queue = target.queue or entry.queue
            entry.owner, entry.updated_at, entry.min_level = self.instance_id, now, 0
            offer = None
            if target.agent is not None:
                entry.status, entry.agent_id = model.OFFERED, target.agent.agent_id
                offer = Offer(entry.id, entry.queue, [target.agent])
            else:
                entry.status, entry.agent_id = model.WAITING, None
                store.add_event(session, entry, "entered", now, detail="transfer")
            follow = QueueTicket(
                entry.id, queues[entry.queue], entered_at=entry.entered_at, patient_id=entry.patient_id
            )
            return follow, offer

        follow, offer = self.in_db(work)
        if offer is not None:
            self._offers[offer.entry_id] = offer
        elif follow is not None:
            self.wake()
        return follow

    def queue_call(
        self,
        queue: str,
        call: CallInfo,
        priority: int,
        patient_id: int | None,
        recordings_dir: str,
        words: HoldWords | None = None,
    ) -> Generator[Command, AppResult, str]:
        """The Queueing a flow's queue node uses (ccctl.ivr.services): the hold steps of acd/hold.py."""
        from ccctl.acd.hold import SessionRecorder, queue_call

        recorder = SessionRecorder(recordings_dir, call.uuid, patient_id)
        steps = queue_call(self, queue, call.uuid, priority, patient_id, recorder, call.caller_number, words)
        return (yield from steps)

    def offer_for(self, entry_id: int) -> Offer | None:
        """The agents the router reserved for this caller, once (None while still waiting)."""
        return self._offers.pop(entry_id, None)

    def position(self, entry_id: int) -> int:
        """1 for the next caller served in this entry's queue (priority, then arrival), among the contacts of
        its channel."""

        def work(session: Session) -> int:
            entry = session.get(QueueEntry, entry_id)
            if entry is None:
                return 0
            ahead = session.scalar(
                select(func.count()).where(
                    QueueEntry.queue == entry.queue,
                    QueueEntry.channel == entry.channel,  # a caller is not behind the chats
                    QueueEntry.status == model.WAITING,
                    (QueueEntry.priority > entry.priority)
                    | ((QueueEntry.priority == entry.priority) & (QueueEntry.entered_at < entry.entered_at)),
                )
            )
            return int(ahead or 0) + 1

        return self.in_db(work)

    def controllers(self) -> list[dict]:
        """Every controller on this database by its heartbeat: alive or silent (this one is marked `self`)."""
        from ccctl.acd.adoption import controllers, live_since

        now, fresh = self.clock(), live_since(self)
        rows = self.in_db(lambda session: controllers(session, now, fresh))
        for row in rows:
            row["self"] = row["instance"] == self.instance_id
        return rows

    def snapshot(self) -> dict[str, Any]:
        from ccctl.acd.live_view import build_snapshot

        now = self.clock()
        return self.in_db(lambda session: build_snapshot(session, now))
