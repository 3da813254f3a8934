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
from ccctl.deploy.fs_render import build_model, render_texts
from ccctl.records.call_store import CallStore
from ccctl.serve.controller import Controller
from ccctl.sim.dialplan import Dialplan
from ccctl.sim.switch import Switch


def site_settings(db_url: str, tmp_path, **overrides) -> Settings:
    settings = load_settings("ccctl.yaml", environ={})
    return dataclasses.replace(
        settings,
        database=dataclasses.replace(settings.database, url=db_url),
        esl=dataclasses.replace(settings.esl, outbound_port=0, inbound_port=0),
        web=dataclasses.replace(settings.web, port=0),
        recordings_dir=str(tmp_path / "recordings"),
        **overrides,
    )


class EmulatedSite:
    """Start with `with EmulatedSite(settings, app_factory) as site:`; place calls on site.switch."""

    def __init__(self, settings: Settings, app_factory=None, registry=None, time_factor: float = 50.0) -> None:
        self.switch = Switch(time_factor=time_factor, seed=7, password=settings.esl.password)
        self.settings = settings
        self.app_factory = app_factory
        self.registry = registry
        self.store: CallStore | None = None
        self.controller: Controller | None = None

    def __enter__(self) -> EmulatedSite:
        self.switch.start()
        esl = dataclasses.replace(self.settings.esl, inbound_port=self.switch.esl_address[1])
        self.settings = dataclasses.replace(self.settings, esl=esl)
        self.store = CallStore(self.settings.database.url)
        self.controller = Controller(
            self.settings, app_factory=self.app_factory, record_sink=self.store.save, registry=self.registry
        )
        self.controller.start()
        host, port = self.controller.outbound_address
        routed = dataclasses.replace(self.settings.esl, outbound_host=host, outbound_port=port)
        texts = render_texts(build_model(dataclasses.replace(self.settings, esl=routed)))
        self.switch.dialplan = Dialplan.from_xml(texts["dialplan/public.xml"], source="dialplan/public.xml")
        return self

    def __exit__(self, *exc) -> None:
        self.controller.stop(grace=2.0)
        self.store.close()
        self.switch.stop()

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
