"""play_and_get_digits and read: switch_play_and_get_digits, switch_ivr_read, collect_digits_count.

Digits come from the channel's DTMF queue (the simulated patient's key presses or
uuid_send_dtmf); every dequeued digit fires a DTMF event, as in switch_channel.c.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from ccctl.sim.command_reader import atoi
from ccctl.sim.media import play_file, prompt_seconds

if TYPE_CHECKING:
    from ccctl.sim.session import Session

SUCCESS, TIMEOUT, TOO_SMALL, FALSE, RESTART = "success", "timeout", "too_small", "false", "restart"


def separate_args(data: str, limit: int) -> list[str]:
    """switch_separate_string on blanks: 'single quotes' group, backslash escapes, at most `limit` parts."""
    parts: list[str] = []
    i, n = 0, len(data)
    while i < n and len(parts) < limit:
        while i < n and data[i] == " ":
            i += 1
        if i >= n:
            break
        start, quoted = i, False
        if len(parts) == limit - 1:
            i = n  # the last part keeps the rest of the string
        while i < n:
            char = data[i]
            if char == "\\":
                i += 2
                continue
            if char == "'":
                quoted = not quoted
            elif char == " " and not quoted:
                break
            i += 1
        parts.append(_cleanup(data[start:i].rstrip(" ")))
    return parts


def _cleanup(text: str) -> str:
    """cleanup_separated_string: drop the quotes, resolve \\' \\" \\\\ \\n \\r \\t \\s."""
    out: list[str] = []
    i = 0
    escapes = {"'": "'", '"': '"', "\\": "\\", "n": "\n", "r": "\r", "t": "\t", "s": " "}
    quoted = False
    while i < len(text):
        char = text[i]
        if char == "\\" and i + 1 < len(text) and text[i + 1] in escapes:
            out.append(escapes[text[i + 1]])
            i += 2
            continue
        if char == "'" and (quoted or "'" in text[i + 1 :]):
            quoted = not quoted
        else:
            out.append(char)
        i += 1
    return "".join(out)


def ivr_read(
    session: Session,
    min_digits: int,
    max_digits: int,
    prompt: str | None,
    var_name: str | None,
    timeout_ms: int,
    terminators: str,
    digit_timeout_ms: int,
) -> tuple[str, str]:
    """switch_ivr_read: returns (status, digits) and sets read_result / read_terminator_used / var."""
    ch = session.channel
    digit_timeout_ms = digit_timeout_ms or timeout_ms
    max_digits = max(max_digits, min_digits)
    ch.set_var("read_result", None)
    if var_name:
        ch.set_var(var_name, None)
    ch.pre_answer()
    if prompt:
        session.prompts.append(prompt)
    if ch.patient is not None:
        length = prompt_seconds(session.switch.media, prompt) if prompt and prompt.lower() != "silence" else 0.0
        ch.patient.on_read(ch, length or 0.0)
    buf = ""
    status = SUCCESS
    if prompt and prompt.lower() != "silence":
        caught: list[str] = []
        played = play_file(session, prompt, lambda digit: bool(caught.append(digit)) or True)
        buf = "".join(caught)
        if played in ("notfound", "hangup", "error"):
            return _read_end(session, FALSE, buf, var_name, max_digits, terminators)
    terminator = ""
    if (min_digits and len(buf) < min_digits) or len(buf) < max_digits:
        first = digit_timeout_ms if buf else timeout_ms
        status, buf, terminator = collect_digits(session, buf, max_digits, terminators, first, digit_timeout_ms)
    if terminator:
        ch.set_var("read_terminator_used", terminator)
        at = terminators.find(terminator)
        if at >= 1 and terminators[at - 1] in "+x":
            buf += terminator
            if terminators[at - 1] == "x":
                status = RESTART
    elif terminators.startswith("="):
        status = TOO_SMALL
    if min_digits and len(buf) < min_digits:
        status = TOO_SMALL
    ch.set_var("read_result", {SUCCESS: "success", TIMEOUT: "timeout"}.get(status, "failure"))
    return _read_end(session, status, buf, var_name, max_digits, terminators)


