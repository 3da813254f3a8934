"""`ccctl demo`: the contact center on its embedded defaults with the emulator calling in.

Runs the controller (its own SQLite file, wallboard on web.port) and the FreeSWITCH emulator in
one process; the emulator routes calls through the dialplan `ccctl fs render` ships, so the demo
exercises the same routing a real switch would. Its traffic is sized to its agents
(local_site/demo_traffic.py) and its flows see a time inside opening hours (local_site/demo_clock.py).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import signal
import time
from pathlib import Path

import gevent
from gevent.event import Event as Flag

from ccctl.acd.demo_seed import DEMO_QUEUE_SETTINGS, seed_demo_acd
from ccctl.config import Settings
from ccctl.local_site.demo_clock import DemoClock, choose_time, shifted_clock
from ccctl.local_site.demo_database import (
    DEMO_MEMBERS,
    DEMO_PASSWORD,
    DEMO_SUPERVISOR,
    demo_database_url,
    refuse_real_data,
    seed_demo_members,
    shown_database,
)
from ccctl.local_site.demo_figures import Console, final_table, live_line, run_figures
from ccctl.local_site.demo_traffic import DemoTraffic, sized_traffic, steady_traffic
from ccctl.local_site.site import LocalSite, start_local_site
from ccctl.records.migrate import upgrade
from ccctl.serve.controller import Controller, ControllerError, build_flow_registry
from ccctl.serve.logs import configure_logging
from ccctl.serve.main import freeze_startup_heap
from ccctl.sim.callers import hotline_script
from ccctl.sim.originate import AgentEndpoint
from ccctl.sim.traffic import Traffic
from ccctl.web.user_commands import ensure_user

__all__ = ["DEMO_MEMBERS", "DEMO_PASSWORD", "DEMO_SUPERVISOR", "run_demo", "seed_demo_members", "shifted_clock"]

log = logging.getLogger("ccctl.local_site.demo")

DEMO_LOG = "var/ccctl-demo.log"
STATUS_EVERY_SECONDS = 1.0
# after the last call is placed (or the first Ctrl-C): the longest wait for the calls still up
DRAIN_SECONDS = 600.0
STOP_NOW_GRACE_SECONDS = 1.0
# the agents' phones (user/...), in simulated seconds: answer after a few rings, talk, hang up
AGENT_ANSWER_SECONDS = 4.0
AGENT_TALK_SECONDS = 60.0
# real seconds a queued call spends beyond ringing and talk: routing, the bridge, the records
HANDLE_OVERHEAD_SECONDS = 0.5


@dataclasses.dataclass
class DemoOptions:
    calls: int = 0  # stop after this many calls (0: until Ctrl-C)
    rate: float | None = None  # calls per second; None: sized to the agents
    time_factor: float = 1.0
    seed: int | None = None
    start_at: dt.datetime | None = None  # the local time the flows see (--at)
    database: str | None = None  # --database; None: the demo's own file


class _Signals:
    """Ctrl-C once: stop placing calls and let those up end; twice (or SIGTERM): stop now. SIGHUP reloads."""

    def __init__(self, controller: Controller, console: Console) -> None:
        self.stop_placing, self.stop_now = Flag(), Flag()
        self.controller, self.console = controller, console
        gevent.signal_handler(signal.SIGINT, self._interrupt)
        gevent.signal_handler(signal.SIGTERM, self.stop_now.set)
        gevent.signal_handler(signal.SIGHUP, lambda: gevent.spawn(self._reload))

    def _interrupt(self) -> None:
        if self.stop_placing.is_set():
            self.stop_now.set()
        self.stop_placing.set()

    def _reload(self) -> None:
        errors = self.controller.reload_flows()
        if errors:
            log.error("flow reload refused (%d errors), the running flows stay; first: %s", len(errors), errors[0])
            self.console.say(f"flow reload refused ({len(errors)} errors; first: {errors[0]}); the running flows stay")
        else:
            generation = self.controller.registry.catalog.generation if self.controller.registry else None
            log.info("flows reloaded")
            self.console.say(f"flows reloaded: generation {generation}")


def _traffic_plan(options: DemoOptions, agents: int) -> DemoTraffic:
    if options.rate is not None:
        return steady_traffic(options.rate)
    ringing_and_talk = (AGENT_ANSWER_SECONDS + AGENT_TALK_SECONDS) / options.time_factor
    handle = ringing_and_talk + DEMO_QUEUE_SETTINGS["wrapup_seconds"] + HANDLE_OVERHEAD_SECONDS
    return sized_traffic(agents, handle, options.time_factor)


def _prepare_database(settings: Settings, options: DemoOptions) -> tuple[Settings, int]:
    url = demo_database_url(options.database)
    refuse_real_data(url)
    upgrade(url)
    seed_demo_members(url)
    agents = seed_demo_acd(url)
    # the demo database is its own and the console binds 127.0.0.1: a known supervisor opens the wallboard
    ensure_user(url, DEMO_SUPERVISOR, "supervisor", DEMO_PASSWORD)
    database = dataclasses.replace(settings.database, url=url)
    # the emulator plays FreeSWITCH: its event socket gets a free port the controller then uses
    esl = dataclasses.replace(settings.esl, inbound_port=0)
    return dataclasses.replace(settings, database=database, esl=esl), agents


def _start(settings: Settings, options: DemoOptions) -> tuple[LocalSite, str]:
    clock = DemoClock()
    agent = AgentEndpoint(answer_after=AGENT_ANSWER_SECONDS, talk_seconds=AGENT_TALK_SECONDS)
    try:
        registry = build_flow_registry(settings, clock)
        start, hours = choose_time(registry, [h.name for h in settings.hotlines], dt.datetime.now(), options.start_at)
        clock.start_at(start)
        site = start_local_site(settings, registry, time_factor=options.time_factor, seed=options.seed, agent=agent)
    except ControllerError as exc:
        raise SystemExit(f"ccctl: {exc}") from None
    return site, hours


def run_demo(settings: Settings, options: DemoOptions) -> bool:
    """Run until `options.calls` calls have ended (0: until Ctrl-C); True when no call failed."""
    Path(DEMO_LOG).parent.mkdir(parents=True, exist_ok=True)
    configure_logging(settings.log_level, filename=DEMO_LOG)
    settings, agents = _prepare_database(settings, options)
    plan = _traffic_plan(options, agents)
    site, hours = _start(settings, options)
    controller = site.controller
    controller.start_jobs()
    freeze_startup_heap()
    console = Console()
    signals = _Signals(controller, console)
    print(
        f"ccctl demo: wallboard on http://{controller.web_address_text}/wallboard"
        f"  (log in as {DEMO_SUPERVISOR} / {DEMO_PASSWORD}; log: {DEMO_LOG}; Ctrl-C to stop)",
        flush=True,
    )
    print(f"database: {shown_database(settings.database.url)} (the demo's own; --database names another)")
    print(hours)
    print(plan.summary, flush=True)
    since = dt.datetime.now(dt.UTC)
    started = time.monotonic()
    dids = [h.did for h in settings.hotlines]
    traffic = Traffic(site.switch, plan.rate_at, lambda rng: hotline_script(rng, rng.choice(dids), DEMO_MEMBERS))
    placing = gevent.spawn(traffic.place, options.calls or None, None if options.calls else 10**9)
    status = gevent.spawn(_show_status, controller, traffic, console, placing, signals)
    gevent.wait([placing, signals.stop_placing], count=1)
    traffic.stop_placing()
    if signals.stop_placing.is_set() and not signals.stop_now.is_set():
        console.say(
            f"stopping: no new calls; waiting for {len(traffic.still_up())} calls to end (Ctrl-C again: stop now)"
        )
    _drain(controller, traffic, signals)
    unfinished = {handle.uuid for handle in traffic.still_up()}
    status.kill()
    placing.kill(block=False)
    console.show(_line(controller, traffic, placing, signals), force=True)
    console.close()
    summary = traffic.summary()  # before the stop: a call our stop cuts is unfinished, not failed
    site.stop(STOP_NOW_GRACE_SECONDS if unfinished else 5.0)
    failures = [f["reason"] for f in summary.failures]
    figures = run_figures(
        settings.database.url,
        since,
        {h.uuid for h in traffic.handles},
        unfinished,
        failures,
        time.monotonic() - started,
    )
    print(final_table(figures))
    return not figures.dispositions.get("failed") and not controller.stats.dropped and not summary.failed


def _line(controller: Controller, traffic: Traffic, placing: gevent.Greenlet, signals: _Signals) -> str:
    up = len(traffic.still_up())
    draining = placing.ready() or signals.stop_placing.is_set()
    waiting_for = up if draining and up and not signals.stop_now.is_set() else None
    calls, cps = controller.stats.calls(), controller.stats.cps()
    return live_line(traffic.placed, up, calls, cps, waiting_for, again=signals.stop_placing.is_set())


def _show_status(controller: Controller, traffic: Traffic, console: Console, placing, signals: _Signals) -> None:
    while not signals.stop_now.wait(STATUS_EVERY_SECONDS):
        console.show(_line(controller, traffic, placing, signals))


def _drain(controller: Controller, traffic: Traffic, signals: _Signals) -> None:
    """Wait for the calls still up, until they ended, DRAIN_SECONDS passed or a second Ctrl-C; then for the
    controller to record them."""
    deadline = time.monotonic() + DRAIN_SECONDS
    while traffic.still_up() and time.monotonic() < deadline and not signals.stop_now.is_set():
        signals.stop_now.wait(0.1)
    records_deadline = time.monotonic() + 5.0
    while controller.stats.active > len(traffic.still_up()) and time.monotonic() < records_deadline:
        gevent.sleep(0.05)
