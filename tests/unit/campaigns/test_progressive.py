"""Progressive pacing: a call only for a free agent not already spoken for, none while too many abandon."""

from __future__ import annotations

import pytest

from ccctl.campaigns.model import AgentLoad
from ccctl.campaigns.pacer import ABANDON_MIN_ANSWERED, progressive_room
from ccctl.campaigns.spec import CampaignFileError, load_spec


@pytest.mark.parametrize(
    ("load", "room"),
    [
        (AgentLoad(free_agents=3, ringing=0, waiting=0), 3),
        (AgentLoad(free_agents=3, ringing=2, waiting=0), 1),  # two agents are spoken for by calls ringing
        (AgentLoad(free_agents=3, ringing=1, waiting=2), 0),  # answered patients wait for the rest
        (AgentLoad(free_agents=1, ringing=4, waiting=0), 0),  # never below zero
        (AgentLoad(free_agents=0, ringing=0, waiting=0), 0),
    ],
)
def test_never_more_calls_ringing_than_free_agents(load, room):
    assert progressive_room(load, abandon_percent=3) == room


def test_an_abandon_rate_over_the_limit_stops_new_calls_until_it_falls():
    answered = 100
    over = AgentLoad(free_agents=5, ringing=0, waiting=0, answered=answered, abandoned=4)
    under = AgentLoad(free_agents=5, ringing=0, waiting=0, answered=answered, abandoned=3)
    assert progressive_room(over, abandon_percent=3) == 0
    assert progressive_room(under, abandon_percent=3) == 5


def test_the_first_few_answers_do_not_decide_the_rate():
    early = AgentLoad(free_agents=2, ringing=0, waiting=0, answered=ABANDON_MIN_ANSWERED - 1, abandoned=1)
    assert progressive_room(early, abandon_percent=3) == 2


BASE = (
    "name: care\nflow: care-call\ntargets: {patients: {specialty: cardio}}\n"
    "calling: {windows: [{days: [mon], from: '09:00', to: '10:00'}]}\n"
)


def test_a_progressive_campaign_names_its_agents_skill_and_abandon_limit(tmp_path):
    path = tmp_path / "care.yaml"
    path.write_text(BASE + "mode: progressive\nagents: {skill: care, abandon_percent: 2.5}\n")
    spec = load_spec(path)
    assert (spec.mode, spec.agent_skill, spec.abandon_percent) == ("progressive", "care", 2.5)


@pytest.mark.parametrize(
    ("extra", "says"),
    [
        ("mode: progressive\n", "mode: progressive needs agents: {skill"),
        ("mode: predictive\n", "mode must be one of automated, progressive"),
        ("mode: progressive\nagents: {skill: care, abandon_percent: 300}\n", "abandon_percent is a number"),
    ],
)
def test_progressive_mistakes_are_named(tmp_path, extra, says):
    path = tmp_path / "care.yaml"
    path.write_text(BASE + extra)
    with pytest.raises(CampaignFileError, match=says):
        load_spec(path)
