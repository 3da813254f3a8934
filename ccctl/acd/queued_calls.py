"""What happens to one queued call after the router picked agents: offered, answered, not answered, ended,
called back. AcdEngine owns one QueuedCalls (engine.calls); the hold steps (acd/hold.py), the callback call and
the switch's CHANNEL_BRIDGE events call it. Every method runs its database work in the engine's thread.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import gevent
from gevent.event import AsyncResult
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ccctl.acd import model, store
from ccctl.acd.model import AgentCandidate
from ccctl.acd.queue_rules import QueueRules
from ccctl.records.models.acd import Agent, QueueEntry

if TYPE_CHECKING:
    from ccctl.acd.engine import AcdEngine

log = logging.getLogger("ccctl.acd")


class QueuedCalls:
    """Call-side operations of one AcdEngine; keeps the calls ringing agents and their answers."""

    def __init__(self, acd: AcdEngine) -> None:
        self.acd = acd
        self._ringing: dict[str, tuple[int, list[AgentCandidate]]] = {}
        self._answers: dict[str, AsyncResult] = {}
        self._callback_channels: dict[str, int] = {}  # callback call's channel uuid -> queue entry id

    def offered(self, entry_id: int, call_uuid: str, agents: list[AgentCandidate]) -> None:
        """The caller's channel is about to ring these agents; their answer is awaited from CHANNEL_BRIDGE."""
        now = self.acd.clock()
        self._ringing[call_uuid] = (entry_id, agents)
        self._answers[call_uuid] = AsyncResult()

        def work(session: Session) -> QueueEntry | None:
            entry = session.get(QueueEntry, entry_id)
            if entry is not None:
                for agent in agents:
                    store.add_event(session, entry, "offered", now, agent.agent_id)
                ids = [a.agent_id for a in agents]
                session.execute(update(Agent).where(Agent.id.in_(ids)).values(last_offered_at=now))
            return entry

        # stored once the caller's greenlet has sent its `bridge` (this greenlet runs when it waits for
        # the answer): the write costs the patient no time; the answer's write comes after it
        gevent.spawn(self._store_offer, work, agents, call_uuid)

    def _store_offer(self, work, agents: list[AgentCandidate], leg_uuid: str) -> None:
        """Publish the offer: call_uuid is the queue entry's (a callback's request, the first caller's
        channel), leg_uuid the channel ringing the agent now, which call controls act on."""
        entry = self.acd.in_db(work)
        if entry is not None:
            for agent in agents:
                self.acd.publish(
                    "offered", agent.name, entry.call_uuid, entry.patient_id, entry.queue, leg_uuid=leg_uuid
                )

    def channel_bridged(self, call_uuid: str, agent_channel: str = "") -> None:
        """The switch connected the caller (CHANNEL_BRIDGE): the exact answer time; never blocks the reader."""
        if call_uuid in self._ringing:
            gevent.spawn(self._answer, call_uuid, self.acd.clock(), agent_channel)

    def bridge_seen(self, event) -> None:
        """Any CHANNEL_BRIDGE: a caller of ours with an agent being transferred to (hand-over), or with
        their first agent again (the transfer failed). Settled off the event reader."""
        call_ids = {
            value
            for value in (
                event.uuid,
                event.get("Other-Leg-Unique-ID"),
                event.get("Bridge-A-Unique-ID"),
                event.get("Bridge-B-Unique-ID"),
            )
            if value
        }
        if any(call_id in self._ringing for call_id in call_ids):
            return  # the first answer: channel_bridged has it
        channels = {value for value in (event.get("Channel-Name"), event.get("Other-Leg-Channel-Name")) if value}
        called_back = frozenset(self._callback_channels[i] for i in call_ids if i in self._callback_channels)
        gevent.spawn(self._transfer_outcome, call_ids, channels, self.acd.clock(), called_back)

    def _transfer_outcome(self, call_ids: set[str], channels: set[str], at: datetime, entry_ids: frozenset) -> None:
        from ccctl.acd.transfer import bridge_outcome

        outcome = self.acd.in_db(lambda session: bridge_outcome(session, call_ids, channels, at, entry_ids))
        for kind, agent, entry in outcome:
            self.acd.publish(kind, agent, entry.call_uuid, entry.patient_id, entry.queue)
        self.acd.wake()

    def answered_by(self, call_uuid: str, agent_channel: str) -> tuple[AgentCandidate, datetime] | None:
        """After a successful bridge: who answered and when (from CHANNEL_BRIDGE if it came, else now)."""
        if call_uuid in self._ringing:
            self._answer(call_uuid, self.acd.clock(), agent_channel)
        result = self._answers.pop(call_uuid, None)
        return None if result is None else result.get(timeout=10)

    def _answer(self, call_uuid: str, at: datetime, agent_channel: str) -> None:
        ringing = self._ringing.pop(call_uuid, None)
        if ringing is None:
            return
        entry_id, agents = ringing
        agent = next((a for a in agents if a.answers_on(agent_channel)), agents[0])
        # taken now: the caller's greenlet (answered_by) may take it while the write below runs
        answer = self._answers.setdefault(call_uuid, AsyncResult())

        def work(session: Session) -> QueueEntry | None:
            entry = session.get(QueueEntry, entry_id)
            if entry is None:
                return None
            store.add_event(session, entry, "answered", at, agent.agent_id)
            entry.status, entry.agent_id, entry.updated_at = model.BRIDGED, agent.agent_id, at
            store.set_agent_state(session, agent.agent_id, "in_call", at)
            session.execute(update(Agent).where(Agent.id == agent.agent_id).values(no_answer_count=0))
            for other in agents:
                if other is not agent:
                    store.set_agent_state(session, other.agent_id, "idle", at)
            return entry

        try:
            entry = self.acd.in_db(work)
        finally:
            answer.set((agent, at))
        if entry is not None:
            self.acd.publish("answered", agent.name, entry.call_uuid, entry.patient_id, entry.queue, leg_uuid=call_uuid)

    def not_answered(self, entry_id: int, agents: list[AgentCandidate], cause: str, rules: QueueRules) -> None:
        """Nobody picked up: the caller keeps their place, each agent's missed count grows."""
        now = self.acd.clock()
        for call_uuid, (ringing_entry, _) in list(self._ringing.items()):
            if ringing_entry == entry_id:
                self._ringing.pop(call_uuid, None)
                self._answers.pop(call_uuid, None)

        def work(session: Session) -> tuple[QueueEntry | None, list[str]]:
            entry = session.get(QueueEntry, entry_id)
            benched = []
            for agent in agents:
                if entry is not None:
                    store.add_event(session, entry, "no_answer", now, agent.agent_id, detail=cause)
                if store.note_no_answer(session, agent.agent_id, rules, now, cause):
                    benched.append(agent.name)
            if entry is not None and entry.status == model.OFFERED:
                entry.status, entry.agent_id, entry.updated_at = model.WAITING, None, now
            return entry, benched

        entry, benched = self.acd.in_db(work)
        for name in benched:
            log.warning("agent %s put On Break after %d missed calls", name, rules.max_no_answer)
        if entry is not None:
            for agent in agents:
                self.acd.publish("agent_state", agent.name, entry.call_uuid, entry.patient_id, entry.queue)
        self.acd.wake()

    def talk_ended(self, entry_id: int, agent: AgentCandidate, answered_at: datetime, rules: QueueRules) -> None:
        """The conversation is over: counters, then wrap-up until wrapup_seconds have passed."""
        now = self.acd.clock()

        def work(session: Session) -> tuple[QueueEntry | None, str]:
            entry = session.get(QueueEntry, entry_id)
            if entry is None or entry.status != model.BRIDGED:
                return entry, agent.name
            if entry.agent_id != agent.agent_id:  # handed over by a warm transfer: the last agent settles
                last = session.get(Agent, entry.agent_id)
                started = store.talk_started(session, entry) or answered_at
                store.settle_talk(session, entry, entry.agent_id, started, rules.wrapup_seconds, now)
                return entry, last.name if last is not None else agent.name
            store.settle_talk(session, entry, agent.agent_id, answered_at, rules.wrapup_seconds, now)
            return entry, agent.name

        entry, name = self.acd.in_db(work)
        if entry is not None:
            self.acd.publish("ended", name, entry.call_uuid, entry.patient_id, entry.queue)
        # the router frees the agent once wrap-up runs out; wake it then
        gevent.spawn_later(rules.wrapup_seconds, self.acd.wake)

    def left(self, entry_id: int, kind: str, detail: str = "") -> None:
        """The caller left the queue without an agent: timeout, overflow, callback_requested."""
        now = self.acd.clock()

        def work(session: Session) -> bool:
            """Whether an agent was freed (then the router runs at once)."""
            entry = session.get(QueueEntry, entry_id)
            if entry is None or entry.status not in (model.WAITING, model.OFFERED):
                return False
            store.add_event(session, entry, kind, now, detail=detail)
            entry.status, entry.updated_at = ("callback" if kind == "callback_requested" else kind), now
            # the router may have claimed agents for the caller after the hold steps last looked for an offer:
            # nobody will ring them now, so they are free at once rather than when the reservation lapses
            return store.release_reserved(session, entry_id, now) > 0

        freed = self.acd.in_db(work)
        self.acd._offers.pop(entry_id, None)
        if freed:
            self.acd.wake()

    def overflow(self, entry_id: int, rules: QueueRules, caller_number: str) -> str:
        """Apply the queue's overflow rule once; returns how the caller leaves ("" = they stay in line)."""
        action = rules.overflow_action
        if action in ("voice-message", ""):
            if action:
                self.left(entry_id, "overflow", "voice-message")
            return "overflow" if action else ""
        if action == "callback":
            self.request_callback(entry_id, caller_number, "overflow")
            return "callback"
        now = self.acd.clock()

        def work(session: Session) -> None:
            entry = session.get(QueueEntry, entry_id)
            if entry is None or entry.status != model.WAITING:
                return
            if action == "lower-level":
                entry.min_level = rules.overflow_level
                store.add_event(session, entry, "overflow", now, detail=f"min_level={rules.overflow_level}")
            else:  # another queue: same place in time, the other queue's agents
                store.add_event(session, entry, "overflow", now, detail=f"queue={rules.overflow_queue}")
                entry.queue = rules.overflow_queue

        self.acd.in_db(work)
        self.acd.wake()
        return ""

    def request_callback(self, entry_id: int, number: str, why: str = "caller") -> None:
        """The caller hangs up but keeps their place: when it is their turn the ACD calls them back."""
        now = self.acd.clock()

        def work(session: Session) -> None:
            entry = session.get(QueueEntry, entry_id)
            if entry is not None and entry.status == model.WAITING:
                entry.callback_number = number
                store.add_event(session, entry, "callback_requested", now, detail=why)

        self.acd.in_db(work)

    def call_finished(self, call_uuid: str) -> None:
        """The call ended (its record arrived): a caller still waiting or ringing an agent abandoned."""
        now = self.acd.clock()
        self._ringing.pop(call_uuid, None)
        self._answers.pop(call_uuid, None)

        callback_entry = self._callback_channels.pop(call_uuid, None)

        def work(session: Session) -> bool:
            """Whether an agent was freed (then the router runs at once)."""
            if callback_entry is not None:  # a callback call: its channel is not the queued call's first one
                entry = session.get(QueueEntry, callback_entry)
            else:
                entry = session.scalar(select(QueueEntry).where(QueueEntry.call_uuid == call_uuid))
            if entry is not None and entry.status == model.BRIDGED:
                # the caller hung up while talking: the bridge's end never reached the hold steps
                store.settle_hangup_in_talk(session, entry, now)
                return True
            if entry is None or entry.status not in (model.WAITING, model.OFFERED) or entry.callback_number:
                return False
            store.add_event(session, entry, "abandoned", now)
            entry.status, entry.updated_at = "abandoned", now
            self.acd._offers.pop(entry.id, None)
            return store.release_reserved(session, entry.id, now) > 0

        if self.acd.in_db(work):
            self.acd.wake()

    def call_back(self, entry_id: int, number: str) -> None:
        """Their turn came while they were off the line: dial them; the call comes back through our socket."""
        from ccctl.acd.callback_call import originate_command

        address = self.acd.callback_socket() if self.acd.callback_socket else ""
        client = self.acd.callback_client()
        if client is None or not address:
            self._callback_failed(entry_id, "no inbound ESL connection to place the call")
            return
        command = originate_command(self.acd.settings.callback_dial, number, entry_id, address, 60, self.acd.tts)
        try:
            reply = client.api(command, timeout=90)
        except Exception as exc:  # the switch is unreachable: the place is kept, the agents freed
            reply = f"-ERR {type(exc).__name__}"
        if not reply.startswith("+OK"):
            self._callback_failed(entry_id, reply.strip()[:80])

    def _callback_failed(self, entry_id: int, reason: str) -> None:
        """The patient did not answer: the attempt is recorded, the place kept for a turn after
        callback_retry_minutes; a click-to-call goes back on the worklist, pinned to nobody."""
        now = self.acd.clock()
        retry_at = now + timedelta(minutes=self.acd.settings.callback_retry_minutes)

        def work(session: Session) -> None:
            entry = session.get(QueueEntry, entry_id)
            if entry is None:
                return
            store.add_event(session, entry, "callback_failed", now, entry.pinned_agent_id, detail=reason)
            store.unpin(session, entry_id, now, "not answered")
            store.release_reserved(session, entry_id, now)
            if entry.status == model.OFFERED:
                entry.status, entry.agent_id, entry.updated_at = model.WAITING, None, now
                entry.callback_after = retry_at

        self.acd.in_db(work)
        self.acd._offers.pop(entry_id, None)
        log.warning("callback of queue entry %d failed: %s", entry_id, reason)

    def callback_connected(self, entry_id: int, channel_uuid: str):
        """The patient answered our callback: from now on a hang-up is an abandon; the offer stands."""
        from ccctl.acd.model import QueueTicket

        now = self.acd.clock()

        def work(session: Session) -> QueueTicket:
            entry = session.get(QueueEntry, entry_id)
            rules = store.load_queues(session).get(entry.queue) if entry is not None else None
            if entry is None or rules is None:
                return QueueTicket(refused="unknown queue entry")
            store.add_event(session, entry, "callback_made", now)
            entry.callback_number, entry.owner = "", self.acd.instance_id
            return QueueTicket(entry.id, rules, entered_at=entry.entered_at, patient_id=entry.patient_id)

        ticket = self.acd.in_db(work)
        if ticket.entry_id:
            self._callback_channels[channel_uuid] = ticket.entry_id
        return ticket
