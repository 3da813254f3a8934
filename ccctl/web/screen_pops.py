"""Screen pops: the ACD's offers, answers and hang-ups, sent to the one agent they concern.

Each offer is also stored (web_agent_contacts): it is what lets that agent open the patient's record.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import timedelta

from gevent.queue import Queue
from sqlalchemy import Engine, or_, select
from sqlalchemy.orm import Session

from ccctl.records.database import database_problem
from ccctl.records.models.base import utc_now
from ccctl.records.models.web import AgentContact

log = logging.getLogger("ccctl.web")

# "offer" (and "transferred") are chats' and tasks': they add channel, contact_ref and entry_id; a call's
# "offered" and "answered" add leg_uuid, the channel the agent talks to (a callback's is not call_uuid)
EVENT_TYPES = ("offered", "offer", "answered", "ended", "transferred", "agent_state")
POP_KEYS = ("type", "agent", "call_uuid", "leg_uuid", "patient_id", "queue", "channel", "contact_ref", "entry_id")
# an agent whose browser stopped reading must not make the ACD's listener grow memory without end
MAX_QUEUED_PER_VIEWER = 100


class ScreenPops:
    """ACD listener (on_acd_event) and the per-agent event queues the workstation streams read."""

    def __init__(self, engine: Engine, recent_hours: int) -> None:
        self._engine = engine
        self._recent = timedelta(hours=recent_hours)
        self._viewers: dict[str, list[Queue]] = defaultdict(list)
        self._current: dict[str, dict] = {}

    def on_acd_event(self, event: dict) -> None:
        """Called by the ACD for every offer/answer/end/agent state change (the ACD contract's listener)."""
        kind, agent = event.get("type"), event.get("agent") or ""
        if kind not in EVENT_TYPES or not agent:
            return
        pop = {k: event[k] for k in POP_KEYS if k in event}
        if kind == "offered":
            self._current[agent] = pop
            self._remember(pop)
        elif kind == "offer" and pop.get("patient_id") is not None:
            self._remember(pop)  # a signed-in patient's chat: the agent may open their record
        elif kind == "ended" and self._current.get(agent, {}).get("call_uuid") == event.get("call_uuid"):
            self._current[agent] = {**self._current[agent], "type": "ended"}
        for queue in list(self._viewers.get(agent, ())):
            if queue.qsize() < MAX_QUEUED_PER_VIEWER:
                queue.put(pop)

    def _remember(self, pop: dict) -> None:
        try:
            with Session(self._engine) as db, db.begin():
                db.add(
                    AgentContact(
                        agent=pop["agent"],
                        patient_id=pop.get("patient_id"),
                        call_uuid=pop.get("call_uuid") or "",
                        leg_uuid=pop.get("leg_uuid") or "",
                        queue=pop.get("queue") or "",
                    )
                )
        except Exception as exc:  # the offer still pops; the agent only loses access to the record later
            log.error("screen pop for agent %s not stored: %s", pop["agent"], database_problem(exc))

    def current(self, agent: str) -> dict | None:
        """The last offer to the agent (shown when the workstation page loads mid-call)."""
        return self._current.get(agent)

    def subscribe(self, agent: str) -> Queue:
        queue: Queue = Queue()
        self._viewers[agent].append(queue)
        return queue

    def unsubscribe(self, agent: str, queue: Queue) -> None:
        viewers = self._viewers.get(agent, [])
        if queue in viewers:
            viewers.remove(queue)

    def may_open_patient(self, db: Session, agent: str, patient_id: int) -> bool:
        """Whether the patient was on one of the agent's calls within the recent window."""
        since = utc_now() - self._recent
        query = select(AgentContact.id).where(
            AgentContact.agent == agent, AgentContact.patient_id == patient_id, AgentContact.at >= since
        )
        return db.scalar(query.limit(1)) is not None

    def may_wrap_up(self, db: Session, agent: str, call_uuid: str) -> bool:
        query = select(AgentContact.id).where(AgentContact.agent == agent, AgentContact.call_uuid == call_uuid)
        return db.scalar(query.limit(1)) is not None

    def live_leg(self, db: Session, call_uuid: str, agent: str | None = None) -> str | None:
        """The channel to act on for a call offered to `agent` (None: to any agent), named by the screen
        pop's call_uuid or by its leg_uuid: the latest offer's leg (call_uuid itself when the offer named
        none). None when no such call was offered (to that agent)."""
        query = select(AgentContact.call_uuid, AgentContact.leg_uuid).where(
            or_(AgentContact.call_uuid == call_uuid, AgentContact.leg_uuid == call_uuid)
        )
        if agent is not None:
            query = query.where(AgentContact.agent == agent)
        row = db.execute(query.order_by(AgentContact.id.desc()).limit(1)).first()
        if row is None:
            return None
        return row.leg_uuid or row.call_uuid
