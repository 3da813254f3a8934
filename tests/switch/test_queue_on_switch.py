"""A queued patient reaches a registered agent on the real switch: free agent, agent freed later, failed ring."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sipp
from switch_site import SwitchSite, channel_levels

QUEUE_FLOW = """\
flow: main
description: switch test hotline
language: en
start: hello
nodes:
  hello:
    type: play
    prompt: "say:Hello"
    next: to_agent
  to_agent:
    type: queue
    skill: cardio
    on_failure: bye
  bye:
    type: hangup
    prompt: "say:Nobody could take your call"
"""


@pytest.fixture
def site(tmp_path, db_url):
    """The production database too: PostgreSQL holds the queue while the real switch rings the agent."""
    with SwitchSite(tmp_path, {"main.yaml": QUEUE_FLOW}, database_url=db_url) as running:
        running.ccctl(
            "queues",
            "add",
            "cardio",
            "--skills",
            "cardio",
            "--set",
            "wrapup_seconds=0",
            "--set",
            "announce_every_seconds=0",
            "--set",
            "no_answer_timeout=4",
        )
        running.ccctl("agents", "add", "ann", "--extension", "1001", "--skills", "cardio:5")
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
