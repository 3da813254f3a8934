"""The callback worklist as a flow's callback_request node reaches it (ivr/services.py: CallbackRequests).

Filing is a database write only: the router of any `ccctl serve` on the database dials the callback once it
may (callback_after), so a flow files callbacks with or without an ACD in its own process.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from ccctl.acd import store
from ccctl.acd.callbacks import file_callback
from ccctl.config import CallbackSettings, Settings
from ccctl.records.models.base import utc_now


class DbCallbackRequests:
    """Files callbacks through the call services' database thread (`in_transaction`, outages waited out)."""

    def __init__(
        self,
        in_transaction: Callable[[Callable[[Session], Any]], Any],
        settings: Settings | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._in_transaction = in_transaction
        self.deadline_hours = (settings.callbacks if settings is not None else CallbackSettings()).deadline_hours
        self.clock = clock

    def file_callback(
        self, queue: str, call_uuid: str, number: str, patient_id: int | None, reason: str, opens_in: timedelta
    ) -> int:
        now = self.clock()
        after = now + opens_in if opens_in > timedelta(0) else None
        due = (after or now) + timedelta(hours=self.deadline_hours)

        def work(session: Session) -> int:
            if queue not in store.load_queues(session):
                return 0
            return file_callback(session, queue, number, patient_id, reason, now, call_uuid, after, due).id

        return self._in_transaction(work)
