"""Who answered a queued call, when the switch's CHANNEL_BRIDGE and the end of the caller's `bridge` race.

The bridge event's greenlet takes the ringing call and stores the answer in the database thread; the
caller's greenlet may ask for the answer while that write is still under way (a short talk, a busy
database) and must get it then, not wait out its timeout.
"""

from __future__ import annotations

import gevent
import pytest

from ccctl.acd.agents import add_agent, add_queue, parse_skills, set_status
from ccctl.acd.engine import AcdEngine
from ccctl.config import AcdSettings


@pytest.fixture
def acd(sqlite_url):
    add_agent(sqlite_url, "bob", "1002", parse_skills("cardio"))
    set_status(sqlite_url, "bob", "Available")
    add_queue(sqlite_url, "cardio", "longest-idle-agent", {"cardio": 1}, {"no_answer_timeout": 5})
    engine = AcdEngine(sqlite_url, AcdSettings())
    yield engine
    engine.stop()


def test_the_answer_stored_from_the_bridge_event_reaches_the_caller_asking_meanwhile(acd):
    ticket = acd.enqueue("cardio", "call-1", 0, None)
    acd.route_once()
    offer = acd.offer_for(ticket.entry_id)
    acd.calls.offered(ticket.entry_id, "call-1", offer.agents)
    acd.calls.channel_bridged("call-1", "sofia/internal/1002@cc.local")
    gevent.sleep(0)  # the bridge event's greenlet took the ringing call; its write is in the database thread
    with gevent.Timeout(3, AssertionError("the caller's greenlet never learnt who answered")):
        agent, answered_at = acd.calls.answered_by("call-1", "sofia/internal/1002@cc.local")
    assert agent.name == "bob" and answered_at is not None
    snapshot = acd.snapshot()
    assert [(a["name"], a["state"]) for a in snapshot["agents"]] == [("bob", "in_call")]
