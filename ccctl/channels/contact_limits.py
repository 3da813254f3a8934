"""How often the contact form files a message: per client address, and per patient it names.

Anyone can type anyone's phone number, so a flood aimed at one patient is stopped by what it
names (counted in the inbox, so a restart forgets nothing) and one machine's flood by its
address (counted in this process's memory). Both give the patient the same answer, so the
form never tells whether a typed number belongs to a patient.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from ccctl.config import ContactFormSettings
from ccctl.records.models.base import utc_now
from ccctl.records.models.inbox import InboxItem

SWEEP_EVERY_SECONDS = 60.0


class ContactLimits:
    """The per-address window in memory, and one lock so two messages about one patient are counted in turn."""

    def __init__(self, settings: ContactFormSettings, clock: Callable[[], float] = time.monotonic) -> None:
        self.settings = settings
        self._clock = clock
        self._sent: dict[str, deque[float]] = {}
        self._lock = threading.Lock()
        self._filing = threading.Lock()
        self._swept_at = clock()

    def take_address(self, address: str) -> bool:
        """Count one message from this address; False (and nothing counted) when its window is full."""
        now = self._clock()
        start = now - self.settings.window_seconds
        with self._lock:
            if now - self._swept_at > SWEEP_EVERY_SECONDS:
                self._sweep(start)
                self._swept_at = now
            times = self._sent.setdefault(address, deque())
            while times and times[0] <= start:
                times.popleft()
            if len(times) >= self.settings.max_per_address:
                return False
            times.append(now)
            return True

    def _sweep(self, start: float) -> None:
        for address in [a for a, times in self._sent.items() if not times or times[-1] <= start]:
            del self._sent[address]

    @contextmanager
    def filing(self) -> Iterator[None]:
        """Hold while counting and filing, so concurrent messages cannot all pass the same count."""
        with self._filing:
            yield

    def patient_allows(self, session: Session, candidate_id: int | None, sender: str) -> bool:
        """Room for one more web-form message about this patient (or, naming none, from this typed sender)."""
        since = utc_now() - timedelta(seconds=self.settings.window_seconds)
        return web_messages_since(session, since, candidate_id, sender) < self.settings.max_per_patient


def web_messages_since(session: Session, since: datetime, candidate_id: int | None, sender: str) -> int:
    """Web-form messages received since `since` naming this patient (or, when None, from this sender)."""
    query = select(func.count(InboxItem.id)).where(
        InboxItem.channel == "web", InboxItem.direction == "in", InboxItem.received_at >= since
    )
    if candidate_id is not None:
        query = query.where(or_(InboxItem.suggested_patient_id == candidate_id, InboxItem.patient_id == candidate_id))
    else:
        query = query.where(InboxItem.sender == sender)
    return session.scalar(query) or 0
