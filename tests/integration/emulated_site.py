"""A whole site for integration tests: the controller, the FreeSWITCH emulator, a real database.

The emulator routes calls through the public dialplan that `ccctl fs render`
ships, pointed at the controller's bound port, as a real switch would.
"""

from __future__ import annotations

import dataclasses
import time

import gevent

from ccctl.callflow import CallRecord
from ccctl.config import Settings, load_settings
from ccctl.local_site.site import LocalSite
from ccctl.records.call_store import CallStore


def site_settings(db_url: str, tmp_path, **overrides) -> Settings:
    settings = load_settings("ccctl.yaml", environ={})
    # a password of the site's own, as an operator sets one: the commands that open the event socket
    # (ccctl transfer, monitor, consult, fax send) refuse FreeSWITCH's shipped ClueCon
    esl = dataclasses.replace(settings.esl, outbound_port=0, inbound_port=0, password="emulated-site-secret")
    return dataclasses.replace(
        settings,
        database=dataclasses.replace(settings.database, url=db_url),
        esl=esl,
        web=dataclasses.replace(settings.web, port=0),
        recordings_dir=str(tmp_path / "recordings"),
        **overrides,
    )


class EmulatedSite(LocalSite):
    """A LocalSite whose call records go to the real database: `with EmulatedSite(settings, app_factory) as site:`."""

    def __init__(self, settings: Settings, app_factory=None, registry=None, time_factor: float = 50.0) -> None:
        super().__init__(settings, registry, app_factory=app_factory, time_factor=time_factor, seed=7)
        self.store: CallStore | None = None

    def __enter__(self) -> EmulatedSite:
        self.store = CallStore(self.settings.database.url)
        self.record_sink = self.store.save
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop(grace=2.0)
        self.store.close()

    def wait_idle(self, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while (self.controller.stats.active or self.switch.active) and time.monotonic() < deadline:
            gevent.sleep(0.02)
        self.store.flush(timeout=10)


def stored_calls(db_url: str) -> list[dict]:
    from ccctl.records.call_listing import list_calls

    return list_calls(db_url, limit=10_000)


def by_uuid(rows: list[dict]) -> dict[str, dict]:
    return {row["uuid"]: row for row in rows}


__all__ = ["EmulatedSite", "site_settings", "stored_calls", "by_uuid", "CallRecord"]
