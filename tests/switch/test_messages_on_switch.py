"""Voice messages and fallbacks on the real switch: what a patient leaves is filed, nobody is cut off."""

from __future__ import annotations

import json

import pytest
import sipp
from switch_site import SwitchSite, add_cardio_queue, channel_levels

MESSAGE_FLOW = """\
flow: main
description: leave a message
language: en
start: hello
nodes:
  hello:
    type: play
    prompt: "say:Hello"
    next: message
  message:
    type: record
    prompt: "say:Please speak after the tone"
    reason: callback_request
    max_seconds: 30
    next: thanks
    on_empty: nothing
  thanks:
    type: hangup
    prompt: "say:Thank you"
  nothing:
    type: hangup
    prompt: "say:Nothing was recorded"
"""

FALLBACK_FLOW = """\
flow: main
description: a queue the ACD does not know, then the fallback
language: en
start: to_agent
nodes:
  to_agent:
    type: queue
    skill: nursing
    on_failure: sorry
  sorry:
    type: hangup
    prompt: "say:Nobody can take your call now"
"""


def voice_item(site: SwitchSite) -> dict | None:
    """`ccctl inbox show 1 --json` once serve's inbox job has filed the voice message (a person then decides
    whether it becomes a ticket)."""
    shown = site.ccctl("inbox", "show", "1", "--json", check=False)
    return json.loads(shown.stdout) if shown.returncode == 0 else None


def test_a_voice_message_ended_by_the_patient_hanging_up_is_filed_with_its_audio(tmp_path):
    # serve's inbox job files new voice messages in the inbox; every second here instead of minutes
    with SwitchSite(tmp_path, {"main.yaml": MESSAGE_FLOW}, settings={"inbox": {"escalate_every_seconds": 1}}) as site:
        patient = site.patient([sipp.wait(9000), sipp.hang_up()], voice_hz=440)
        assert patient.wait(40) == 0, patient.errors()
        [call] = site.wait_for_calls(1)
        assert call["disposition"] == "completed", call
        assert "message:saved" in call["path"], call
        item = site.wait_for(lambda: voice_item(site), 30, "the voice message's inbox item")
        assert (item["channel"], item["subject"]) == ("voice", "voice message: callback_request"), item
        assert [a["content_type"] for a in item["attachments"]] == ["audio/wav"], item
        files = list((tmp_path / "recordings" / "voice").rglob("*.wav"))
        assert len(files) == 1, files
        [level] = channel_levels(files[0])
        assert level > 0.05, "the patient's voice is in the message"
        assert "DESTINATION_OUT_OF_ORDER" not in site.freeswitch_log()


def test_an_unregistered_hand_off_target_takes_the_patient_to_the_fallback_not_a_hang_up(tmp_path):
    with SwitchSite(tmp_path, {"main.yaml": FALLBACK_FLOW}) as site:
        patient = site.patient([sipp.until_switch_hangs_up()])
        assert patient.wait(40) == 0, patient.errors()
        [call] = site.wait_for_calls(1)
        assert call["path"][-2:] == ["to_agent:failed", "sorry"], call
        assert call["disposition"] == "completed", call


@pytest.mark.parametrize("answer", ["ignore", "busy"])
def test_a_ring_nobody_answers_leaves_no_recording_behind(tmp_path, answer):
    flow = FALLBACK_FLOW.replace("skill: nursing", "skill: cardio")
    with SwitchSite(tmp_path, {"main.yaml": flow}) as site:
        # a phone that was busy or rang out rests a minute: nobody is rung twice in this test
        add_cardio_queue(site, no_answer_timeout=3, busy_delay_seconds=60, no_answer_delay_seconds=60)
        site.ccctl("agents", "login", "ann")
        site.agent_phone("1001", answer=answer)
        patient = site.patient([sipp.wait(9000), sipp.hang_up()], voice_hz=440)
        assert patient.wait(40) == 0, patient.errors()
        [call] = site.wait_for_calls(1)
        assert call["disposition"] == "abandoned", call
        recordings = json.loads(site.ccctl("recordings", "list", "--json", "--as", "switch-test").stdout)
        assert recordings == []
        assert [p for p in (tmp_path / "recordings").rglob("*.wav") if "voice" not in p.parts] == []
