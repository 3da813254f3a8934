"""A queued patient reaches a registered agent on the real switch: free agent, agent freed later, failed ring."""

from __future__ import annotations

import sqlite3

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
def site(tmp_path):
    with SwitchSite(tmp_path, {"main.yaml": QUEUE_FLOW}) as running:
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


def recordings(site: SwitchSite) -> list[tuple]:
    with sqlite3.connect(site.root / "cc.db") as db:
        return db.execute("select call_uuid, path, agent from recordings").fetchall()


def test_a_caller_queued_while_an_agent_is_free_talks_to_that_agent_and_both_are_recorded(site):
    site.ccctl("agents", "login", "ann")
    phone = site.agent_phone("1001", voice_hz=1000)
    patient = site.patient([sipp.wait(6000), sipp.hang_up()], voice_hz=440)
    assert patient.wait(40) == 0, patient.errors()
    [call] = site.wait_for_calls(1)
    assert call["disposition"] == "completed", call
    [(uuid, path, agent)] = site.wait_for(lambda: recordings(site), 10, "the recording row")
    assert (uuid, agent) == (call["uuid"], "ann")
    left, right = channel_levels(site.root / "recordings" / path if not path.startswith("/") else path)
    assert left > 0.05 and right > 0.05, (left, right)
    phone.wait(10)
