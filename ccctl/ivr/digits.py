"""Keypad input: one play_and_get_digits per try, judged here, retried by the node.

The switch is asked for one try with a permissive keypad regex; length, choices and
the admin's regex are checked in Python, so the outcome (ok / invalid / no input) and
the prompts for each are the flow's, and a stale variable from an earlier read can
never be mistaken for new input (read_result is 'success' only when digits arrived).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Generator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ccctl.callflow import AppResult, Command, Execute
from ccctl.ivr.fs_args import KEYPAD_REGEX, SILENCE, play_and_get_digits_arg
from ccctl.ivr.run_context import RunContext

if TYPE_CHECKING:
    from ccctl.ivr.nodes.base import Node

OK, INVALID, NO_INPUT = "ok", "invalid", "no_input"


@dataclass(frozen=True)
class DigitRequest:
    """How to ask for digits once."""

    var_name: str
    prompt: str | None  # as written in the flow
    max_digits: int
    timeout: float = 5.0
    digit_timeout: float = 3.0
    terminators: str = "#"
    secret: bool = False  # a PIN: redacted command, variable cleared right after
    clear: bool = False  # patient data (a member number): variable cleared right after


@dataclass(frozen=True)
class DigitRead:
    outcome: str  # ok, invalid, no_input
    digits: str = ""

    def __repr__(self) -> str:  # digits may be a PIN: keep them out of reprs and tracebacks
        return f"DigitRead({self.outcome})"


def read_once(
    ctx: RunContext, request: DigitRequest, accept: Callable[[str], bool]
) -> Generator[Command, AppResult, DigitRead]:
    arg = play_and_get_digits_arg(
        min_digits=1,
        max_digits=request.max_digits,
        tries=1,
        timeout_ms=int(request.timeout * 1000),
        terminators=request.terminators,
        prompt=ctx.playback(request.prompt),
        invalid_prompt=SILENCE,
        var_name=request.var_name,
        regex=KEYPAD_REGEX,
        digit_timeout_ms=int(request.digit_timeout * 1000),
    )
    result = yield Execute("play_and_get_digits", arg, redacted=request.secret)
    success = result.variable("read_result") == "success"
    digits = result.variable(request.var_name) if success else ""
    invalid = result.variable(request.var_name + "_invalid")
    if request.secret or request.clear:
        # every later event of the call would carry it in its channel variables
        for name in (request.var_name, request.var_name + "_invalid"):
            yield Execute("unset", name, redacted=request.secret)
    if digits:
        return DigitRead(OK, digits) if accept(digits) else DigitRead(INVALID)
    return DigitRead(INVALID if invalid else NO_INPUT)


def ask(
    ctx: RunContext,
    node_name: str,
    request: DigitRequest,
    accept: Callable[[str], bool],
    *,
    tries: int,
    invalid_prompt: str | None,
    no_input_prompt: str | None,
) -> Generator[Command, AppResult, str | None]:
    """Up to `tries` reads; the accepted digits, or None when every try failed."""
    for attempt in range(max(tries, 1)):
        read = yield from read_once(ctx, request, accept)
        if read.outcome == OK:
            return read.digits
        ctx.visit(f"{node_name}:{read.outcome}")
        retry_prompt = invalid_prompt if read.outcome == INVALID else (no_input_prompt or invalid_prompt)
        if attempt + 1 < tries and retry_prompt:
            yield Execute("playback", ctx.playback(retry_prompt))
    return None


def ask_node(
    ctx: RunContext, node: Node, request: DigitRequest, accept: Callable[[str], bool]
) -> Generator[Command, AppResult, str | None]:
    """ask() with the node's own `tries`, `invalid_prompt` and `no_input_prompt`."""
    return (
        yield from ask(
            ctx,
            node.name,
            request,
            accept,
            tries=node.get("tries"),
            invalid_prompt=node.get("invalid_prompt"),
            no_input_prompt=node.get("no_input_prompt"),
        )
    )


def ask_key(
    ctx: RunContext, node: Node, keys: Collection[str], prompt: str | None = None
) -> Generator[Command, AppResult, str | None]:
    """One key among `keys` with the node's prompt, timeout, tries and retry prompts (menus, topic choices);
    None when every try failed. '#' is a key here only when the node offers it."""
    request = DigitRequest(
        var_name=f"cc_{node.name}",
        prompt=prompt if prompt is not None else node.get("prompt"),
        max_digits=1,
        timeout=node.get("timeout"),
        terminators="none" if "#" in keys else "#",
    )
    return (yield from ask_node(ctx, node, request, lambda digits: digits in keys))
