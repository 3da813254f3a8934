"""The ACD: agents, skills, queues; queued callers and their events."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ccctl.records.models.base import Base, utc_now


class Agent(Base):
    __tablename__ = "agents"

    id: Mapped[int] = mapped_column(primary_key=True)
    extension: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(128), default="")
    # status: what the agent chose (logged_out, available, on_break); state: what the ACD sees
    status: Mapped[str] = mapped_column(String(32), default="logged_out")
    state: Mapped[str] = mapped_column(String(32), default="idle")
    state_since: Mapped[datetime | None]
    # ACD (ccctl.acd): the dial string of the agent's phone ("" = user/<extension>)
    contact: Mapped[str] = mapped_column(String(255), default="", server_default="")
    # the switch node (esl.nodes name) the phone last registered through, while that registration lasts;
    # "" when unregistered, expired, its node lost, or with one unnamed switch
    registered_node: Mapped[str] = mapped_column(String(64), default="", server_default="")
    registered_at: Mapped[datetime | None]
    registration_expires_at: Mapped[datetime | None]
    # a reservation lapses by itself: an agent can never stay "reserved" after a crash
    reserved_until: Mapped[datetime | None]
    reserved_entry_id: Mapped[int | None]
    last_offered_at: Mapped[datetime | None]
    last_call_ended_at: Mapped[datetime | None]
    calls_answered: Mapped[int] = mapped_column(default=0, server_default="0")
    talk_seconds: Mapped[int] = mapped_column(default=0, server_default="0")
    no_answer_count: Mapped[int] = mapped_column(default=0, server_default="0")
    # contacts at once per channel (None = the acd.capacity setting); a phone takes one call (0 = no calls)
    voice_capacity: Mapped[int | None]
    chat_capacity: Mapped[int | None]
    task_capacity: Mapped[int | None]
    # chats and tasks offered or accepted and not finished: the router's compare-and-set counts them
    chats_open: Mapped[int] = mapped_column(default=0, server_default="0")
    tasks_open: Mapped[int] = mapped_column(default=0, server_default="0")


class Skill(Base):
    __tablename__ = "skills"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)


class AgentSkill(Base):
    __tablename__ = "agent_skills"

    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True)
    skill_id: Mapped[int] = mapped_column(ForeignKey("skills.id", ondelete="CASCADE"), primary_key=True)
    level: Mapped[int] = mapped_column(default=1)


class Queue(Base):
    __tablename__ = "queues"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    strategy: Mapped[str] = mapped_column(String(32), default="longest-idle-agent")
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)


class QueueSkill(Base):
    __tablename__ = "queue_skills"

    queue_id: Mapped[int] = mapped_column(ForeignKey("queues.id", ondelete="CASCADE"), primary_key=True)
    skill_id: Mapped[int] = mapped_column(ForeignKey("skills.id", ondelete="CASCADE"), primary_key=True)
    min_level: Mapped[int] = mapped_column(default=1)


class QueueEntry(Base):
    """One contact in a queue (a caller, a chat, a task); the row is the only copy of the place in line."""

    __tablename__ = "queue_entries"
    __table_args__ = (Index("ix_queue_entries_status_queue", "status", "queue"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    queue: Mapped[str] = mapped_column(String(64))
    # voice: the caller's channel uuid; chat and task: "<channel>:<contact_ref>" (the key of its events)
    call_uuid: Mapped[str] = mapped_column(String(64), unique=True)
    # voice, chat, task; contact_ref: the call uuid, the chat session id, the inbox item or callback id
    channel: Mapped[str] = mapped_column(String(16), default="voice", server_default="voice")
    contact_ref: Mapped[str] = mapped_column(String(64), default="", server_default="")
    patient_id: Mapped[int | None]
    priority: Mapped[int] = mapped_column(default=0)
    entered_at: Mapped[datetime] = mapped_column(default=utc_now)
    # waiting, callback (waiting, caller hung up), offered, bridged, done, abandoned, overflowed
    status: Mapped[str] = mapped_column(String(16), default="waiting")
    agent_id: Mapped[int | None]
    # > 0: the lowest skill level accepted, set by an overflow rule (0 = the queue's own levels)
    min_level: Mapped[int] = mapped_column(default=0)
    callback_number: Mapped[str] = mapped_column(String(32), default="")
    # the serve process whose greenlet holds the caller (only its router offers them agents); "" = any
    owner: Mapped[str] = mapped_column(String(64), default="")
    updated_at: Mapped[datetime] = mapped_column(default=utc_now)
    # click-to-call: the only agent this callback is offered to (set by compare-and-set, docs/acd.md)
    pinned_agent_id: Mapped[int | None]
    # a callback is not dialled before callback_after (the hotline opens; a failed attempt rests) and should be
    # made by callback_due (the worklist marks it overdue after that)
    callback_after: Mapped[datetime | None]
    callback_due: Mapped[datetime | None]


class QueueEvent(Base):
    """One timestamp in a queued call's life: entered, offered, no_answer, answered, abandoned, ended, ..."""

    __tablename__ = "queue_events"
    __table_args__ = (Index("ix_queue_events_at_queue", "at", "queue"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utc_now)
    queue: Mapped[str] = mapped_column(String(64))
    call_uuid: Mapped[str] = mapped_column(String(64), index=True)
    channel: Mapped[str] = mapped_column(String(16), default="voice", server_default="voice")
    kind: Mapped[str] = mapped_column(String(32))
    agent_id: Mapped[int | None]
    patient_id: Mapped[int | None]
    detail: Mapped[str] = mapped_column(Text, default="")


class AcdAlarm(Base):
    """Something a supervisor must see (an agent put On Break after missed calls, a full queue)."""

    __tablename__ = "acd_alarms"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utc_now, index=True)
    kind: Mapped[str] = mapped_column(String(32))
    agent_id: Mapped[int | None]
    queue: Mapped[str] = mapped_column(String(64), default="")
    detail: Mapped[str] = mapped_column(Text, default="")
    cleared_at: Mapped[datetime | None]


class AcdProcess(Base):
    """A `ccctl serve` process's heartbeat: callers owned by a process not seen lately are taken over."""

    __tablename__ = "acd_processes"

    instance_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    seen_at: Mapped[datetime] = mapped_column(default=utc_now)
