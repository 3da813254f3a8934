"""The emulator's TTS: `say:` and `speak` in the engines its modules load, and FreeSWITCH's failure for any other."""

from __future__ import annotations

from ccctl.sim.callers import CallerScript
from ccctl.sim.dialplan import Dialplan
from ccctl.sim.switch import Switch

TEXT = "您好，您前面还有三位。"


def _call(actions: str, tts_engines: frozenset[str] = frozenset({"flite", "tts_commandline"})):
    plan = Dialplan.from_xml(
        '<include><context name="default"><extension name="t"><condition field="destination_number" '
        f'expression="^7000$"><action application="answer"/>{actions}'
        '<action application="hangup"/></condition></extension></context></include>'
    )
    switch = Switch(plan, time_factor=200, hostname="vm", tts_engines=tts_engines)
    outcome = switch.place_call(CallerScript()).wait(10)
    assert outcome is not None
    return outcome


def _play(engine: str, voice: str) -> str:
    return (
        f'<action application="set" data="tts_engine={engine}"/><action application="set" data="tts_voice={voice}"/>'
        f'<action application="playback" data="say:{TEXT}"/>'
    )


def test_say_in_the_espeak_ng_engine_speaks_for_as_long_as_the_text():
    outcome = _call(_play("tts_commandline", "cmn") + '<action application="speak" data="tts_commandline|pl|Dzień"/>')
    assert outcome.hangup_cause == "NORMAL_CLEARING"
    assert outcome.prompts[-1] == "say:Dzień"
    assert outcome.duration > 0.7  # the Chinese text was heard


def test_an_engine_no_module_provides_plays_nothing_and_the_call_goes_on():
    outcome = _call(_play("cepstral", "ting") + '<action application="speak" data="cepstral|ting|Dzień"/>')
    assert outcome.hangup_cause == "NORMAL_CLEARING"
    assert outcome.duration < 0.4


def test_a_switch_without_mod_flite_cannot_speak_with_flite():
    spoken = _call(_play("flite", "slt"), tts_engines=frozenset({"tts_commandline"}))
    assert spoken.duration < 0.4
    assert _call(_play("flite", "slt")).duration > 0.7
