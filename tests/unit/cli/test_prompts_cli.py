"""`ccctl prompts build` speaks each language's prompt texts with real espeak-ng into 8 kHz mono WAV files,
the flows then play them, and `ccctl flow check` names every language a prompt is missing in."""

from __future__ import annotations

import shutil
import wave
from pathlib import Path

import pytest
from click.testing import CliRunner

from ccctl.cli import main
from ccctl.ivr.prompts import load_prompt_sets

pytestmark = pytest.mark.skipif(
    not (shutil.which("espeak-ng") and shutil.which("ffmpeg")), reason="espeak-ng and ffmpeg (scripts/install.sh)"
)

TEXTS = {
    "en": {"welcome": "Welcome to City Hospital.", "hello": "Hello {{ patient.display_name }}."},
    "zh": {"welcome": "欢迎致电市医院。", "hello": "您好 {{ patient.display_name }}。"},
    "pl": {"welcome": "Witamy w Szpitalu Miejskim.", "hello": "Dzień dobry {{ patient.display_name }}."},
}

FLOW = """flow: line
language: en
languages: [en, zh, pl]
start: welcome
nodes:
  welcome:
    type: play
    prompt: text:welcome
    next: goodbye
  goodbye:
    type: hangup
    prompt: text:goodbye
"""


@pytest.fixture
def ccctl(tmp_path: Path, monkeypatch):
    """`ccctl` on a settings file with no database: building and checking prompts needs none."""
    for name in ("CCCTL_CONFIG", "CCCTL_DATABASE__URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    settings = tmp_path / "ccctl.yaml"
    settings.write_text(f"flows_dir: {tmp_path / 'flows'}\n")
    return lambda *args: CliRunner().invoke(main, ["-c", str(settings), *args])


def write_flows(root: Path, texts: dict[str, dict[str, str]]) -> Path:
    flows = root / "flows"
    (flows / "prompt_text").mkdir(parents=True)
    for language, prompts in texts.items():
        lines = [f"language: {language}", "prompts:"] + [f'  {key}: "{text}"' for key, text in prompts.items()]
        (flows / "prompt_text" / f"{language}.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return flows


def test_build_renders_each_language_at_8_khz_mono_and_the_flows_play_the_files(ccctl, tmp_path):
    flows, prompts = write_flows(tmp_path, TEXTS), tmp_path / "prompts"
    recorded = prompts / "pl" / "welcome.wav"
    recorded.parent.mkdir(parents=True)
    recorded.write_bytes(b"RIFF an admin's recording")

    result = ccctl("prompts", "build", "--flows-dir", str(flows), "--prompts-dir", str(prompts))

    assert result.exit_code == 0, result.output
    assert "zh (espeak-ng voice cmn): 1 built, 0 unchanged, 0 recorded, 1 spoken by TTS" in result.output
    assert "pl (espeak-ng voice pl): 0 built, 0 unchanged, 1 recorded, 1 spoken by TTS" in result.output
    for language in ("en", "zh"):
        with wave.open(str(prompts / "built" / language / "welcome.wav"), "rb") as audio:
            assert audio.getframerate() == 8000
            assert audio.getnchannels() == 1
            assert audio.getsampwidth() == 2
            assert audio.getnframes() / audio.getframerate() > 0.5
    assert not (prompts / "built" / "pl" / "welcome.wav").exists()
    assert recorded.read_bytes() == b"RIFF an admin's recording"
    assert not (prompts / "built" / "en" / "hello.wav").exists()  # templated: TTS during the call

    sets, errors = load_prompt_sets(flows, prompts)
    assert errors == []
    assert sets["zh"].audio_file("welcome") == str((prompts / "built" / "zh" / "welcome.wav").resolve())
    assert sets["pl"].audio_file("welcome") == str(recorded.resolve())
    assert sets["en"].audio_file("hello") is None

    again = ccctl("prompts", "build", "--lang", "zh", "--flows-dir", str(flows), "--prompts-dir", str(prompts))
    assert again.exit_code == 0, again.output
    assert "zh (espeak-ng voice cmn): 0 built, 1 unchanged" in again.output
    assert "en (" not in again.output


def test_an_edited_text_no_longer_plays_its_old_file_until_built_again(ccctl, tmp_path):
    flows, prompts = write_flows(tmp_path, {"en": TEXTS["en"]}), tmp_path / "prompts"
    assert ccctl("prompts", "build", "--flows-dir", str(flows), "--prompts-dir", str(prompts)).exit_code == 0
    en_yaml = flows / "prompt_text" / "en.yaml"
    en_yaml.write_text(en_yaml.read_text().replace("Welcome to", "Welcome again to"))

    sets, _ = load_prompt_sets(flows, prompts)
    assert sets["en"].audio_file("welcome") is None


def test_build_names_an_unknown_language(ccctl, tmp_path):
    flows = write_flows(tmp_path, {"en": TEXTS["en"]})
    result = ccctl("prompts", "build", "--lang", "de", "--flows-dir", str(flows), "--prompts-dir", str(tmp_path))
    assert result.exit_code == 1
    assert f"ccctl: no prompt set for de in {flows}/prompt_text (have: en)" in result.output


def test_flow_check_names_every_language_a_prompt_is_missing_in_with_file_and_line(ccctl, tmp_path):
    flows = write_flows(
        tmp_path,
        {"en": {"welcome": "Hi", "goodbye": "Bye"}, "zh": {"welcome": "您好"}, "pl": {"welcome": "Cześć"}},
    )
    (flows / "line.yaml").write_text(FLOW)
    prompts = tmp_path / "prompts"

    result = ccctl("flow", "check", "--flows-dir", str(flows), "--prompts-dir", str(prompts))

    assert result.exit_code == 1
    assert (
        f"{flows / 'line.yaml'}:12: node 'goodbye': 'prompt': prompt 'goodbye' has no text or recorded file in "
        f"languages 'zh', 'pl'"
    ) in result.output

    (prompts / "zh").mkdir(parents=True)
    (prompts / "zh" / "goodbye.wav").write_bytes(b"RIFF")
    result = ccctl("flow", "check", "--flows-dir", str(flows), "--prompts-dir", str(prompts))
    assert "in language 'pl' (" in result.output


def test_flow_check_notes_the_texts_flite_would_read_in_english_until_they_are_built(ccctl, tmp_path):
    flows = write_flows(
        tmp_path, {"en": {"welcome": "Hi", "goodbye": "Bye"}, "zh": {"welcome": "您好", "goodbye": "再见"}}
    )
    (flows / "line.yaml").write_text(FLOW.replace("[en, zh, pl]", "[en, zh]"))
    prompts = tmp_path / "prompts"
    check = ("flow", "check", "--flows-dir", str(flows), "--prompts-dir", str(prompts))
    # espeak-ng reads a set's texts in its language unless the set names flite for itself
    assert ccctl(*check).stderr == ""
    zh = flows / "prompt_text" / "zh.yaml"
    zh.write_text("tts_engine: flite\n" + zh.read_text(encoding="utf-8"), encoding="utf-8")

    before = ccctl(*check)
    assert (before.exit_code, before.stdout) == (0, "1 flow OK\n")
    assert before.stderr == (
        "note: prompt texts with no audio file (2 in zh) would be read by flite's English voice: "
        "run ccctl prompts build\n"
    )

    assert (
        ccctl("prompts", "build", "--lang", "zh", "--flows-dir", str(flows), "--prompts-dir", str(prompts)).exit_code
        == 0
    )
    after = ccctl(*check)
    assert (after.exit_code, after.stdout, after.stderr) == (0, "1 flow OK\n", "")
