"""What a queued caller hears while waiting, in the language of their call: the flow's prompt set speaks for the ACD.

The queue node makes one from its call and hands it to the ACD's hold loop, which knows the
position and the callback key but not the caller's language. Each text is a prompt key, so
`ccctl prompts build` gives it a real voice; a number that varies picks one key per value
(`queue.position.3`, `queue.expected_wait.2`, `queue.callback_offer.1`) for the same reason. A set without the key
falls back to English TTS.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

# prompt key and template values -> playback target; "" when the caller's prompt set lacks the key
Speaker = Callable[[str, Mapping[str, object]], str]


def _nothing(key: str, values: Mapping[str, object]) -> str:
    return ""


@dataclass(frozen=True)
class HoldWords:
    speak: Speaker = _nothing

    def position(self, place: int) -> str:
        """`queue.position.<n>`, else `queue.position.many` (a template with {{ position }})."""
        return (
            self.speak(f"queue.position.{place}", {})
            or self.speak("queue.position.many", {"position": place})
            or f"say:You are number {place} in line."
        )

    def expected_wait(self, minutes: int) -> str:
        """`queue.expected_wait.<minutes>`, else `queue.expected_wait.many` (a template with {{ minutes }})."""
        return (
            self.speak(f"queue.expected_wait.{minutes}", {})
            or self.speak("queue.expected_wait.many", {"minutes": minutes})
            or f"say:The expected wait is about {minutes} {'minute' if minutes == 1 else 'minutes'}."
        )

    def callback_offer(self, key: str) -> str:
        """`queue.callback_offer.<key>`: press the key to be called back when it is the caller's turn."""
        return (
            self.speak(f"queue.callback_offer.{key}", {})
            or f"say:To be called back when it is your turn, without losing your place, press {key}."
        )

    def callback_taken(self) -> str:
        return self.speak("queue.callback_taken", {}) or "say:We will call you back when it is your turn. Goodbye."


ENGLISH_TTS = HoldWords()
