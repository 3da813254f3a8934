"""The minimal call flow that proves the path until YAML flows run (issue 3 replaces it).

Answer, play a welcome prompt, collect one digit, say goodbye, hang up. Prompts are
`say:` text, spoken by the TTS engine the dialplan sets (tts_engine, tts_voice).
"""

from __future__ import annotations

from ccctl.callflow import AppResult, CallInfo, Command, Execute, Finish

WELCOME = "say:Welcome to the hospital hotline."
DIGIT_PROMPT = "say:Press 1 for appointments, 2 for information."
INVALID = "say:Sorry, that was not a choice."
GOODBYE = "say:Thank you for calling. Goodbye."


class WelcomeFlow:
    """answer -> playback -> play_and_get_digits (1 digit) -> playback -> Finish."""

    def __init__(self) -> None:
        self.path: list[str] = []
        self.digit = ""
        self._steps = iter(self._script())
        self._last: AppResult | None = None

    def _script(self):
        self.path.append("answer")
        yield Execute("answer")
        self.path.append("welcome")
        yield Execute("playback", WELCOME)
        self.path.append("choice")
        yield Execute(
            "play_and_get_digits",
            f"1 1 3 5000 # '{DIGIT_PROMPT}' '{INVALID}' cc_choice \\d 2000",
        )
        self.digit = self._last.variable("cc_choice") if self._last else ""
        self.path.append(f"choice={self.digit or 'none'}")
        yield Execute("playback", GOODBYE)
        self.path.append("goodbye")
        yield Finish("completed")

    def start(self, call: CallInfo) -> Command:
        return next(self._steps)

    def resume(self, result: AppResult) -> Command:
        self._last = result
        return next(self._steps)
