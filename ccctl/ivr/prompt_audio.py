"""Prompt texts rendered to audio files: espeak-ng speaks each language, ffmpeg brings it to the switch's rate.

FreeSWITCH plays an 8 kHz mono WAV to a PCMU/PCMA caller without resampling, and a voice of
the caller's language reads Chinese and Polish as they are written (flite knows only English).
Built files live in <prompts_dir>/built/<language>/<key>.wav; a recording an admin puts at
<prompts_dir>/<language>/<key>.wav wins over them and is never touched by a build.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from ccctl.errors import UserError
from ccctl.ivr.prompts import (
    BUILT_DIR,
    BUILT_MANIFEST,
    ESPEAK_SPEED_WPM,
    SAMPLE_RATE_HZ,
    PromptSet,
    built_stamp,
    espeak_voice,
)

TOOL_SECONDS = 60


class PromptBuildError(UserError):
    """A prompt could not be synthesized (the tool is missing or failed)."""


@dataclass
class BuildReport:
    """What one language's build did, by prompt key (never the texts)."""

    language: str
    voice: str
    built: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    recorded: list[str] = field(default_factory=list)  # an admin's recording replaces the text
    templated: list[str] = field(default_factory=list)  # {{ ... }}: spoken by TTS during the call
    removed: list[str] = field(default_factory=list)


def is_templated(text: str) -> bool:
    return "{{" in text or "{%" in text


def _tool(name: str) -> str:
    path = shutil.which(name)
    if not path:
        raise PromptBuildError(f"prompts build needs {name} on PATH (Debian package {name}; scripts/install.sh)")
    return path


def synthesize(text: str, voice: str, target: Path) -> None:
    """Speak text with espeak-ng's voice into target, an 8 kHz mono 16-bit WAV."""
    espeak, ffmpeg = _tool("espeak-ng"), _tool("ffmpeg")
    with tempfile.TemporaryDirectory(prefix="ccctl-prompt-") as scratch:
        spoken = Path(scratch) / "spoken.wav"
        # the text goes on stdin: never on a command line another user can read
        done = subprocess.run(
            [espeak, "-v", voice, "-s", str(ESPEAK_SPEED_WPM), "-w", str(spoken), "--stdin"],
            input=text.encode(),
            capture_output=True,
            timeout=TOOL_SECONDS,
            check=False,
        )
        if done.returncode != 0 or not spoken.is_file():
            raise PromptBuildError(f"espeak-ng voice '{voice}' failed: {done.stderr.decode(errors='replace').strip()}")
        partial = target.with_suffix(".part.wav")
        done = subprocess.run(
            [ffmpeg, "-nostdin", "-loglevel", "error", "-y", "-i", str(spoken), "-ar", str(SAMPLE_RATE_HZ), "-ac", "1"]
            + ["-c:a", "pcm_s16le", "-map_metadata", "-1", "-fflags", "+bitexact", str(partial)],
            capture_output=True,
            timeout=TOOL_SECONDS,
            check=False,
        )
        if done.returncode != 0:
            partial.unlink(missing_ok=True)
            raise PromptBuildError(f"ffmpeg could not resample {target.name}: {done.stderr.decode().strip()}")
        partial.replace(target)


def unvoiced(prompt_set: PromptSet) -> list[str]:
    """The keys `prompts build` would voice that have no file yet (the switch's TTS reads them)."""
    return [
        key for key, text in prompt_set.texts.items() if not is_templated(text) and prompt_set.audio_file(key) is None
    ]


def build_language(prompt_set: PromptSet, prompts_dir: Path, *, force: bool = False) -> BuildReport:
    """Render one prompt set; a text unchanged since the last build keeps its file."""
    voice = espeak_voice(prompt_set.language)
    report = BuildReport(prompt_set.language, voice)
    out_dir = prompts_dir / BUILT_DIR / prompt_set.language
    out_dir.mkdir(parents=True, exist_ok=True)
    manifest_path = out_dir / BUILT_MANIFEST
    old = json.loads(manifest_path.read_text()) if manifest_path.is_file() else {}
    manifest: dict[str, str] = {}
    for key, text in sorted(prompt_set.texts.items()):
        if key in prompt_set.recorded:
            report.recorded.append(key)
            continue
        if is_templated(text):
            report.templated.append(key)
            continue
        target = out_dir / f"{key}.wav"
        stamp = built_stamp(prompt_set.language, text)
        if not force and old.get(key) == stamp and target.is_file():
            report.unchanged.append(key)
        else:
            synthesize(text, voice, target)
            report.built.append(key)
        manifest[key] = stamp
    for key in sorted(set(old) - set(manifest)):
        (out_dir / f"{key}.wav").unlink(missing_ok=True)
        report.removed.append(key)
    manifest_path.write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    return report


def build_prompts(sets: Iterable[PromptSet], prompts_dir: Path, *, force: bool = False) -> list[BuildReport]:
    return [build_language(prompt_set, prompts_dir, force=force) for prompt_set in sets]
