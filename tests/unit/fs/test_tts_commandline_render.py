"""The rendered mod_tts_commandline command: espeak-ng in the voice FreeSWITCH passes, safe from the text it speaks.

The command is run here the way mod_tts_commandline.c runs it: ${text}, ${voice} and ${file} replaced in that
order by switch_util_quote_shell_arg's single-quoted words, ${rate} by the number, the line given to /bin/sh.
"""

from __future__ import annotations

import shutil
import subprocess
import wave
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from fs_document import configuration
from fs_rendering import Rendered, example_settings

from ccctl.deploy.fs_render import render_all, tts_engines
from ccctl.ivr.prompt_audio import synthesize

needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="no espeak-ng (scripts/install.sh)")
needs_ffmpeg = pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="no ffmpeg (scripts/install.sh)")


def quote_shell_arg(value: str) -> str:
    """switch_util_quote_shell_arg on Unix: the value in single quotes, each ' as '\\''."""
    return "'" + value.replace("'", "'\\''") + "'"


def command_line(command: str, text: str, voice: str, rate: int, file: Path) -> str:
    """tts_commandline_speech_feed_tts's substitutions, in its order."""
    line = command.replace("${text}", quote_shell_arg(text))
    line = line.replace("${voice}", quote_shell_arg(voice))
    line = line.replace("${rate}", str(rate))
    return line.replace("${file}", quote_shell_arg(str(file)))


def rendered_command(tmp_path: Path) -> str:
    out = tmp_path / "conf"
    render_all(example_settings(), out)
    document = ET.parse(out / "autoload_configs" / "tts_commandline.conf.xml").getroot()
    [param] = document.findall("./settings/param")
    assert param.get("name") == "command"
    return param.get("value")


def seconds(path: Path) -> float:
    with wave.open(str(path)) as audio:
        return audio.getnframes() / audio.getframerate()


def test_a_flite_site_loads_mod_tts_commandline_beside_mod_flite(rendered: Rendered):
    modules = configuration(rendered.assembly.document(), "modules.conf")
    loaded = [load.get("module") for load in modules.findall("./modules/load")]
    assert "mod_tts_commandline" in loaded
    assert ("mod_flite" in loaded) == (rendered.settings.freeswitch.tts_engine == "flite")
    assert tts_engines(rendered.settings) == (
        {"flite", "tts_commandline"} if rendered.settings.freeswitch.tts_engine == "flite" else {"tts_commandline"}
    )


def test_the_command_runs_espeak_ng_in_the_voice_freeswitch_passes_and_reads_the_text_from_stdin(tmp_path):
    command = rendered_command(tmp_path)
    assert command == "printf '%s' ${text} | espeak-ng -b 1 -s 150 -v ${voice} --stdin -w ${file}"


@needs_espeak
@needs_ffmpeg
def test_the_switch_speaks_what_prompts_build_would_in_that_language(tmp_path):
    command = rendered_command(tmp_path)
    text = "Dzień dobry, Pani Zofio. Jest Pani trzecia w kolejce."
    heard = tmp_path / "heard.tmp.wav"
    subprocess.run(["/bin/sh", "-c", command_line(command, text, "pl", 8000, heard)], check=True, timeout=30)
    built = tmp_path / "built.wav"
    synthesize(text, "pl", built)
    assert abs(seconds(heard) - seconds(built)) < 0.05
    english = tmp_path / "english.tmp.wav"
    subprocess.run(["/bin/sh", "-c", command_line(command, text, "en-us", 8000, english)], check=True, timeout=30)
    assert abs(seconds(english) - seconds(heard)) > 0.3  # another voice reads the same text otherwise


@needs_espeak
def test_a_text_cannot_run_commands_or_reach_espeak_ngs_options(tmp_path):
    command = rendered_command(tmp_path)
    planted = tmp_path / "planted"
    hostile = [
        f"'; touch {planted}; echo '",
        f"$(touch {planted}) `touch {planted}` && touch {planted} | tee {planted}",
        f"-w {planted}",
        f"--stdout > {planted}",
    ]
    for number, text in enumerate(hostile):
        target = tmp_path / f"speech-{number}.tmp.wav"
        done = subprocess.run(
            ["/bin/sh", "-c", command_line(command, text, "en-us", 8000, target)],
            cwd=tmp_path,
            capture_output=True,
            timeout=30,
        )
        assert done.returncode == 0, done.stderr
        assert seconds(target) > 0.5, text  # the words were spoken, into FreeSWITCH's file
        assert not planted.exists(), text
