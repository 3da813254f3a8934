"""Supervisors on the real switch (`ccctl monitor`, docs/recordings.md): listen, whisper and barge.

The patient says 440 Hz, agent ann 1000 Hz, the supervisor (extension 1009, a registered phone) 1500 Hz.
While the supervisor is in the call the switch records what the supervisor's and ann's legs hear
(uuid_record, stereo: right is what the phone is sent); the call's own recording holds what the patient heard.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import sipp
from acd_records import ended_call, kinds
from heard import HEARD, tone_level
from switch_site import QUEUE_FLOW, SwitchSite, add_cardio_queue

PATIENT_HZ, AGENT_HZ, SUPERVISOR_HZ = 440, 1000, 1500
LISTEN_SECONDS = 4


@pytest.fixture
def site(tmp_path):
    with SwitchSite(tmp_path, {"main.yaml": QUEUE_FLOW}) as running:
        add_cardio_queue(running, no_answer_timeout=6)
        yield running


def leg_of(site: SwitchSite, extension: str) -> str:
    rows = json.loads(site.api("show channels as json") or "{}").get("rows", [])
    [uuid] = [
        row["uuid"] for row in rows if f"/{extension}@" in row.get("name", "") and row.get("application") != "eavesdrop"
    ]
    return uuid


def record_what_legs_hear(site: SwitchSite, legs: dict[str, str]) -> dict[str, Path]:
    """uuid_record each leg for LISTEN_SECONDS in stereo (left: what its phone sends, right: what it is sent)."""
    files = {}
    for name, uuid in legs.items():
        files[name] = site.root / f"heard-{name}.wav"
        site.api(f"uuid_setvar {uuid} RECORD_STEREO true")
        assert "+OK" in site.api(f"uuid_record {uuid} start {files[name]}"), name
    time.sleep(LISTEN_SECONDS)
    for name, uuid in legs.items():
        site.api(f"uuid_record {uuid} stop {files[name]}")
    return files


@pytest.mark.parametrize("mode", ["listen", "whisper", "barge"])
def test_a_supervisor_hears_the_call_and_is_heard_as_the_mode_says(site, mode):
    ann = site.agent_phone("1001", talk_ms=14000, voice_hz=AGENT_HZ)
    supervisor = site.agent_phone("1009", voice_hz=SUPERVISOR_HZ)
    site.ccctl("agents", "login", "ann")
    patient = site.patient([sipp.until_switch_hangs_up()], voice_hz=PATIENT_HZ)
    site.wait_for(lambda: ("answered", "ann") in kinds(site), 30, "ann talking to the patient")

    joined = site.ccctl("monitor", mode, "ann", "--from", "1009").stdout
    supervisor_leg = joined.split("supervisor channel ")[1].strip()
    heard = record_what_legs_hear(site, {"supervisor": supervisor_leg, "ann": leg_of(site, "1001")})
    assert patient.wait(40) == 0, patient.errors()
    assert ann.wait(10) == 0, ann.errors()
    assert supervisor.wait(10) == 0, supervisor.errors()

    sup = heard["supervisor"]
    assert tone_level(sup, PATIENT_HZ, 2) > HEARD and tone_level(sup, AGENT_HZ, 2) > HEARD, "the supervisor hears both"
    ann_hears = tone_level(heard["ann"], SUPERVISOR_HZ, 2)
    assert (ann_hears > HEARD) == (mode != "listen"), ann_hears
    call = ended_call(site)
    assert (call["disposition"], call["error"]) == ("completed", ""), call
    [recording] = json.loads(site.ccctl("recordings", "list", "--json", "--as", "switch-test").stdout)
    patient_hears = tone_level(Path(recording["path"]), SUPERVISOR_HZ, 2)
    assert (patient_hears > HEARD) == (mode == "barge"), patient_hears
