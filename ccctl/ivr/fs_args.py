"""Arguments for FreeSWITCH dialplan applications, safe from the switch's own parsing.

FreeSWITCH expands `${...}` in every application argument (switch_channel_expand_variables,
which can call API commands) and play_and_get_digits splits its argument on blanks
with single quotes and backslash escapes (switch_separate_string). Prompt text from
templates and caller data is made inert here instead of escaped, so no layer can undo it.
"""

from __future__ import annotations

import re

# characters FreeSWITCH gives meaning to in an argument; replaced by look-alikes a TTS voice reads the same
_TTS_REPLACEMENTS = str.maketrans(
    {
        "'": "\u2019",  # argument quoting
        "\\": " ",  # argument escapes (\n, \s, \')
        "{": "(",  # ${var} / ${api(...)} expansion and {var=value} file prefixes
        "}": ")",
        "|": "/",
    }
)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
_BLANKS = re.compile(r" {2,}")
# characters a file path may not hold: we could not pass it through the splitter unchanged
UNSAFE_PATH_CHARS = frozenset("'\\{}\n\r\t")

SILENCE = "silence_stream://250"
BEEP = "tone_stream://%(400,0,800)"
# the switch's own check only admits keypad characters; length and the admin's regex are checked in Python
KEYPAD_REGEX = "^[0-9*#]+$"


def tts_safe(text: str) -> str:
    """Text for `say:` that neither variable expansion nor argument splitting can alter."""
    text = _CONTROL.sub(" ", text).translate(_TTS_REPLACEMENTS)
    return _BLANKS.sub(" ", text).strip()


def say(text: str) -> str:
    """A playback target speaking text through the channel's tts_engine/tts_voice."""
    text = tts_safe(text)
    return f"say:{text}" if text else SILENCE


def quote_arg(value: str) -> str:
    """One argument of a blank-separated list; single-quoted when it holds blanks."""
    if any(c in UNSAFE_PATH_CHARS for c in value):
        raise ValueError("argument holds a quote, backslash, brace or control character")
    if value == "":
        return "''"
    return f"'{value}'" if " " in value else value


def play_and_get_digits_arg(
    *,
    min_digits: int,
    max_digits: int,
    tries: int,
    timeout_ms: int,
    terminators: str,
    prompt: str,
    invalid_prompt: str,
    var_name: str,
    regex: str,
    digit_timeout_ms: int,
) -> str:
    """mod_dptools order: min max tries timeout terminators file invalid_file var_name regexp digit_timeout."""
    parts = [
        str(min_digits),
        str(max_digits),
        str(tries),
        str(timeout_ms),
        quote_arg(terminators or "none"),
        quote_arg(prompt),
        quote_arg(invalid_prompt),
        quote_arg(var_name),
        quote_arg(regex),
        str(digit_timeout_ms),
    ]
    return " ".join(parts)


def record_arg(path: str, max_seconds: int, silence_threshold: int, silence_hits: int) -> str:
    """mod_dptools record: path [time_limit_secs] [silence_thresh] [silence_hits]."""
    return f"{quote_arg(path)} {max_seconds} {silence_threshold} {silence_hits}"
