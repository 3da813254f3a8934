"""How the caller's controller reads a CHANNEL_BRIDGE during a warm transfer, on a real database."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ccctl.acd import model, store
from ccctl.acd.agents import add_agent, add_queue, set_status
from ccctl.acd.transfer import REQUESTED, bridge_outcome
from ccctl.records.database import make_engine
from ccctl.records.models.acd import Agent, QueueEntry

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
BOB_LEG = "sofia/internal/1002@cc.local"


def _warm_transfer_under_way(session: Session) -> QueueEntry:
    """A called-back patient (entry call_uuid 'first-call') talks to ann; ann consults bob (reserved)."""
    ann, bob = (session.scalar(select(Agent).where(Agent.name == name)) for name in ("ann", "bob"))
    entry = QueueEntry(queue="cardio", call_uuid="first-call", status=model.BRIDGED, agent_id=ann.id, owner="me")
    entry.entered_at = entry.updated_at = T0
    session.add(entry)
    session.flush()
    store.add_event(session, entry, "answered", T0, ann.id)
    store.set_agent_state(session, ann.id, "in_call", T0)
    assert store.claim_for_transfer(session, bob.id, entry.id, T0, 900)
    store.add_event(session, entry, REQUESTED, T0, ann.id, detail="warm agent=bob")
    session.commit()
    return entry


def _site(url: str) -> None:
    add_queue(url, "cardio", "longest-idle-agent", {"cardio": 1}, {"wrapup_seconds": 30})
    for name, extension in (("ann", "1001"), ("bob", "1002")):
        add_agent(url, name, extension, {"cardio": 3})
        set_status(url, name, "Available")


def test_a_called_back_patient_handed_to_the_consulted_agent_is_settled_by_entry(db_url):
    _site(db_url)
    engine = make_engine(db_url)
    with Session(engine, expire_on_commit=False) as session:
        entry = _warm_transfer_under_way(session)
        callback_channel = {"callback-channel-uuid", "bob-leg-uuid"}
        # by channel uuid alone the entry is not found: its live channel is the callback's
        assert bridge_outcome(session, callback_channel, {BOB_LEG}, T0) == []

        done = bridge_outcome(session, callback_channel, {BOB_LEG}, T0, frozenset({entry.id}))
        session.commit()

        assert [(kind, agent) for kind, agent, _ in done] == [("transferred", "bob")]
        agents = {a.name: a for a in session.scalars(select(Agent))}
        assert agents["bob"].state == "in_call" and agents["ann"].state == "wrapup"
        assert session.get(QueueEntry, entry.id).agent_id == agents["bob"].id
    engine.dispose()


def test_the_caller_back_with_the_first_agent_is_a_failed_transfer_and_frees_the_target(db_url):
    _site(db_url)
    engine = make_engine(db_url)
    with Session(engine, expire_on_commit=False) as session:
        entry = _warm_transfer_under_way(session)

        done = bridge_outcome(session, {"first-call"}, {"sofia/internal/1001@cc.local"}, T0)
        session.commit()

        assert [(kind, agent) for kind, agent, _ in done] == [("transfer_failed", "bob")]
        agents = {a.name: a for a in session.scalars(select(Agent))}
        assert agents["bob"].state == "idle" and agents["ann"].state == "in_call"
        assert session.get(QueueEntry, entry.id).agent_id == agents["ann"].id
    engine.dispose()


def test_a_switch_lost_mid_request_undoes_the_reservation_and_allows_a_retry(db_url):
    """The ESL connection fails when the transfer command goes out: the target is free again, nothing pending."""
    import json

    import pytest

    from ccctl.acd.transfer import TransferError, request_transfer

    _site(db_url)
    legs = {"rows": [{"uuid": "ann-leg", "name": "sofia/internal/1001@cc.local", "callstate": "ACTIVE"}]}

    def switch_gone_after_lookup(command: str) -> str:
        if command.startswith("show channels"):
            return json.dumps(legs)
        raise TransferError("FreeSWITCH: connection lost")

    engine = make_engine(db_url)
    with Session(engine, expire_on_commit=False) as session:
        entry = QueueEntry(queue="cardio", call_uuid="call-1", status=model.BRIDGED, owner="me")
        entry.agent_id = session.scalar(select(Agent.id).where(Agent.name == "ann"))
        entry.entered_at = entry.updated_at = T0
        session.add(entry)
        session.commit()
        for _ in range(2):  # the second attempt is not refused as "already under way"
            with pytest.raises(
                TransferError,
                match=r"FreeSWITCH did not take the transfer \(agent 'ann'\): -ERR FreeSWITCH: connection lost",
            ):
                request_transfer(switch_gone_after_lookup, session, "ann", to_agent="bob", warm=True)
            assert session.scalar(select(Agent.state).where(Agent.name == "bob")) == "idle"
    engine.dispose()
