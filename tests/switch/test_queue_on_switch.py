"""A queued patient reaches a registered agent on the real switch: free agent, agent freed later, failed ring."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sipp
from switch_site import QUEUE_FLOW, SwitchSite, add_cardio_queue, channel_levels


@pytest.fixture
def site(tmp_path, db_url):
    """The production database too: PostgreSQL holds the queue while the real switch rings the agent."""
    with SwitchSite(tmp_path, {"main.yaml": QUEUE_FLOW}, database_url=db_url) as running:
        add_cardio_queue(running, no_answer_timeout=4)
        yield running


def recordings(site: SwitchSite) -> list[dict]:
    return json.loads(site.ccctl("recordings", "list", "--json", "--as", "switch-test").stdout)


def test_a_caller_queued_while_an_agent_is_free_talks_to_that_agent_and_both_are_recorded(site):
    site.ccctl("agents", "login", "ann")
    phone = site.agent_phone("1001", voice_hz=1000)
    patient = site.patient([sipp.wait(6000), sipp.hang_up()], voice_hz=440)
    assert patient.wait(40) == 0, patient.errors()
    [call] = site.wait_for_calls(1)
    assert call["disposition"] == "completed", call
    [recording] = site.wait_for(lambda: recordings(site), 10, "the recording row")
    assert (recording["call_uuid"], recording["agent"]) == (call["uuid"], "ann"), recording
    left, right = channel_levels(Path(recording["path"]))
    assert left > 0.05 and right > 0.05, (left, right)
    phone.wait(10)
