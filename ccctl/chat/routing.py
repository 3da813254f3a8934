"""Who answers a chat: the ACD when `ccctl serve` runs one, else the first agent with chat.skill to accept.

With the ACD (docs/acd.md, "Chats and tasks") a chat is a contact on the `chat` channel of queue
chat.queue, keyed by its session id: the router offers it to one agent with room for a chat, the
agent accepts it, transfers it or finishes it, and the patient's leaving takes it out of line; the
chat's own row follows (waiting, with_agent, closed). Without an ACD (acd.enabled false, a console
alone) every available agent with chat.skill sees a waiting chat and one compare-and-set gives it to
the first who accepts. Either way an agent who takes a signed-in patient's chat may open their record,
as after a call's screen pop.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ccctl.acd.contact_store import ContactError, contact_key
from ccctl.acd.model import BRIDGED, OFFERED, WAITING
from ccctl.chat import store
from ccctl.chat.store import ChatError
from ccctl.config import ChatSettings
from ccctl.records.models.acd import Agent, QueueEntry
from ccctl.records.models.chat import ChatSession
from ccctl.records.models.web import AgentContact

CHANNEL = "chat"


class ChatRouting:
    """The chat's side of routing; `acd` is the AcdEngine or None, `transaction` opens a database transaction."""

    def __init__(
        self, acd: Any, settings: ChatSettings, transaction: Callable[[], AbstractContextManager[Session]]
    ) -> None:
        self.acd = acd
        self.settings = settings
        self.transaction = transaction

    def _entry_id(self, db: Session, chat_id: int) -> int | None:
        key = contact_key(CHANNEL, str(chat_id))
        return db.scalar(select(QueueEntry.id).where(QueueEntry.call_uuid == key))

    def _acd_call(self, work: Callable[[], None]) -> None:
        try:
            work()
        except ContactError as exc:  # names the entry, agent or queue
            raise ChatError(str(exc)) from None

    def to_person(self, chat_id: int) -> None:
        """The patient asked for a person: in line (the caller has checked that someone answers now)."""
        with self.transaction() as db:
            chat = store.chat_by_id(db, chat_id)
            queue = self.settings.skill if self.acd is None else self.settings.queue
            store.wait_for_agent(db, chat, queue)
            patient_id = chat.patient_id
        if self.acd is None:
            return
        try:
            # the ACD writes through its own connection, after this chat's transaction has let go of the database
            self._acd_call(lambda: self.acd.queue_contact(queue, CHANNEL, str(chat_id), patient_id, 0))
        except ChatError:
            with self.transaction() as db:
                store.chat_by_id(db, chat_id).state = "assistant"
            raise

    def chats_of(self, db: Session, agent: str) -> list[ChatSession]:
        """The agent's chats: those held, then those offered to them (oldest first)."""
        if self.acd is None:
            return store.chats_of_agent(db, agent)
        offered = (
            select(QueueEntry.contact_ref)
            .join(Agent, Agent.id == QueueEntry.agent_id)
            .where(QueueEntry.channel == CHANNEL, QueueEntry.status == OFFERED, Agent.name == agent)
        )
        ids = [int(ref) for ref in db.scalars(offered) if ref.isdigit()]
        query = select(ChatSession).where(
            ((ChatSession.state == "with_agent") & (ChatSession.agent == agent))
            | ((ChatSession.state == "waiting") & ChatSession.id.in_(ids))
        )
        return list(db.scalars(query.order_by(ChatSession.waiting_since, ChatSession.id)))

    def offered_to(self, db: Session, chat: ChatSession, agent: str) -> bool:
        return chat.state == "waiting" and chat in self.chats_of(db, agent)

    def accept(self, chat_id: int, agent: str) -> None:
        if self.acd is not None:
            with self.transaction() as db:
                entry_id = self._entry_id(db, chat_id)
                if entry_id is None or store.chat_by_id(db, chat_id).state != "waiting":
                    raise ChatError(f"chat {chat_id} is not waiting")
            self._acd_call(lambda: self.acd.accept(entry_id, agent))
        with self.transaction() as db:
            if self.acd is None:
                store.accept(db, chat_id, agent)
            else:
                chat = store.chat_by_id(db, chat_id)
                chat.state, chat.agent = "with_agent", agent

    def transfer(self, chat_id: int, agent: str, to_agent: str, to_queue: str) -> None:
        with self.transaction() as db:
            chat = store.held_by(db, chat_id, agent)
            if self.acd is None:
                store.transfer(db, chat, to_agent=to_agent, to_queue=to_queue)
                return
            entry_id = self._entry_id(db, chat_id)
        self._acd_call(lambda: self.acd.transfer_contact(entry_id, to_agent=to_agent, to_queue=to_queue))
        with self.transaction() as db:
            chat = store.chat_by_id(db, chat_id)
            chat.state, chat.agent, chat.queue = "waiting", None, to_queue or chat.queue

    def finish(self, chat_id: int, agent: str, wrapup: str) -> None:
        """Tell the ACD the agent is done (the chat's row is closed by the caller)."""
        if self.acd is None:
            return
        with self.transaction() as db:
            entry_id = self._entry_id(db, chat_id)
        if entry_id is not None:
            self._acd_call(lambda: self.acd.finish(entry_id, agent, wrapup))

    def leave(self, chat_id: int) -> None:
        """The patient ended the chat or left a message: out of line, the agent's place free."""
        if self.acd is None:
            return
        with self.transaction() as db:
            entry_id = self._entry_id(db, chat_id)
            status = db.scalar(select(QueueEntry.status).where(QueueEntry.id == entry_id)) if entry_id else None
        if status in (WAITING, OFFERED, BRIDGED):
            self._acd_call(lambda: self.acd.leave_contact(entry_id))


def may_open_record(db: Session, agent: str, chat: ChatSession) -> None:
    """The agent holding a signed-in patient's chat may open the patient's record, as after a call's pop."""
    key = f"chat:{chat.id}"
    known = select(AgentContact.id).where(
        AgentContact.agent == agent, AgentContact.patient_id == chat.patient_id, AgentContact.call_uuid == key
    )
    if db.scalar(known.limit(1)) is None:
        db.add(AgentContact(agent=agent, patient_id=chat.patient_id, call_uuid=key, queue=chat.queue))
