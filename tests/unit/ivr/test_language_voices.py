"""Which TTS engine and voice speak a language's `say:` texts, and the `set` commands a flow sends to change them."""

from __future__ import annotations

import textwrap

from call_driver import CALL_UUID, ScriptedCaller
from memory_services import MemoryServices

from ccctl.callflow import CallInfo, Finish
from ccctl.ivr.prompt_audio import build_language
from ccctl.ivr.prompts import PromptSet, language_voice, site_voice
from ccctl.ivr.registry import FlowRegistry

FLITE_SITE = ("flite", "slt")
ESPEAK_SITE = ("tts_commandline", "kal")


def test_a_flite_site_keeps_flite_for_english_and_gives_every_other_language_espeak_ng():
    assert language_voice("en", *FLITE_SITE) == ("flite", "slt")
    assert language_voice("zh", *FLITE_SITE) == ("tts_commandline", "cmn")
    assert language_voice("pl", *FLITE_SITE) == ("tts_commandline", "pl")
    assert language_voice("de", *FLITE_SITE) == ("tts_commandline", "de")


def test_a_tts_commandline_site_speaks_english_with_espeak_ng_too():
    assert language_voice("en", *ESPEAK_SITE) == ("tts_commandline", "en-us")
    assert language_voice("zh", *ESPEAK_SITE) == ("tts_commandline", "cmn")
    assert site_voice(*ESPEAK_SITE) == ("tts_commandline", "en-us")
    assert site_voice(*FLITE_SITE) == FLITE_SITE


def test_another_engine_and_a_prompt_sets_own_voice_are_kept():
    assert language_voice("zh", "unimrcp", "ting") == ("unimrcp", "ting")
    own_voice = PromptSet("pl", "Polski", "pl.yaml", {}, tts_voice="pl+f3")
    assert language_voice("pl", *FLITE_SITE, own_voice) == ("tts_commandline", "pl+f3")
    own_engine = PromptSet("pl", "Polski", "pl.yaml", {}, tts_engine="flite", tts_voice="kal")
    assert language_voice("pl", *FLITE_SITE, own_engine) == ("flite", "kal")


def test_the_switch_speaks_a_language_with_the_voice_prompts_build_renders_it_in(tmp_path):
    prompt_set = PromptSet("zh", "中文", "zh.yaml", {"hello": "您好，{{ name }}"})
    report = build_language(prompt_set, tmp_path)  # a templated text only: nothing to synthesize
    assert report.templated == ["hello"]
    assert language_voice("zh", *FLITE_SITE)[1] == report.voice == "cmn"


def _flow_call(tmp_path, body: str, channel: dict[str, str]) -> list[tuple[str, str]]:
    flows = tmp_path / "flows"
    (flows / "prompt_text").mkdir(parents=True)
    for language, text in (("en", "Hello {{ caller_number }}"), ("zh", "您好"), ("pl", "Dzień dobry")):
        (flows / "prompt_text" / f"{language}.yaml").write_text(
            f'language: {language}\nprompts: {{hi: "{text}"}}\n', encoding="utf-8"
        )
    (flows / "main.yaml").write_text(textwrap.dedent(body), encoding="utf-8")
    registry = FlowRegistry(flows, services=MemoryServices(), recordings_dir=tmp_path / "rec")
    call = CallInfo(CALL_UUID, "13800000001", "7000", "main", variables=channel)
    app, caller = registry.app_factory(call), ScriptedCaller()
    command, sent = app.start(call), []
    while not isinstance(command, Finish):
        sent.append((command.app, command.arg))
        command = app.resume(caller.result_for(command))
    return sent


ZH_FLOW = """
flow: main
language: zh
start: hi
nodes:
  hi: {type: play, prompt: "text:hi", next: to_pl}
  to_pl: {type: set, values: {language: pl}, next: hi_pl}
  hi_pl: {type: play, prompt: "say:Dzień dobry {{ caller_number }}", next: to_en}
  to_en: {type: set, values: {language: en}, next: hi_en}
  hi_en: {type: play, prompt: "text:hi"}
"""


def test_a_chinese_flow_sets_the_mandarin_voice_before_it_speaks_and_each_language_switch_sets_its_own(tmp_path):
    sent = _flow_call(tmp_path, ZH_FLOW, {"tts_engine": "flite", "tts_voice": "slt"})
    assert sent == [
        ("answer", ""),
        ("set", "tts_engine=tts_commandline"),
        ("set", "tts_voice=cmn"),
        ("playback", "say:您好"),
        ("set", "tts_voice=pl"),
        ("playback", "say:Dzień dobry 13800000001"),
        ("set", "tts_engine=flite"),
        ("set", "tts_voice=slt"),
        ("playback", "say:Hello 13800000001"),
    ]


def test_an_english_flow_on_a_flite_site_sends_no_voice_commands(tmp_path):
    body = "flow: main\nlanguage: en\nstart: hi\nnodes:\n  hi: {type: play, prompt: 'text:hi'}\n"
    sent = _flow_call(tmp_path, body, {"tts_engine": "flite", "tts_voice": "slt"})
    assert sent == [("answer", ""), ("playback", "say:Hello 13800000001")]
