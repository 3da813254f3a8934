"""Load on the real switch: 20 new callers a second for a minute, each through a short IVR.

Every one of the 1,200 calls must go as its caller scripted it (SIPp counts none failed) and leave
one `completed` call record with the key's path: the switch's session limits and the controller keep up.
"""

from __future__ import annotations

import csv
import json
import time

import sipp
from switch_site import SwitchSite

CALLS = 1200
RATE_PER_SECOND = 20

SHORT_FLOW = """\
flow: main
description: answer, a short tone, one key, hang up
language: en
start: choose
nodes:
  choose:
    type: menu
    prompt: "tone_stream://%(300,0,440)"
    choices:
      "1": bye
    timeout: 3
    tries: 1
    on_failure: no_key
  no_key:
    type: hangup
  bye:
    type: hangup
"""


def last_key(digit: str) -> sipp.Step:
    """The key that ends the call: the switch may send its BYE before its 200 to the INFO (two sofia
    threads, no order between them), so that 200 is optional and the BYE is what the patient waits for."""
    [info, _pause] = sipp.press(digit, gap_ms=0)
    xml = info.xml.replace('<recv response="200"/>', '<recv response="200" optional="true"/>')
    assert xml != info.xml
    return sipp.Step(xml, requests=info.requests)


def sipp_totals(stat_file) -> dict[str, int]:
    """SIPp's last statistics row (-trace_stat): cumulative created, successful and failed calls."""
    with stat_file.open(newline="") as f:
        rows = list(csv.DictReader(f, delimiter=";"))
    last = rows[-1]
    return {name: int(last[f"{name}(C)"]) for name in ("OutgoingCall", "SuccessfulCall", "FailedCall")}


def test_twenty_calls_a_second_for_a_minute_through_the_ivr_all_complete(tmp_path):
    with SwitchSite(tmp_path, {"main.yaml": SHORT_FLOW}, settings={"log_level": "INFO"}) as site:
        started = time.monotonic()
        patients = site.patient(
            [sipp.wait(800), last_key("1"), sipp.until_switch_hangs_up()],
            calls=CALLS,
            rate=RATE_PER_SECOND,
            extra=["-trace_stat", "-stf", "stats.csv", "-fd", "5"],
        )
        code = patients.wait(CALLS / RATE_PER_SECOND + 40)
        sent_seconds = time.monotonic() - started
        totals = sipp_totals(patients.workdir / "stats.csv")
        assert (code, totals["FailedCall"]) == (0, 0), (totals, patients.errors())
        assert totals["SuccessfulCall"] == CALLS, totals

        def all_recorded():
            calls = json.loads(site.ccctl("calls", "list", "--json", "--limit", str(CALLS * 2)).stdout)
            return calls if len(calls) >= CALLS else None

        calls = site.wait_for(all_recorded, 30, f"{CALLS} call records", every=2)
        assert len(calls) == CALLS
        dispositions = {call["disposition"] for call in calls}
        assert dispositions == {"completed"}, [c for c in calls if c["disposition"] != "completed"][:3]
        assert all(call["path"] == ["choose", "bye"] for call in calls), [
            c["path"] for c in calls if c["path"] != ["choose", "bye"]
        ][:3]
        print(f"{CALLS} calls at {RATE_PER_SECOND}/s: SIPp done in {sent_seconds:.1f} s, {totals}")
