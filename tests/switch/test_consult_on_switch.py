"""Expert consultation on the real switch (`ccctl consult`, docs/appointments.md): the caller, agent ann and an
expert in one mod_conference conference, each hearing the other two.

The patient says 440 Hz, ann 1000 Hz, the expert (extension 1011, a registered phone) 1500 Hz. While the three are
in the conference the switch records its mix (`conference NAME record`) and what each leg is sent (uuid_record,
stereo: right is what the phone hears); the call's own recording (the caller's record_session) is filed as usual.
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

PATIENT_HZ, AGENT_HZ, EXPERT_HZ = 440, 1000, 1500
VOICES = {"patient": PATIENT_HZ, "ann": AGENT_HZ, "expert": EXPERT_HZ}
LISTEN_SECONDS = 4


@pytest.fixture
def site(tmp_path):
    with SwitchSite(tmp_path, {"main.yaml": QUEUE_FLOW}) as running:
        add_cardio_queue(running, no_answer_timeout=6)
        yield running


def members(site: SwitchSite, conference: str) -> dict[str, str]:
    """who -> leg uuid, from `conference NAME list` (id;channel name;uuid;...)."""
    legs = {}
    for line in site.api(f"conference {conference} list").splitlines():
        fields = line.split(";")
        if len(fields) > 2:
            who = "ann" if "/1001@" in fields[1] else "expert" if "/1011@" in fields[1] else "patient"
            legs[who] = fields[2]
    return legs


def test_the_expert_joins_the_call_and_all_three_hear_each_other(site):
    ann = site.agent_phone("1001", voice_hz=AGENT_HZ)
    expert = site.agent_phone("1011", voice_hz=EXPERT_HZ)
    site.ccctl("agents", "login", "ann")
    patient = site.patient([sipp.until_switch_hangs_up()], voice_hz=PATIENT_HZ)
    site.wait_for(lambda: ("answered", "ann") in kinds(site), 30, "ann talking to the patient")

    joined = site.ccctl("consult", "ann", "--dial", "user/1011").stdout

    conference = joined.split("(conference ")[1].split(")")[0]
    legs = site.wait_for(lambda: (lambda m: m if len(m) == 3 else None)(members(site, conference)), 10, "3 members")
    mix = site.root / "consultation.wav"
    assert site.api(f"conference {conference} record {mix}").startswith(f"+OK Record file {mix}")
    heard = {}
    for who, uuid in legs.items():
        heard[who] = site.root / f"heard-{who}.wav"
        site.api(f"uuid_setvar {uuid} RECORD_STEREO true")
        assert "+OK" in site.api(f"uuid_record {uuid} start {heard[who]}"), who
    time.sleep(LISTEN_SECONDS)
    for who, uuid in legs.items():
        site.api(f"uuid_record {uuid} stop {heard[who]}")
    site.api(f"conference {conference} norecord all")
    assert site.api(f"conference {conference} hup all").count("+OK hup") == 3
    assert patient.wait(40) == 0, patient.errors()
    assert ann.wait(10) == 0, ann.errors()
    assert expert.wait(10) == 0, expert.errors()

    levels = {who: round(tone_level(mix, hz, 1), 3) for who, hz in VOICES.items()}
    assert all(level > HEARD for level in levels.values()), f"the conference's recording: {levels}"
    for who, path in heard.items():
        others = {other: round(tone_level(path, hz, 2), 3) for other, hz in VOICES.items() if other != who}
        assert all(level > HEARD for level in others.values()), f"{who} hears {others}"
    call = ended_call(site)
    assert (call["disposition"], call["error"]) == ("completed", ""), call
    [recording] = json.loads(site.ccctl("recordings", "list", "--json", "--as", "switch-test").stdout)
    assert tone_level(Path(recording["path"]), EXPERT_HZ, 2) > HEARD, "the call's recording holds the expert"
