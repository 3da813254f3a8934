"""Call flows on the real switch: a patient walks the IVR, members log in by keypad, and hang-ups are recorded.

Prompts are short flite texts or tones so a call lasts seconds; every key is pressed while a
play_and_get_digits prompt runs or waits (a key that arrives during a plain `playback` is discarded).
"""

from __future__ import annotations

import re
import sqlite3
import subprocess

import pytest
import sipp
from switch_site import CCCTL, SwitchSite

WALK_FLOW = """\
flow: main
description: every kind of IVR node a non-member meets
language: en
start: hello
nodes:
  hello:
    type: play
    prompt: "tone_stream://%(200,0,440)"
    next: choose
  choose:
    type: menu
    prompt: "say:Press two"
    choices:
      "1": bye
      "2": general
    timeout: 5
    tries: 1
    on_failure: bye
  general:
    type: set
    values: {caller_type: general}
    next: route
  route:
    type: branch
    rules:
      - when: "caller_type == 'member'"
        next: bye
      - when: "caller_type == 'general'"
        next: fees
    default: bye
  fees:
    type: info
    answer: "say:No fee"
    next: bye
  bye:
    type: hangup
    prompt: "say:Goodbye"
"""

LOGIN_FLOW = """\
flow: main
description: member login
language: en
start: login
nodes:
  login:
    type: authenticate
    member_prompt: "say:Member number"
    pin_prompt: "say:PIN"
    wrong_pin_prompt: "tone_stream://%(200,0,440)"
    locked_prompt: "tone_stream://%(200,0,440)"
    member_min_length: 6
    member_max_length: 10
    pin_min_length: 4
    pin_max_length: 6
    attempts: 3
    timeout: 6
    on_success: member
    on_failure: failed
    on_locked: locked
  member:
    type: hangup
    prompt: "say:Welcome"
  failed:
    type: hangup
    prompt: "say:Sorry"
  locked:
    type: hangup
    prompt: "say:Locked"
"""

LONG_PROMPT_FLOW = """\
flow: main
description: a greeting, then a long announcement
language: en
start: hello
nodes:
  hello:
    type: play
    prompt: "tone_stream://%(200,0,440)"
    next: announcement
  announcement:
    type: play
    prompt: "tone_stream://%(20000,0,440)"
    next: bye
  bye:
    type: hangup
    prompt: "say:Goodbye"
"""

# SIPp plays each RFC 2833 key from one canned capture with fixed RTP sequence numbers, and
# FreeSWITCH drops an event whose sequence number is at most 100 below the last one it took
# (switch_rtp.c, handle_rfc2833): keys sent that way must rise 1 < 2 < ... < 9 < * < #, or drop far.
MEMBER_NUMBER = "12345678"
PIN = "2589"
WRONG_PIN = "1111"


def add_member(site: SwitchSite) -> str:
    """A member with MEMBER_NUMBER and PIN (never on a command line: set-pin reads standard input)."""
    code = site.ccctl(
        "patients", "add", "--given", "Anna", "--family", "Kowalska", "--member-number", MEMBER_NUMBER
    ).stdout.split()[-1]
    subprocess.run(
        [*CCCTL, "-c", str(site.config), "patients", "set-pin", code, "--pin-stdin"],
        cwd=site.root,
        input=PIN + "\n",
        text=True,
        capture_output=True,
        check=True,
        timeout=60,
    )
    return code


def pin_outcomes(site: SwitchSite) -> list[str]:
    with sqlite3.connect(site.root / "cc.db") as db:
        return [row[0] for row in db.execute("SELECT outcome FROM pin_attempts ORDER BY id")]


def keys_in_log(site: SwitchSite) -> str:
    """Every key FreeSWITCH wrote into its log, in order (switch_channel.c: "RECV DTMF <digit>:<duration>")."""
    return "".join(re.findall(r"RECV DTMF (.)", site.freeswitch_log()))


def test_a_caller_walks_menu_set_branch_and_info_and_the_call_completes_when_the_flow_hangs_up(tmp_path):
    with SwitchSite(tmp_path, {"main.yaml": WALK_FLOW}) as site:
        patient = site.patient([sipp.wait(1500), *sipp.press("2"), sipp.until_switch_hangs_up()])
        assert patient.wait(40) == 0, patient.errors()
        [call] = site.wait_for_calls(1)
        assert call["disposition"] == "completed", call
        assert call["path"] == ["hello", "choose", "general", "route", "route:rule2", "fees", "bye"], call


def login(site: SwitchSite, pins: list[str], telephone_event: bool = False) -> dict:
    """One call: the member number, then each PIN in turn; the call's record once the switch hung up."""
    press = sipp.press_rfc2833 if telephone_event else sipp.press
    steps = [sipp.wait(1000), *press(MEMBER_NUMBER + "#")]
    for pin in pins:
        # after a wrong PIN its short tone plays (playback drops keys): the next PIN comes well after it
        steps += [sipp.wait(2000), *press(pin + "#")]
    patient = site.patient([*steps, sipp.until_switch_hangs_up()], telephone_event=telephone_event)
    assert patient.wait(60) == 0, patient.errors()
    calls = site.wait_for_calls(sum(1 for run in site.sipps if run.name == "patient"))
    return calls[0]  # newest first


@pytest.mark.parametrize("telephone_event", [False, True], ids=["sip-info", "rfc2833"])
def test_a_member_logs_in_by_keypad_and_the_pin_never_reaches_the_freeswitch_log(tmp_path, telephone_event):
    with SwitchSite(tmp_path, {"main.yaml": LOGIN_FLOW}) as site:
        add_member(site)
        call = login(site, [PIN], telephone_event)
        assert call["disposition"] == "completed", call
        assert call["path"] == ["login", "login:pin", "login:ok", "member"], call
        assert pin_outcomes(site) == ["ok"]
        # switch_channel.c logs each key at INFO unless the channel has sensitive_dtmf=true
        assert PIN not in keys_in_log(site)
        assert "RECV DTMF" not in site.freeswitch_log()


def test_wrong_pins_lock_the_member_out_until_an_admin_unlocks_them(tmp_path):
    with SwitchSite(tmp_path, {"main.yaml": LOGIN_FLOW}, settings={"pins": {"max_failures": 2}}) as site:
        code = add_member(site)
        call = login(site, [WRONG_PIN, WRONG_PIN])
        assert call["path"] == ["login", "login:pin", "login:wrong", "login:pin", "login:locked", "locked"], call
        assert call["disposition"] == "completed", call
        # locked: even the right PIN is refused
        call = login(site, [PIN])
        assert call["path"][-2:] == ["login:locked", "locked"], call
        site.ccctl("patients", "unlock", code)
        call = login(site, [PIN])
        assert call["path"][-2:] == ["login:ok", "member"], call
        # the attempt that reached the limit was a wrong PIN (it counts); the right one while locked is refused
        assert pin_outcomes(site) == ["wrong", "wrong", "locked", "ok"]


def test_a_caller_who_hangs_up_mid_prompt_is_recorded_as_abandoned_with_the_path_so_far(tmp_path):
    with SwitchSite(tmp_path, {"main.yaml": LONG_PROMPT_FLOW}) as site:
        patient = site.patient([sipp.wait(2500), sipp.hang_up()])
        assert patient.wait(30) == 0, patient.errors()
        [call] = site.wait_for_calls(1)
        assert call["disposition"] == "abandoned", call
        assert call["path"] == ["hello", "announcement"], call
