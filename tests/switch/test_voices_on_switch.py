"""Voices on the real switch: a templated prompt in Polish is spoken by espeak-ng's Polish voice, not flite.

Two patients call at once: one the Polish hotline, one an English hotline whose flow says the same Polish text
(a flite site: flite reads it as English). The switch records what each is sent (uuid_record, stereo: right is
what the phone hears). The loudness envelope the Polish caller heard follows espeak-ng's own rendering of the
rendered text (`ccctl prompts build`'s voice), the flite caller's does not: the assertion fails if flite speaks.
"""

from __future__ import annotations

import array
import json
import math
import shutil
import wave
from pathlib import Path

import pytest
import sipp
from switch_site import SwitchSite

from ccctl.ivr.prompt_audio import synthesize

CALLER = "0612345678"
TEXT = "Dzień dobry. Numer {{ caller_number }}, jest Pan trzeci w kolejce."
SPOKEN = TEXT.replace("{{ caller_number }}", CALLER)
DIDS = ("7000", "7001")  # the Polish hotline, the English one
LEAD_IN_MS = 3000  # silence first: the test finds the channel and starts recording meanwhile


def flow(name: str, language: str) -> str:
    return f"""\
flow: {name}
description: a templated prompt in {language}
language: {language}
start: lead_in
nodes:
  lead_in:
    type: play
    prompt: "silence_stream://{LEAD_IN_MS}"
    next: hello
  hello:
    type: play
    prompt: "say:{TEXT}"
    next: bye
  bye:
    type: hangup
    prompt: "silence_stream://1000"
"""


FRAME_SAMPLES = 160  # 20 ms at 8 kHz
VOICED_RMS = 300.0  # 16-bit samples: speech is thousands, the silence between words tens


def envelope(path: Path, channel: int) -> list[float]:
    """RMS of each 20 ms frame of one channel (0-based) of a 16-bit 8 kHz WAV."""
    with wave.open(str(path)) as audio:
        assert (audio.getframerate(), audio.getsampwidth()) == (8000, 2), path
        channels = audio.getnchannels()
        samples = array.array("h", audio.readframes(audio.getnframes()))
    mine = samples[channel::channels]
    frames = [mine[i : i + FRAME_SAMPLES] for i in range(0, len(mine) - FRAME_SAMPLES + 1, FRAME_SAMPLES)]
    return [math.sqrt(sum(s * s for s in frame) / FRAME_SAMPLES) for frame in frames]


def speech(levels: list[float]) -> list[float]:
    """The frames from the first voiced one to the last."""
    voiced = [i for i, level in enumerate(levels) if level > VOICED_RMS]
    assert voiced, "nothing was heard"
    return levels[voiced[0] : voiced[-1] + 1]


def likeness(heard: list[float], reference: list[float]) -> float:
    """Pearson correlation of two envelopes over the reference's length (the shorter one padded with silence)."""
    heard = (heard + [0.0] * len(reference))[: len(reference)]
    mean_h, mean_r = sum(heard) / len(heard), sum(reference) / len(reference)
    cov = sum((h - mean_h) * (r - mean_r) for h, r in zip(heard, reference, strict=True))
    spread = math.sqrt(sum((h - mean_h) ** 2 for h in heard) * sum((r - mean_r) ** 2 for r in reference))
    return cov / spread if spread else 0.0


def channel_of(site: SwitchSite, did: str) -> str | None:
    rows = json.loads(site.api("show channels as json") or "{}").get("rows", [])
    found = [row["uuid"] for row in rows if row.get("name", "").startswith("sofia/trunk/") and row.get("dest") == did]
    return found[0] if found else None


@pytest.mark.skipif(shutil.which("espeak-ng") is None or shutil.which("ffmpeg") is None, reason="no espeak-ng/ffmpeg")
def test_a_polish_caller_hears_the_templated_prompt_in_espeak_ngs_polish_voice(tmp_path):
    flows = {"polish.yaml": flow("polish", "pl"), "english.yaml": flow("english", "en")}
    hotlines = [
        {"name": "polish", "did": "7000", "flow": "polish", "language": "pl"},
        {"name": "english", "did": "7001", "flow": "english", "language": "en"},
    ]
    with SwitchSite(tmp_path, flows, settings={"hotlines": hotlines}) as site:
        patients = {did: site.patient([sipp.until_switch_hangs_up()], caller=CALLER, did=did) for did in DIDS}
        heard = {}
        for did in patients:
            uuid = site.wait_for(lambda did=did: channel_of(site, did), 10, f"the call to {did}", every=0.1)
            heard[did] = site.root / f"heard-{did}.wav"
            site.api(f"uuid_setvar {uuid} RECORD_STEREO true")
            assert "+OK" in site.api(f"uuid_record {uuid} start {heard[did]}"), did
        for did, patient in patients.items():
            assert patient.wait(60) == 0, f"{did}: {patient.errors()}"
        calls = site.wait_for_calls(2)
        assert sorted(call["disposition"] for call in calls) == ["completed", "completed"], calls

    reference = tmp_path / "espeak-pl.wav"
    synthesize(SPOKEN, "pl", reference)  # what `ccctl prompts build` makes of the same text
    expected = speech(envelope(reference, 0))
    polish, flite = (speech(envelope(heard[did], 1)) for did in DIDS)
    seconds = {name: round(len(levels) * 0.02, 2) for name, levels in (("espeak-ng", expected), ("pl", polish))}
    assert abs(seconds["pl"] - seconds["espeak-ng"]) < 0.2, seconds
    assert likeness(polish, expected) > 0.8, likeness(polish, expected)
    # the same text read by flite (the English hotline of this flite site) is another voice altogether
    assert likeness(flite, expected) < 0.5, likeness(flite, expected)
