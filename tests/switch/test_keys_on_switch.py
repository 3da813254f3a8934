"""Keys on the real switch: a patient's keypad reaches the flow, and never FreeSWITCH's log."""

from __future__ import annotations

import pytest
import sipp
from switch_site import SwitchSite

MENU_FLOW = """\
flow: main
description: one menu
language: en
start: choose
nodes:
  choose:
    type: menu
    prompt: "say:Press one"
    choices:
      "1": bye
    timeout: 5
    on_failure: nothing
  nothing:
    type: hangup
    prompt: "say:No key"
  bye:
    type: hangup
    prompt: "say:Goodbye"
"""


@pytest.mark.parametrize("rfc2833", [False, True], ids=["sip-info", "rfc2833"])
def test_a_key_reaches_the_menu_and_never_the_freeswitch_log(tmp_path, rfc2833):
    keys = sipp.press_rfc2833("1") if rfc2833 else sipp.press("1")
    with SwitchSite(tmp_path, {"main.yaml": MENU_FLOW}) as site:
        patient = site.patient([sipp.wait(1500), *keys, sipp.until_switch_hangs_up()], telephone_event=rfc2833)
        assert patient.wait(40) == 0, patient.errors()
        [call] = site.wait_for_calls(1)
        assert call["path"] == ["choose", "bye"], call  # the key was heard: not the no-input branch
        # switch_channel.c logs every key as "RECV DTMF <digit>" unless the channel has sensitive_dtmf=true:
        # typed PINs would sit in freeswitch.log
        assert "RECV DTMF" not in site.freeswitch_log()
