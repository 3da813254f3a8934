"""LocalSite: the FreeSWITCH emulator and a Controller wired together in this process.

The emulator routes calls through the public dialplan `ccctl fs render` writes, pointed at the controller's
bound port, so a call placed on `site.switch` reaches the controller the way a carrier's call reaches a real
switch. Used by `ccctl demo`, `ccctl flow simulate`, `ccctl bench acd` and the integration tests.
"""

from __future__ import annotations

import dataclasses

from ccctl.config import Settings
from ccctl.deploy.fs_render import build_model, render_texts, tts_engines
from ccctl.ivr.registry import FlowRegistry
from ccctl.serve.call_runner import AppFactory, RecordSink
from ccctl.serve.controller import Controller, ControllerError
from ccctl.sim.dialplan import Dialplan
from ccctl.sim.originate import AgentEndpoint
from ccctl.sim.switch import Switch


class LocalSite:
    """`LocalSite(settings, registry).start()`, or `with LocalSite(...) as site:`; place calls on site.switch.

    The switch exists from construction, so its simulated agents can be set before start().
    """

    def __init__(
        self,
        settings: Settings,
        registry: FlowRegistry | None = None,
        *,
        app_factory: AppFactory | None = None,
        record_sink: RecordSink | None = None,
        time_factor: float = 1.0,
        seed: int | None = None,
        agent: AgentEndpoint | None = None,
    ) -> None:
        self.switch = Switch(
            time_factor=time_factor, seed=seed, password=settings.esl.password, tts_engines=tts_engines(settings)
        )
        if agent is not None:
            self.switch.default_agent = agent
        self.settings = settings
        self.registry = registry
        self.app_factory = app_factory
        self.record_sink = record_sink
        self.controller: Controller | None = None

    def start(self) -> LocalSite:
        """Start the emulator, then the controller on the emulator's event socket (ControllerError if it cannot)."""
        self.switch.start()
        esl = dataclasses.replace(self.settings.esl, inbound_port=self.switch.esl_address[1])
        self.settings = dataclasses.replace(self.settings, esl=esl)
        try:
            self.controller = Controller(
                self.settings, app_factory=self.app_factory, record_sink=self.record_sink, registry=self.registry
            )
            self.controller.start()
        except ControllerError:
            self.switch.stop()
            raise
        self.switch.dialplan = emulator_dialplan(self.settings, self.controller)
        return self

    def stop(self, grace: float = 5.0) -> None:
        if self.controller is not None:
            self.controller.stop(grace)
        self.switch.stop()

    def __enter__(self) -> LocalSite:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop(grace=2.0)


def start_local_site(settings: Settings, registry: FlowRegistry | None = None, **options) -> LocalSite:
    """A started LocalSite (options: app_factory, record_sink, time_factor, seed, agent)."""
    return LocalSite(settings, registry, **options).start()


def emulator_dialplan(settings: Settings, controller: Controller) -> Dialplan:
    """The public context exactly as `ccctl fs render` writes it, pointing at the bound controller."""
    host, port = controller.outbound_address
    esl = dataclasses.replace(settings.esl, outbound_host=host, outbound_port=port)
    texts = render_texts(build_model(dataclasses.replace(settings, esl=esl)))
    return Dialplan.from_xml(texts["dialplan/public.xml"], source="dialplan/public.xml")