def _read_end(session: Session, status: str, buf: str, var_name: str | None, max_digits: int, terms: str):
    if status != RESTART and max_digits == 1 and len(buf) == 1 and terms and buf in terms:
        buf = ""
    if var_name and buf:
        session.channel.set_var(var_name, buf)
    return status, buf


def collect_digits(
    session: Session, buf: str, max_digits: int, terminators: str, first_ms: int, digit_ms: int
) -> tuple[str, str, str]:
    """switch_ivr_collect_digits_count: (status, digits, terminator)."""
    ch = session.channel
    clock = session.switch.clock
    if len(buf) >= max_digits:
        return FALSE, buf, ""
    for i, char in enumerate(buf):
        if terminators and char in terminators:
            return SUCCESS, buf[:i], char
    eff_ms = first_ms if first_ms else digit_ms
    digit_ms = digit_ms or first_ms
    started = clock.now()
    while ch.up:
        remaining = eff_ms / 1000.0 - (clock.now() - started) if eff_ms else 3600.0
        if eff_ms and remaining <= 0:
            return TIMEOUT, buf, ""
        result = session.media_wait(remaining, dtmf_breaks=True)  # parses queued commands every frame
        if result == "hangup":
            break
        if result == "done":
            continue
        eff_ms, started = digit_ms, clock.now()
        while ch.has_dtmf():
            digit = ch.dequeue_dtmf()
            if terminators and digit in terminators:
                return SUCCESS, buf, digit
            buf += digit
            if len(buf) >= max_digits:
                return SUCCESS, buf, ""
    return FALSE, buf, ""


def play_and_get_digits(session: Session, data: str) -> None:
    """mod_dptools play_and_get_digits_function + switch_play_and_get_digits."""
    if not data:
        return
    argv = separate_args(data, 11) + [""] * 11
    min_digits = max(0, atoi(argv[0]))
    max_digits = max(atoi(argv[1]), min_digits)
    tries = atoi(argv[2])
    timeout = atoi(argv[3]) if argv[3] else 1000
    timeout = max(timeout, 1000)
    terminators = argv[4] or "#"
    prompt, invalid, var_name, regex = argv[5] or None, argv[6], argv[7] or None, argv[8]
    digit_timeout = max(0, atoi(argv[9]))
    ch = session.channel
    if regex and var_name:
        ch.set_var(var_name + "_invalid", None)
    while ch.up and tries > 0:
        status, buf = ivr_read(session, min_digits, max_digits, prompt, var_name, timeout, terminators, digit_timeout)
        if status == RESTART:
            return
        if status == TIMEOUT and len(buf) >= min_digits:
            status = SUCCESS
        if min_digits == 0 and not buf and ch.get_var("read_terminator_used") is not None:
            return
        if status == SUCCESS and buf:
            if not regex or _regex_match(buf, regex):
                return
            if var_name:
                ch.set_var(var_name, None)
                ch.set_var(var_name + "_invalid", buf)
        if not ch.up:
            break
        if invalid:
            session.prompts.append(invalid)
            play_file(session, invalid, None)
        tries -= 1
    if argv[10] and ch.up:
        parts = argv[10].split(" ")
        session.transfer_to = (parts[0], parts[2] if len(parts) > 2 else ch.context)


def _regex_match(text: str, pattern: str) -> bool:
    try:
        return re.search(pattern, text) is not None
    except re.error:
        return False


def read_app(session: Session, data: str) -> None:
    """mod_dptools read: <min> <max> <file> <var> <timeout> <terminators> <digit_timeout>."""
    argv = separate_args(data, 7) + [""] * 7
    min_digits = max(1, atoi(argv[0]))
    max_digits = max(atoi(argv[1]), min_digits)
    timeout = max(atoi(argv[4]) if argv[4] else 1000, 1000)
    terminators = argv[5] or "#"
    ivr_read(session, min_digits, max_digits, argv[2] or None, argv[3] or None, timeout, terminators, atoi(argv[6]))
