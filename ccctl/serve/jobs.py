"""The background jobs of a running `ccctl serve`: inbox and tickets, recordings archive, faxes, alarms, HL7 out,
the FHIR pull, campaign webhooks, retention.

Tests start bare Controllers; `ccctl serve` and `ccctl demo` add these with BackgroundJobs(controller).start().
"""

from __future__ import annotations

import logging
from typing import Any

import gevent
from sqlalchemy.orm import Session

from ccctl.esl.nodes import EveryNode
from ccctl.records.database import make_engine

log = logging.getLogger("ccctl.serve")

ARCHIVE_CHECK_SECONDS = 60.0


class BackgroundJobs:
    """Starts and stops every periodic job; `archive_state` feeds the "recording archive failing" alarm."""

    def __init__(self, controller: Any) -> None:
        self.controller = controller
        self.settings = controller.settings
        self.archive_state: dict = {"failing": 0, "last_error": ""}
        self._greenlets: list[gevent.Greenlet] = []
        self._inbox = None
        self._campaigns = None

    def start(self) -> BackgroundJobs:
        from ccctl.campaigns.webhooks import post_forever
        from ccctl.recordings.archive import archive_forever
        from ccctl.tickets.worker import InboxWorkers
        from ccctl.web.wallboard import watch_alarms

        self._inbox = InboxWorkers(self.settings)
        self._inbox.start()
        self._greenlets.append(gevent.spawn(watch_alarms, self.controller.web_app))
        self._greenlets.append(gevent.spawn(post_forever, self.settings))  # campaign webhooks
        if self.settings.storage.key_file:
            from ccctl.storage.jobs import seal_forever
            from ccctl.storage.sealed import load_key

            load_key(self.settings)  # a missing or unsafe key stops serve here, in one line, not at the first call
            self._greenlets.append(gevent.spawn(seal_forever, self.settings))
        if self.settings.archive.bucket:
            self._greenlets.append(gevent.spawn(archive_forever, self.settings))
            self._greenlets.append(gevent.spawn(self._watch_archive))
        if self.settings.retention.every_seconds > 0:
            from ccctl.records.retention import retention_forever

            self._greenlets.append(gevent.spawn(retention_forever, self.settings))
        if self.settings.fhir_pull.every_minutes > 0:
            from ccctl.patients.fhir.jobs import pull_forever

            self._greenlets.append(gevent.spawn(pull_forever, self.settings))
        if self.settings.hl7.outbound_host:
            from ccctl.patients.hl7_outbound import send_forever

            self._greenlets.append(gevent.spawn(send_forever, self.settings))
        if self.controller.inbound is not None:
            from ccctl.channels.fax_receive import watch_received_faxes
            from ccctl.serve.interrupted_calls import settle_interrupted_forever

            self._greenlets.append(gevent.spawn(settle_interrupted_forever, self.controller))

            watch_received_faxes(EveryNode(self.controller.nodes), self.settings)
            self._start_campaigns()
        return self

    def _start_campaigns(self) -> None:
        from ccctl.campaigns.jobs import CampaignDialer

        controller = self.controller
        every_node = EveryNode(controller.nodes)  # campaign calls spread over the live nodes
        self._campaigns = CampaignDialer(self.settings, every_node, lambda: controller.outbound_address_text)
        self._campaigns.attach_events(every_node)
        self._campaigns.start()

    def stop(self) -> None:
        gevent.killall(self._greenlets, timeout=2)
        if self._inbox is not None:
            self._inbox.stop()
        if self._campaigns is not None:
            self._campaigns.stop()

    def _watch_archive(self) -> None:
        from ccctl.recordings.archive import archive_failures

        engine = make_engine(self.settings.database.url)
        while True:
            try:
                with Session(engine) as session:
                    failures = archive_failures(session)
                last = failures[-1]["error"] if failures else ""
                self.archive_state = {"failing": len(failures), "last_error": last}
            except Exception as exc:  # a busy database: keep the last state, try again later
                log.warning("recordings archive state not read: %s", type(exc).__name__)
            gevent.sleep(ARCHIVE_CHECK_SECONDS)
