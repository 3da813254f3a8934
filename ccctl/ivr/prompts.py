"""Prompt sets (TTS text per language) and how a node's prompt becomes a playback target.

A prompt is written `say:Text {{ var }}` (TTS), `text:key` (the key in the caller's
language set: its recorded file when one exists, else the file `ccctl prompts build` made
from the current text, else the text spoken by the switch's TTS), `tone_stream://...`, or a
file path under the prompts dir. Sets live in <flows_dir>/prompt_text/<language>.yaml.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from ccctl.ivr.errors import FlowError
from ccctl.ivr.flow_yaml import LineDict, load_yaml
from ccctl.ivr.fs_args import UNSAFE_PATH_CHARS
from ccctl.ivr.templates import template_error

PROMPT_TEXT_DIR = "prompt_text"
RECORDED_SUFFIXES = (".wav", ".mp3")
BUILT_DIR = "built"  # <prompts_dir>/built/<language>/<key>.wav, made by `ccctl prompts build`
BUILT_MANIFEST = "manifest.json"  # key -> stamp of the text, voice and rate each file was made from
SAMPLE_RATE_HZ = 8000
ESPEAK_SPEED_WPM = 150
# espeak-ng names Mandarin "cmn"; other languages go by their own code
ESPEAK_VOICES = {"zh": "cmn", "en": "en-us"}
# the FreeSWITCH TTS engine whose command (tts_commandline.conf.xml, `ccctl fs render`) runs espeak-ng
ESPEAK_ENGINE = "tts_commandline"
FLITE_ENGINE = "flite"  # English voices only


@dataclass(frozen=True)
class PromptSet:
    """The prompt texts of one language, and recorded files that replace some of them."""

    language: str
    name: str
    source: str
    texts: Mapping[str, str]
    tts_engine: str = ""
    tts_voice: str = ""
    recorded: Mapping[str, str] = field(default_factory=dict)  # key -> absolute file path
    built: Mapping[str, str] = field(default_factory=dict)  # key -> absolute path, made from the current text

    def audio_file(self, key: str) -> str | None:
        """The file a `text:key` plays: an admin's recording first, then the built one."""
        return self.recorded.get(key) or self.built.get(key)


def espeak_voice(language: str) -> str:
    return ESPEAK_VOICES.get(language, language)


def language_voice(
    language: str, site_engine: str, site_voice: str, prompt_set: PromptSet | None = None
) -> tuple[str, str]:
    """FreeSWITCH's tts_engine and tts_voice for `say:` text in `language` (texts rendered per call).

    flite reads every text as English: on a flite site English keeps the site's flite voice and every
    other language is spoken by espeak-ng (mod_tts_commandline) with the voice `prompts build` uses for
    it; a tts_commandline site speaks English with espeak-ng too. A site on any other engine keeps its
    voice. The prompt set's own tts_engine / tts_voice win over both.
    """
    if site_engine == FLITE_ENGINE and language.split("-")[0] == "en":
        engine, voice = site_engine, site_voice
    elif site_engine in (FLITE_ENGINE, ESPEAK_ENGINE):
        engine, voice = ESPEAK_ENGINE, espeak_voice(language)
    else:
        engine, voice = site_engine, site_voice
    if prompt_set is not None:
        engine, voice = prompt_set.tts_engine or engine, prompt_set.tts_voice or voice
    return engine, voice


def site_voice(engine: str, voice: str) -> tuple[str, str]:
    """The voice a call has before its flow picks a language: the dialplan's, and the calls ccctl places."""
    return language_voice("en", engine, voice)


def built_stamp(language: str, text: str) -> str:
    """What a built file was made from; a file whose stamp differs from the current text's is stale."""
    made_from = f"{espeak_voice(language)}\n{ESPEAK_SPEED_WPM}\n{SAMPLE_RATE_HZ}\n{text}"
    return hashlib.sha256(made_from.encode()).hexdigest()


def _built_files(prompts_dir: Path, language: str, texts: Mapping[str, str]) -> dict[str, str]:
    folder = prompts_dir / BUILT_DIR / language
    try:
        manifest = json.loads((folder / BUILT_MANIFEST).read_text())
    except (OSError, ValueError):
        return {}
    built = {}
    for key, text in texts.items():
        file = folder / f"{key}.wav"
        if manifest.get(key) == built_stamp(language, text) and file.is_file():
            built[key] = str(file.resolve())
    return built


def _flatten(data: LineDict, prefix: str, out: dict[str, tuple[object, int]]) -> None:
    for key, value in data.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict):
            _flatten(value, dotted + ".", out)
        else:
            out[dotted] = (value, data.line_of(key))


