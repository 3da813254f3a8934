"""The minimal call flow, on every hotline when ccctl runs without flows or a database.

Answer, play a welcome prompt, collect one digit, say goodbye, hang up. Prompts are
`say:` text, spoken by the TTS engine the dialplan sets (tts_engine, tts_voice).
"""

from __future__ import annotations

from ccctl.callflow import CallInfo, Execute, Steps, StepsApp

WELCOME = "say:Welcome to the hospital hotline."
DIGIT_PROMPT = "say:Press 1 for appointments, 2 for information."
INVALID = "say:Sorry, that was not a choice."
GOODBYE = "say:Thank you for calling. Goodbye."


class WelcomeFlow(StepsApp):
    """answer -> playback -> play_and_get_digits (1 digit) -> playback -> Finish."""

    def __init__(self) -> None:
        super().__init__()
        self.digit = ""

    def steps(self, call: CallInfo) -> Steps:
        self.path.append("answer")
        yield Execute("answer")
        self.path.append("welcome")
        yield Execute("playback", WELCOME)
        self.path.append("choice")
        result = yield Execute(
            "play_and_get_digits",
            f"1 1 3 5000 # '{DIGIT_PROMPT}' '{INVALID}' cc_choice \\d 2000",
        )
        self.digit = result.variable("cc_choice") if result else ""
        self.path.append(f"choice={self.digit or 'none'}")
        yield Execute("playback", GOODBYE)
        self.path.append("goodbye")
