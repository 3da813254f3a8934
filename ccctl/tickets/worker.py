"""The inbox's background work inside `ccctl serve`: poll the IMAP mailbox, turn voice messages into
tickets, escalate overdue tickets, each on its own period, without blocking calls.

Each round runs in gevent's threadpool (psycopg2, SMTP and IMAP block); a failing round is logged
(no patient data) and retried next period, so a mail server that is down never stops the service.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import gevent
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from ccctl.channels.email_imap import MailboxError, poll_mailbox
from ccctl.config import Settings
from ccctl.records.database import database_problem, make_engine
from ccctl.storage.sealed import load_key
from ccctl.tickets.follow_up import escalate_overdue, file_voice_messages

log = logging.getLogger(__name__)


class InboxWorkers:
    """Start with start(); stop() ends the loops. Controller (ccctl/serve/controller.py) owns one."""

    def __init__(self, settings: Settings, engine: Engine | None = None) -> None:
        self.settings = settings
        self._engine = engine or make_engine(settings.database.url)
        self._owns_engine = engine is None
        self._loops: list[gevent.Greenlet] = []

    def poll_mail(self) -> int:
        """One IMAP poll; the number of mails filed."""
        key = load_key(self.settings)
        result = poll_mailbox(self.settings.email, self.settings.inbox.attachments_dir, self._engine, key)
        return len(result.filed)

    def follow_up(self) -> tuple[list[int], list[int]]:
        """New voice messages into the inbox, then overdue tickets escalated: (filed items, escalated) ids."""
        with Session(self._engine) as session, session.begin():
            filed = file_voice_messages(session)
        with Session(self._engine) as session, session.begin():
            escalated = escalate_overdue(session, self.settings)
        return filed, escalated

    def run_in_threadpool(self, work: Callable[[], object]) -> object:
        return gevent.get_hub().threadpool.apply(work)

    def _loop(self, name: str, work: Callable[[], object], seconds: float) -> None:
        while True:
            try:
                outcome = self.run_in_threadpool(work)
                log.debug("%s: %s", name, outcome)
            except MailboxError as exc:
                log.warning("%s: %s", name, exc)
            except Exception as exc:  # noqa: BLE001 - a round must never end the loop
                log.error("%s failed: %s", name, database_problem(exc))
            gevent.sleep(seconds)

    def start(self) -> None:
        if self.settings.email.imap_host:
            self._loops.append(
                gevent.spawn(self._loop, "e-mail poll", self.poll_mail, self.settings.email.poll_seconds)
            )
        period = self.settings.inbox.escalate_every_seconds
        self._loops.append(gevent.spawn(self._loop, "ticket follow-up", self.follow_up, period))

    def stop(self) -> None:
        gevent.killall(self._loops, timeout=5)
        self._loops.clear()
        if self._owns_engine:
            self._engine.dispose()
