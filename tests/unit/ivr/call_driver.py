"""Drives a FlowRun the way the ESL session will: each Execute answered by a real CHANNEL_EXECUTE_COMPLETE event.

The caller is a script of keypad entries (one per play_and_get_digits; "" = silence);
play_and_get_digits arguments are split the way FreeSWITCH's switch_separate_string
splits them (blanks, single quotes, backslash escapes), so tests see what the switch sees.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from switch_side import encode_event_plain

from ccctl.callflow import AppResult, CallInfo, Execute, Finish
from ccctl.esl.protocol import parse_event_plain

CALL_UUID = "0b6c7f0e-5d43-4b8e-9a8e-2f0f1c3a9d11"
_UNESCAPE = {"n": "\n", "r": "\r", "t": "\t", "s": " "}


def fs_split(arg: str) -> list[str]:
    """An argument list as FreeSWITCH's blank-delimited splitter yields it."""
    tokens, current, quoted, i, started = [], [], False, 0, False
    while i < len(arg):
        c = arg[i]
        if c == "\\" and i + 1 < len(arg):
            current.append(arg[i : i + 2])
            i += 2
            started = True
            continue
        if c == "'":
            quoted = not quoted
        elif c == " " and not quoted:
            if started:
                tokens.append("".join(current))
                current, started = [], False
            i += 1
            continue
        current.append(c)
        started = True
        i += 1
    if started:
        tokens.append("".join(current))
    return [_clean(t) for t in tokens]


def _clean(token: str) -> str:
    """Drop the quotes and resolve escapes of one token (cleanup_separated_string)."""
    out, i, quoted = [], 0, False
    while i < len(token):
        c = token[i]
        if c == "\\" and i + 1 < len(token):
            nxt = token[i + 1]
            if nxt in "'\"\\" or nxt in _UNESCAPE:
                out.append(_UNESCAPE.get(nxt, nxt))
                i += 2
                continue
        if c == "'" and (quoted or "'" in token[i + 1 :]):
            quoted = not quoted
        else:
            out.append(c)
        i += 1
    return "".join(out)


def app_result(app: str, variables: dict[str, str] | None = None, response: str = "_none_") -> AppResult:
    headers = [
        ("Event-Name", "CHANNEL_EXECUTE_COMPLETE"),
        ("Unique-ID", CALL_UUID),
        ("Application", app),
        ("Application-Response", response),
    ]
    headers += [(f"variable_{name}", value) for name, value in (variables or {}).items()]
    return AppResult(app, response, parse_event_plain(encode_event_plain(headers)))


@dataclass
class ScriptedCaller:
    """Keys to press at each digit prompt, and how records and bridges end."""

    keys: list[str] = field(default_factory=list)
    record_ms: int = 8000
    bridge_answered: bool = True

    def result_for(self, command: Execute) -> AppResult:
        if command.app == "play_and_get_digits":
            var_name = fs_split(command.arg)[7]
            keys = self.keys.pop(0) if self.keys else ""
            if not keys:
                return app_result(command.app, {"read_result": "failure"})
            return app_result(command.app, {"read_result": "success", var_name: keys})
        if command.app == "record":
            return app_result(
                command.app, {"record_ms": str(self.record_ms), "record_seconds": str(self.record_ms // 1000)}
            )
        if command.app == "bridge":
            if self.bridge_answered:
                return app_result(
                    command.app, {"originate_disposition": "SUCCESS", "bridge_hangup_cause": "NORMAL_CLEARING"}
                )
            return app_result(command.app, {"originate_disposition": "USER_NOT_REGISTERED"})
        return app_result(command.app)


@dataclass
class CallOutcome:
    commands: list[Execute]
    finish: Finish
    path: list[str]

    def apps(self) -> list[str]:
        return [c.app for c in self.commands]

    def spoken(self) -> list[str]:
        """Every prompt the caller heard, as playback targets (digit prompts included)."""
        heard = []
        for command in self.commands:
            if command.app == "playback":
                heard.append(command.arg)
            elif command.app == "play_and_get_digits":
                heard.append(fs_split(command.arg)[5])
        return heard


def drive(app, caller: ScriptedCaller, caller_number: str = "13800000001", hotline: str = "main", max_steps: int = 300):
    """Run a call app to its Finish; returns what it sent."""
    call = CallInfo(CALL_UUID, caller_number, "7000", hotline)
    command = app.start(call)
    commands: list[Execute] = []
    for _ in range(max_steps):
        if isinstance(command, Finish):
            return CallOutcome(commands, command, list(app.path))
        commands.append(command)
        command = app.resume(caller.result_for(command))
    raise AssertionError(f"no Finish after {max_steps} commands; path {app.path}")


def start_call(app, caller_number: str = "13800000001", hotline: str = "main"):
    return app.start(CallInfo(CALL_UUID, caller_number, "7000", hotline))
