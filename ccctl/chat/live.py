"""What the chat keeps in the process's memory: who is typing, and how much each client has sent.

Typing is a hint that lapses after TYPING_SECONDS; the limits are sliding windows per client
address (chats started) and per chat (messages), like the contact form's.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

TYPING_SECONDS = 4.0


class ChatLive:
    def __init__(self, window_seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.window_seconds = window_seconds
        self._clock = clock
        self._typing: dict[tuple[int, str], float] = {}
        self._sent: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def typing(self, chat_id: int, who: str) -> None:
        self._typing[(chat_id, who)] = self._clock()

    def is_typing(self, chat_id: int, who: str) -> bool:
        at = self._typing.get((chat_id, who))
        return at is not None and self._clock() - at < TYPING_SECONDS

    def stopped_typing(self, chat_id: int, who: str) -> None:
        self._typing.pop((chat_id, who), None)

    def take(self, key: str, limit: int) -> bool:
        """Count one more under the key; False (nothing counted) when its window already holds `limit`."""
        now = self._clock()
        with self._lock:
            times = self._sent.setdefault(key, deque())
            while times and times[0] <= now - self.window_seconds:
                times.popleft()
            if len(times) >= limit:
                return False
            times.append(now)
            if len(self._sent) > 10_000:  # forget idle keys so a scan of addresses cannot grow it forever
                for stale in [k for k, t in self._sent.items() if not t or t[-1] <= now - self.window_seconds]:
                    del self._sent[stale]
            return True
