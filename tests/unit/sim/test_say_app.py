"""The emulator's `say` application: what mod_say would say for a date, in which zone, and what it ignores."""

from __future__ import annotations

import datetime as dt

from ccctl.sim.callers import CallerScript
from ccctl.sim.dialplan import Dialplan
from ccctl.sim.switch import Switch

# 2026-12-08 01:30 UTC: 09:30 on a Tuesday in Shanghai, still Monday evening in New York
VISIT_EPOCH = int(dt.datetime(2026, 12, 8, 1, 30, tzinfo=dt.UTC).timestamp())


def _said(actions: str) -> list[str]:
    plan = Dialplan.from_xml(
        '<include><context name="default"><extension name="t"><condition field="destination_number" '
        f'expression="^7000$"><action application="answer"/>{actions}'
        '<action application="hangup"/></condition></extension></context></include>'
    )
    switch = Switch(plan, time_factor=200, hostname="vm")
    handle = switch.place_call(CallerScript())
    outcome = handle.wait(10)
    assert outcome is not None
    assert outcome.hangup_cause == "NORMAL_CLEARING"  # say never ends the call, whatever it was given
    return outcome.prompts


def _say(data: str) -> str:
    return f'<action application="say" data="{data}"/>'


def test_a_date_is_said_in_the_channels_timezone():
    prompts = _said(
        '<action application="set" data="timezone=Asia/Shanghai"/>'
        + _say(f"zh CURRENT_DATE_TIME PRONOUNCED {VISIT_EPOCH}")
        + '<action application="set" data="timezone=America/New_York"/>'
        + _say(f"pl:pl current_date pronounced {VISIT_EPOCH}")
    )
    assert prompts == ["say_app:zh CURRENT_DATE_TIME 2026-12-08 Tue 09:30", "say_app:pl CURRENT_DATE 2026-12-07 Mon"]


def test_without_a_timezone_the_switchs_local_time_is_said():
    local = dt.datetime.fromtimestamp(VISIT_EPOCH).astimezone().strftime("%H:%M")
    assert _said(_say(f"en CURRENT_TIME PRONOUNCED {VISIT_EPOCH}")) == [f"say_app:en CURRENT_TIME {local}"]


def test_wrong_argument_counts_and_unknown_languages_say_nothing():
    prompts = _said(
        _say(f"zh CURRENT_DATE_TIME {VISIT_EPOCH}")  # 3 arguments: the usage is logged
        + _say(f"de CURRENT_DATE_TIME PRONOUNCED {VISIT_EPOCH}")  # no say module for German
        + _say("en NUMBER PRONOUNCED 42")
    )
    assert prompts == ["say_app:en NUMBER 42"]
