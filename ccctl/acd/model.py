"""The ACD's types, below everything else in acd/: a queued call's states, the agents the router sees,
the waiting callers, the router's picks (Assignment, Offer) and a caller's place (QueueTicket)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from ccctl.acd.queue_rules import QueueRules

# a queue entry's status while the caller is in line; it ends as answered-and-settled (the talk),
# abandoned, timeout, overflow, callback... (queue_entries.status)
WAITING = "waiting"
OFFERED = "offered"  # agents reserved and being rung
BRIDGED = "bridged"  # talking to an agent (a chat or task: accepted by the agent)

# what a queue entry is: a call, a chat session, a task (an inbox item or a callback to make)
VOICE, CHAT, TASK = "voice", "chat", "task"
CHANNELS = (VOICE, CHAT, TASK)


@dataclass(frozen=True)
class Capacities:
    """Contacts an agent takes at once per channel (the settings' defaults; an agent may have their own),
    and the blending rule: an agent with more open chats than `max_chats_for_call` is offered no call."""

    voice: int = 1
    chat: int = 3
    task: int = 1
    max_chats_for_call: int = 1

    def of(self, channel: str) -> int:
        return getattr(self, channel) if channel in CHANNELS else 0


@dataclass
class AgentCandidate:
    """A free agent as the router sees it: skills with levels and the counters strategies use."""

    agent_id: int
    name: str
    extension: str
    skills: dict[str, int] = field(default_factory=dict)
    idle_since: datetime | None = None  # end of the last call (or of the login)
    last_offered_at: datetime | None = None
    calls_answered: int = 0
    talk_seconds: int = 0
    contact: str = ""
    # their own capacity per channel where they have one (else the settings'), and their open chats and tasks
    capacity: dict[str, int] = field(default_factory=dict)
    chats_open: int = 0
    tasks_open: int = 0

    def takes(self, channel: str, defaults: Capacities, given: dict[str, int] | None = None) -> bool:
        """Room for one more contact of this channel, counting those a plan just `given` them (a free phone
        has no call); a call also needs few enough open chats."""
        given = given or {}
        chats = self.chats_open + given.get(CHAT, 0)
        open_now = {CHAT: chats, TASK: self.tasks_open + given.get(TASK, 0)}.get(channel, 0)
        room = self.capacity.get(channel, defaults.of(channel)) - open_now
        if channel == VOICE:
            return room > 0 and chats <= defaults.max_chats_for_call
        return room > 0

    def level(self, skill: str) -> int:
        return self.skills.get(skill, 0)

    def phone(self, domain: str) -> str:
        """Where the agent is rung: their registered contact, else the directory user at `domain`."""
        return self.contact or f"user/{self.extension}@{domain}"

    def answers_on(self, channel: str) -> bool:
        """sofia/internal/1001@cc.local (or the agent's own contact) names this agent's phone."""
        if self.contact and channel and channel in self.contact:
            return True
        return f"/{self.extension}@" in channel or channel.endswith(f"/{self.extension}")


@dataclass
class WaitingCaller:
    entry_id: int
    queue: str
    priority: int
    entered_at: datetime | str  # a sort key: store.waiting_callers gives SQLite's text, which sorts alike
    min_level: int = 0  # > 0 once overflow widened the queue to lower skill levels
    callback_number: str = ""  # set: the caller hung up and is called back when their turn comes
    call_uuid: str = ""  # the caller's channel (its hold music is stopped once agents are picked)
    channel: str = VOICE  # a chat or a task is offered to one agent with room for it, never rung


@dataclass
class Assignment:
    """The caller `entry_id` is offered to `agents` (one agent, or several at once for ring-all)."""

    entry_id: int
    queue: str
    agents: list[AgentCandidate] = field(default_factory=list)


@dataclass
class Offer:
    """What the router gave a waiting caller: the agents to ring (several for ring-all)."""

    entry_id: int
    queue: str
    agents: list[AgentCandidate] = field(default_factory=list)


@dataclass
class QueueTicket:
    """A caller's place: entry id and the queue's rules, or `refused` with the reason."""

    entry_id: int = 0
    rules: QueueRules | None = None
    refused: str = ""
    entered_at: datetime | None = None
    patient_id: int | None = None
