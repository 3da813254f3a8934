"""`ccctl serve`: run the Controller until SIGINT/SIGTERM; SIGHUP reloads the flows."""

from __future__ import annotations

import gc
import logging
import signal

import gevent
from gevent.event import Event as Flag

from ccctl.config import Settings
from ccctl.patients.hl7_inbound import start_listener
from ccctl.patients.hl7_listener import MllpError
from ccctl.records.migrate import MigrationError, current_revision, head_revision
from ccctl.serve.controller import Controller, ControllerError, build_flow_registry
from ccctl.serve.logs import configure_logging

log = logging.getLogger("ccctl.serve")


def _reload_and_log(controller: Controller) -> None:
    errors = controller.reload_flows()
    if errors:
        log.error("flow reload refused (%d errors), the running flows stay; first: %s", len(errors), errors[0])
    else:
        log.info("flows reloaded")


def freeze_startup_heap() -> None:
    """Move what start-up loaded (modules, flows, SQLAlchemy mappers) out of the cyclic GC's reach.

    A full collection would otherwise walk all of it every few seconds under load and stall the event
    loop (routing decisions, ESL replies) for milliseconds; nothing loaded at start is garbage.
    """
    gc.collect()
    gc.freeze()


def check_schema(url: str) -> None:
    """Refuse to start on a database older than this ccctl (its pages and calls would fail one by one)."""
    try:
        current, head = current_revision(url), head_revision()
    except MigrationError as exc:
        raise ControllerError(str(exc)) from None
    if current != head:
        raise ControllerError(
            f"the database is at schema revision {current or 'none'}, this ccctl needs {head}: run ccctl db upgrade"
        )


def run_serve(settings: Settings) -> None:
    """Run the controller until SIGINT or SIGTERM."""
    configure_logging(settings.log_level)
    try:
        check_schema(settings.database.url)
        controller = Controller(settings, registry=build_flow_registry(settings))
        controller.start()
    except ControllerError as exc:
        raise SystemExit(f"ccctl: {exc}") from None
    try:
        hl7_listener = start_listener(settings)  # None unless hl7.listen
    except MllpError as exc:
        controller.stop()
        raise SystemExit(f"ccctl: {exc}") from None
    controller.start_jobs()
    freeze_startup_heap()
    stop = Flag()
    for signum in (signal.SIGINT, signal.SIGTERM):
        gevent.signal_handler(signum, stop.set)
    gevent.signal_handler(signal.SIGHUP, lambda: gevent.spawn(_reload_and_log, controller))
    stop.wait()
    log.info("stopping: %d call(s) still active", controller.stats.active)
    if hl7_listener is not None:
        hl7_listener.stop()
    controller.stop()
