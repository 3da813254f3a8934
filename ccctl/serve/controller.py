"""`ccctl serve`: the outbound ESL server, the inbound ESL client and the status web server in one process.

Controller runs them in-process (tests and `ccctl demo` start one on port 0);
serve/main.run_serve() adds logging and signal handling and blocks until SIGINT/SIGTERM; serve/call_apps.py says
which app answers each call.
"""

from __future__ import annotations

import datetime as dt
import importlib
import logging
import os
import socket
import statistics
import time
from collections.abc import Callable

import gevent
from gevent.pool import Pool
from gevent.pywsgi import WSGIServer
from gevent.server import StreamServer

from ccctl import __version__
from ccctl.callflow import CallApp, CallInfo, CallRecord
from ccctl.config import Settings
from ccctl.esl.inbound import InboundClient
from ccctl.esl.nodes import SwitchNodes
from ccctl.esl.outbound import OutboundSession
from ccctl.ivr.errors import FlowCheckFailed
from ccctl.ivr.prompts import site_voice
from ccctl.ivr.registry import FlowRegistry
from ccctl.ivr.welcome import WelcomeFlow
from ccctl.kb.knowledge import KnowledgeBase
from ccctl.patients.call_services import DbCallServices
from ccctl.serve.call_apps import call_app_table
from ccctl.serve.call_runner import AppFactory, CallHandedOver, CallStats, RecordSink, run_call
from ccctl.web.alarm_board import disk_free_percent
from ccctl.web.app import make_web_app

log = logging.getLogger("ccctl.serve")

STOP_GRACE_SECONDS = 5.0


class ControllerError(Exception):
    """The controller cannot start; str() is one line saying what to fix."""


def welcome_for_every_hotline(call: CallInfo) -> CallApp:
    """The minimal flow on every hotline: proves the path without flows or a database."""
    return WelcomeFlow()


def build_flow_registry(settings: Settings, clock: Callable[[], dt.datetime] | None = None) -> FlowRegistry:
    """The hotlines' YAML flows, checked, with the database-backed services they call.

    `clock` gives the local time the flows' time-of-day branches see (default: now).
    """

    services = DbCallServices(settings.database.url, settings, handoff=settings.handoff.as_mapping())
    try:
        return FlowRegistry(
            settings.flows_dir,
            settings.prompts_dir or None,
            services=services,
            recordings_dir=settings.recordings_dir,
            hotline_flows={h.name: h.flow for h in settings.hotlines},
            clock=clock or dt.datetime.now,
            kb=KnowledgeBase.from_settings(settings),
        )
    except FlowCheckFailed as exc:
        first = exc.errors[0] if exc.errors else "unknown problem"
        raise ControllerError(
            f"call flows do not pass `ccctl flow check` ({len(exc.errors)} errors; first: {first})"
        ) from None


def build_app_factory(settings: Settings) -> AppFactory:
    return build_flow_registry(settings).app_factory


class CallStoreSink:
    """Hands CallRecords to ccctl.records.call_store.CallStore (which queues them and writes in batches)."""

    def __init__(self, url: str) -> None:
        try:
            module = importlib.import_module("ccctl.records.call_store")
        except ModuleNotFoundError as exc:
            if exc.name != "ccctl.records.call_store":
                raise
            raise ControllerError(
                "ccctl.records.call_store is missing, so call records cannot be stored (database.url is set)"
            ) from None
        try:
            self._store = module.CallStore(url)
        except Exception as exc:  # the URL may hold a password: name the key and the error type only
            raise ControllerError(
                f"cannot open the call records database from database.url ({type(exc).__name__})"
            ) from None

    def __call__(self, record: CallRecord) -> None:
        self._store.save(record)

    def start(self, record: CallRecord) -> None:
        """The in-progress row of a call that just arrived (completed by its end record)."""
        self._store.save_start(record)

    def close(self, timeout: float) -> None:
        try:
            self._store.close(timeout=timeout)
        except Exception as exc:  # records still queued are lost: say how, without their contents
            log.error("call records not all written at shutdown: %s", exc)


