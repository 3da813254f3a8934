"""The time a test says it is, for code that takes a clock: call it for now; advance() moves it (no sleeping)."""

from __future__ import annotations

from datetime import datetime, timedelta


class SettableClock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)