def load_prompt_set(path: Path, display: str, prompts_dir: Path) -> tuple[PromptSet | None, list[FlowError]]:
    """One prompt_text/<lang>.yaml: `language`, `name`, optional `tts_engine`/`tts_voice`, `prompts`."""
    data, error = load_yaml(path, display)
    if error:
        return None, [error]
    if not isinstance(data, LineDict) or not isinstance(data.get("prompts"), LineDict):
        return None, [FlowError(display, None, None, "a prompt set needs a 'prompts' mapping of key: text")]
    errors: list[FlowError] = []
    unknown = set(data) - {"language", "name", "tts_engine", "tts_voice", "prompts"}
    for key in sorted(unknown, key=str):
        errors.append(FlowError(display, data.line_of(key), None, f"unknown key '{key}' in a prompt set"))
    texts: dict[str, str] = {}
    flat: dict[str, tuple[object, int]] = {}
    _flatten(data["prompts"], "", flat)
    for key, (value, line) in flat.items():
        if not isinstance(value, str):
            errors.append(FlowError(display, line, None, f"prompt '{key}' must be text, got {type(value).__name__}"))
            continue
        problem = template_error(value)
        if problem:
            errors.append(FlowError(display, line + problem[0] - 1, None, f"prompt '{key}': Jinja2: {problem[1]}"))
        texts[key] = value
    language = str(data.get("language") or path.stem)
    recorded = {}
    lang_dir = prompts_dir / language
    if lang_dir.is_dir():
        for file in sorted(lang_dir.iterdir()):
            if file.suffix in RECORDED_SUFFIXES and file.is_file():
                recorded[file.stem] = str(file.resolve())
    prompt_set = PromptSet(
        language=language,
        name=str(data.get("name") or language),
        source=display,
        texts=MappingProxyType(texts),
        tts_engine=str(data.get("tts_engine") or ""),
        tts_voice=str(data.get("tts_voice") or ""),
        recorded=MappingProxyType(recorded),
        built=MappingProxyType(_built_files(prompts_dir, language, texts)),
    )
    return prompt_set, errors


def load_prompt_sets(flows_dir: Path, prompts_dir: Path) -> tuple[dict[str, PromptSet], list[FlowError]]:
    """Every prompt set under <flows_dir>/prompt_text, by language."""
    sets: dict[str, PromptSet] = {}
    errors: list[FlowError] = []
    text_dir = flows_dir / PROMPT_TEXT_DIR
    if not text_dir.is_dir():
        return sets, errors
    for path in sorted(text_dir.glob("*.yaml")):
        prompt_set, found = load_prompt_set(path, str(path), prompts_dir)
        errors.extend(found)
        if prompt_set:
            if prompt_set.language in sets:
                errors.append(FlowError(str(path), None, None, f"language '{prompt_set.language}' has two sets"))
            sets[prompt_set.language] = prompt_set
    return sets, errors


def prompt_syntax_error(spec: str, *, files_allowed: bool = True) -> str | None:
    """What is wrong with how a prompt is written (not whether its file or text exists)."""
    if spec.startswith("say:"):
        problem = template_error(spec[4:])
        return f"Jinja2: {problem[1]}" if problem else None
    if spec.startswith("text:"):
        return None if spec[5:].strip() else "'text:' needs a prompt key"
    if not files_allowed:
        return f"must be 'say:' or 'text:' (TTS), got {spec!r}"
    if "://" in spec:
        return None
    if any(c in UNSAFE_PATH_CHARS for c in spec):
        return f"prompt file name {spec!r} holds a quote, backslash or brace"
    return None


def prompt_reference_error(
    spec: str, prompts_dir: Path, sets: Mapping[str, PromptSet], languages: list[str]
) -> str | None:
    """A prompt file that does not exist, or a text key missing from a language the flow uses."""
    if spec.startswith("say:") or "://" in spec:
        return None
    if spec.startswith("text:"):
        key = spec[5:].strip()
        no_set = [language for language in languages if language not in sets]
        if no_set:
            expected = ", ".join(f"{PROMPT_TEXT_DIR}/{language}.yaml" for language in no_set)
            return f"no prompt set for {_languages_named(no_set)} (expected {expected})"
        missing = [language for language in languages if not _has_prompt(sets[language], key)]
        if missing:
            sources = ", ".join(sets[language].source for language in missing)
            return f"prompt '{key}' has no text or recorded file in {_languages_named(missing)} ({sources})"
        return None
    if not (prompts_dir / spec).is_file():
        return f"prompt file '{spec}' does not exist under {prompts_dir}"
    return None


def _has_prompt(prompt_set: PromptSet, key: str) -> bool:
    return key in prompt_set.texts or prompt_set.audio_file(key) is not None


def _languages_named(languages: list[str]) -> str:
    quoted = ", ".join(f"'{language}'" for language in languages)
    return f"language {quoted}" if len(languages) == 1 else f"languages {quoted}"