class Controller:
    """Outbound ESL server + inbound ESL client + status web server, started and stopped together."""

    def __init__(
        self,
        settings: Settings,
        app_factory: AppFactory | None = None,
        record_sink: RecordSink | None = None,
        connect_inbound: bool = True,
        clock: Callable[[], float] = time.time,
        registry: FlowRegistry | None = None,
        acd=None,
    ) -> None:
        self.settings = settings
        self.registry = registry
        # the ACD (ccctl.acd.engine.AcdEngine) when the flows run on the database, else None
        self.acd = acd
        self._stopping = False
        self.jobs = None  # ccctl.serve.jobs.BackgroundJobs, started by serve and demo
        self.app_factory = app_factory or (registry.app_factory if registry else welcome_for_every_hotline)
        # what the last flow reload did, for GET /api/v1/status and `ccctl flow reload`
        self.reloads = {"count": 0, "ok": True, "error_count": 0, "errors": []}
        self.record_sink = record_sink
        self.connect_inbound = connect_inbound
        self.clock = clock
        self.stats = CallStats()
        self.inbound: InboundClient | None = None  # the default (first) node's client
        self.nodes: SwitchNodes | None = None  # every node's client, and which node each call is on
        self._calls = Pool()
        self._sessions: dict[gevent.Greenlet, OutboundSession] = {}  # each running call's greenlet and socket
        # each running call and its app by uuid: the console reads the IVR path so far and the caller's number
        self._running: dict[str, tuple[CallInfo, CallApp]] = {}
        self._web_requests = Pool()
        self._outbound: StreamServer | None = None
        self._web: WSGIServer | None = None
        self._owned_sink: CallStoreSink | None = None
        self.refused_calls = 0  # connections closed because esl.max_calls were running
        self._refusal_logged: float | None = None
        self._started = 0.0

    # -- life cycle -----------------------------------------------------------------

    def start(self) -> None:
        if self.record_sink is None:
            self._owned_sink = CallStoreSink(self.settings.database.url)
            self.record_sink = self._owned_sink
        self._start_acd()
        esl, web = self.settings.esl, self.settings.web
        self._outbound = StreamServer((esl.outbound_host, esl.outbound_port), self._handle_call, spawn=self._calls)
        self._listen(self._outbound, "esl.outbound_host/outbound_port", esl.outbound_host, esl.outbound_port)
        app = make_web_app(self, self.settings)
        self._web = WSGIServer((web.host, web.port), app, spawn=self._web_requests, log=None, error_log=log)
        try:
            self._listen(self._web, "web.host/port", web.host, web.port)
        except ControllerError:
            self._outbound.stop()
            raise
        if self.connect_inbound:
            self.nodes = SwitchNodes.from_settings(esl, self.settings.freeswitch.node_name)
            self.inbound = self.nodes.default
            self.nodes.start()
            if self.acd is not None:
                self.acd.attach_switches(self.nodes)
        self._started = time.monotonic()
        log.info("outbound ESL listening on %s, status on http://%s", self.outbound_address_text, self.web_address_text)

    def _start_acd(self) -> None:
        """The ACD router, when the flows' services are the database's; calls that end tell it (abandons)."""
        services = self.registry.services if self.registry is not None else None
        on_database = isinstance(services, DbCallServices)
        if self.acd is None and self.settings.acd.enabled and on_database:
            from ccctl.acd.engine import AcdEngine

            front = self.settings.sip_front  # several switches: agents register with Kamailio, rung through it
            kamailios = front.instances or [front.listen]  # a pair: the next one when the first fails
            route = "|".join(f"sofia/trunk/{{extension}}@{k}" for k in kamailios) if front.nodes else ""
            fs = self.settings.freeswitch
            self.acd = AcdEngine(
                self.settings.database.url,
                self.settings.acd,
                domain=fs.domain,
                agent_route=route,
                tts=site_voice(fs.tts_engine, fs.tts_voice),
            )
        if self.acd is None:
            return
        if on_database:
            services.queueing = self.acd
            self.acd.surveys = services.surveys  # a queue's `survey` runs when its agent hangs up
        self.acd.recordings_dir = self.settings.recordings_dir
        sink, acd = self.record_sink, self.acd

        def record_and_tell_acd(record: CallRecord) -> None:
            sink(record)
            if self._stopping:
                return  # calls cut by our own shutdown keep their place: the next controller adopts them
            try:
                acd.calls.call_finished(record.uuid)
            except Exception as exc:  # at shutdown the ACD may be gone first; the entry then waits for a restart
                log.warning("call %s: ACD not told of the end (%s)", record.uuid, type(exc).__name__)

        self.record_sink = record_and_tell_acd
        self.app_factory = call_app_table(self.settings, acd, self.app_factory)
        self.acd.callback_socket = lambda: self.outbound_address_text
        self.acd.start()

    def _listen(self, server, keys: str, host: str, port: int) -> None:
        try:
            server.start()
        except OSError as exc:
            raise ControllerError(
                f"cannot listen on {host}:{port} ({exc.strerror}); change {keys} in {self.settings.source}"
            ) from None

    def stop(self, grace: float = STOP_GRACE_SECONDS) -> None:
        """Stop accepting calls and hand the queued callers over, let the others end for `grace` seconds,
        then cut them (every call is recorded).

        A queued caller's channel has socket_resume=true: closing its socket makes the switch park it for
        the next controller, so it is recorded as handed over (that controller completes the record).
        Callers waiting for an agent go at once; a ring or a talk under way gets the grace first.
        """
        self._stopping = True
        if self.jobs is not None:
            self.jobs.stop()
        if self._outbound is not None:
            self._outbound.close()
            self._hand_over_queued_calls(ringing_too=False)
            self._calls.join(timeout=grace)
            self._hand_over_queued_calls(ringing_too=True)
            self._calls.kill(block=True, timeout=1)
        if self.nodes is not None:
            self.nodes.stop()
        if self._web is not None:
            self._web.stop(timeout=1)
        # records first: the next controller may take the callers back as soon as our heartbeat goes
        if self._owned_sink is not None:
            self._owned_sink.close(timeout=max(grace, 1.0))
        if self.acd is not None:
            self.acd.stop()
        close_services = getattr(self.registry.services, "close", None) if self.registry else None
        if close_services is not None:
            close_services()

    def _hand_over_queued_calls(self, ringing_too: bool) -> None:
        """Let go of this process's queued callers (waiting, or ringing and talking too): the switch keeps
        them (socket_resume)."""
        if self.acd is None or not self._sessions:
            return
        from ccctl.acd.adoption import held_calls

        acd = self.acd
        try:
            uuids = acd.in_db(lambda session: held_calls(session, acd.instance_id, ringing_too))
        except Exception as exc:  # then they are cut after the grace like any other call
            log.warning("queued callers not handed over at stop (%s)", type(exc).__name__)
            return
        going = [greenlet for greenlet, session in list(self._sessions.items()) if session.uuid in uuids]
        for greenlet in going:
            greenlet.kill(CallHandedOver, block=False)
        gevent.joinall(going, timeout=1)
        if going:
            log.info("%d queued caller(s) handed over to the next controller", len(going))

    # -- addresses and status -------------------------------------------------------

    @property
    def outbound_address(self) -> tuple[str, int]:
        """The bound (host, port) of the outbound ESL server (the real port when settings say 0)."""
        return _bound(self._outbound)

    @property
    def web_app(self):
        """The console's Flask app (the alarm watch checks it)."""
        return self._web.application

    def start_jobs(self) -> None:
        """The background jobs of a real deployment (inbox, tickets, archive, faxes, alarms)."""
        from ccctl.serve.jobs import BackgroundJobs

        self.jobs = BackgroundJobs(self).start()

    @property
    def web_address(self) -> tuple[str, int]:
        return _bound(self._web)

    @property
    def outbound_address_text(self) -> str:
        host, port = self.outbound_address
        return f"{host}:{port}"

    @property
    def web_address_text(self) -> str:
        host, port = self.web_address
        return f"{host}:{port}"

    def status(self) -> dict:
        """Counters, rate, greenlets and ESL state: the body of GET /api/v1/status."""
        if self.inbound is not None:
            state = self.inbound.state
            inbound = {"status": state.status, "address": state.address, "last_error": state.last_error}
        else:
            inbound = {"status": "disabled", "address": "", "last_error": ""}
        round_trips = list(self.stats.round_trips)
        nodes = self.nodes.states() if self.nodes is not None else []
        return {
            "calls": self.stats.calls(),
            "cps": round(self.stats.cps(), 2),
            "greenlets": len(self._calls) + len(self._web_requests) + (1 if self.inbound is not None else 0),
            "esl": {
                "inbound": inbound,
                "nodes": nodes,
                "outbound": {
                    "listening": self.outbound_address_text,
                    "max_calls": self.settings.esl.max_calls,
                    "refused": self.refused_calls,
                },
            },
            "round_trip_ms": _percentiles(round_trips),
            "uptime": round(time.monotonic() - self._started, 1),
            "pid": os.getpid(),
            "flows": self._flows_status(),
            "recordings_archive": self.jobs.archive_state if self.jobs is not None else {},
            "storage": self._storage(),
            "database": self._database(),
            "controllers": self._controllers(),
            "version": __version__,
        }

    def _controllers(self) -> list[dict]:
        """Every ccctl serve on this database with its health (heartbeats), for status and the alarms."""
        if self.acd is None:
            return []
        try:
            return self.acd.controllers()
        except Exception as exc:  # the database alarm says why; the status still answers
            log.warning("controllers not read for status (%s)", type(exc).__name__)
            return []

    def _database(self) -> dict:
        """Whether the flows' last database step met a locked or unreachable database (the wallboard alarms)."""
        services = self.registry.services if self.registry is not None else None
        outage = services.outage if isinstance(services, DbCallServices) else ""
        return {"status": "unreachable" if outage else "ok", "last_error": outage}

    def _storage(self) -> dict:
        """Free space of the folders calls and messages write to (a full disk must raise an alarm, not
        leave empty recordings behind)."""
        folders = {
            "recordings": self.settings.recordings_dir,
            "faxes": self.settings.fax.faxes_dir,
            "attachments": self.settings.inbox.attachments_dir,
        }
        storage = {}
        for name, path in folders.items():
            if path:
                free = disk_free_percent(path)
                storage[name] = {"path": path, "free_percent": None if free is None else round(free, 1)}
        return storage

    def _flows_status(self) -> dict:
        if self.registry is None:
            return {"generation": None, "hotlines": [], "reloads": self.reloads}
        catalog = self.registry.catalog
        return {"generation": catalog.generation, "hotlines": catalog.hotlines(), "reloads": self.reloads}

    def reload_flows(self) -> list[str]:
        """Check and swap in the flows on disk (SIGHUP, `ccctl flow reload`); calls in progress keep theirs."""
        if self.registry is None:
            errors = ["this controller runs the built-in welcome flow, not YAML flows"]
        else:
            # one line per error: `ccctl flow reload` prints them as the status API lists them
            errors = [" ".join(str(e).split()) for e in self.registry.reload()]
        self.reloads = {
            "count": self.reloads["count"] + 1,
            "ok": not errors,
            "error_count": len(errors),
            "errors": errors[:50],
        }
        return errors

    # -- one call -------------------------------------------------------------------

    def running_call_uuids(self) -> set[str]:
        """The channels of the calls this controller is driving now."""
        return {session.uuid for session in list(self._sessions.values()) if session.uuid}

    def _handle_call(self, sock: socket.socket, address) -> None:
        if len(self._sessions) >= self.settings.esl.max_calls:
            self._refuse(sock)
            return
        try:
            # a command waits for its reply: never let Nagle hold the next one back
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass
        session = OutboundSession(sock, self.settings, self.clock, self.stats.round_trips)
        self._sessions[gevent.getcurrent()] = session
        try:
            start_sink = self._owned_sink.start if self._owned_sink is not None else None
            run_call(session, self._app_for, self.record_sink, self.clock, self.stats, start_sink)
        except Exception:
            log.exception("call %s: runner failed", session.uuid or "(unknown)")
            session.close()
        finally:
            self._sessions.pop(gevent.getcurrent(), None)
            self._running.pop(session.uuid or "", None)
            if self.nodes is not None:
                self.nodes.forget(session.uuid or "")

    def client_for(self, call_or_node: str) -> InboundClient | None:
        """The inbound client of a node (by name) or of the node a call (uuid) is on; None without one."""
        return self.nodes.client_for(call_or_node) if self.nodes is not None else None

    def _app_for(self, call: CallInfo) -> CallApp:
        if self.nodes is not None:
            self.nodes.learn(call.uuid, call.node)
        app = self.app_factory(call)
        self._running[call.uuid] = (call, app)
        return app

    def call_path(self, call_uuid: str) -> list[str]:
        """The IVR path so far of a call this controller drives (node names and outcomes); [] for any other."""
        running = self._running.get(call_uuid)
        return list(running[1].path) if running is not None else []

    def caller_number(self, call_uuid: str) -> str:
        """The number a call this controller drives came from ("" for any other call)."""
        running = self._running.get(call_uuid)
        return running[0].caller_number if running is not None else ""

    def _refuse(self, sock: socket.socket) -> None:
        """Over esl.max_calls: close at once (FreeSWITCH runs the dialplan's after-socket step) and say so,
        once a minute at most."""
        sock.close()
        self.refused_calls += 1
        now = time.monotonic()
        if self._refusal_logged is None or now - self._refusal_logged >= 60.0:
            self._refusal_logged = now
            log.warning(
                "over esl.max_calls (%d calls running): new calls refused (%d so far)",
                self.settings.esl.max_calls,
                self.refused_calls,
            )


def _bound(server) -> tuple[str, int]:
    if server is None or server.socket is None:
        return ("", 0)
    host, port = server.socket.getsockname()[:2]
    return host, port


def _percentiles(samples: list[float]) -> dict:
    if not samples:
        return {"count": 0, "p50": None, "p95": None}
    ordered = sorted(samples)
    return {
        "count": len(ordered),
        "p50": round(statistics.median(ordered) * 1000, 3),
        "p95": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))] * 1000, 3),
    }
