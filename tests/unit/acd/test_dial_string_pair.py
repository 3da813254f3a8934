"""The agents' dial string behind a redundant Kamailio pair: every offered phone through the first, then the next."""

from __future__ import annotations

from ccctl.acd.hold import dial_string
from ccctl.acd.model import AgentCandidate, Offer

PAIR = "sofia/trunk/{extension}@10.0.0.5:5060|sofia/trunk/{extension}@10.0.0.6:5060"


def agent(extension: str, contact: str = "") -> AgentCandidate:
    return AgentCandidate(agent_id=int(extension), name=f"a{extension}", extension=extension, contact=contact)


def test_ring_all_rings_every_phone_through_the_first_kamailio_and_through_the_second_if_it_fails():
    offer = Offer(entry_id=1, queue="cardio", agents=[agent("1001"), agent("1002")])
    assert dial_string(offer, 20, "cc.test", PAIR) == (
        "{originate_timeout=20}sofia/trunk/1001@10.0.0.5:5060,sofia/trunk/1002@10.0.0.5:5060"
        "|sofia/trunk/1001@10.0.0.6:5060,sofia/trunk/1002@10.0.0.6:5060"
    )


def test_one_kamailio_or_none_keeps_one_group():
    offer = Offer(entry_id=1, queue="cardio", agents=[agent("1001")])
    assert dial_string(offer, 20, "cc.test", "sofia/trunk/{extension}@10.0.0.5:5060") == (
        "{originate_timeout=20}sofia/trunk/1001@10.0.0.5:5060"
    )
    assert dial_string(offer, 20, "cc.test") == "{originate_timeout=20}user/1001@cc.test"


def test_a_phone_with_its_own_contact_is_never_rung_twice():
    offer = Offer(entry_id=1, queue="cardio", agents=[agent("1001", contact="sofia/internal/sip:1001@10.0.0.9")])
    assert dial_string(offer, 20, "cc.test", PAIR) == "{originate_timeout=20}sofia/internal/sip:1001@10.0.0.9"
