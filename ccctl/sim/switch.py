"""The emulated FreeSWITCH: channels, the event bus, the inbound ESL server and simulated callers.

One Switch per process or per test. place_call() sends a simulated patient through the
dialplan (usually to the controller's outbound socket); drive() generates Poisson traffic.
"""

from __future__ import annotations

import random
import socket
import uuid as uuidlib
from collections import deque
from dataclasses import dataclass, field

import gevent
from gevent.event import AsyncResult

from ccctl.sim.callers import CallerScript, PatientSession
from ccctl.sim.channel import Channel
from ccctl.sim.dialplan import Dialplan
from ccctl.sim.event_builder import CoreIdentity, SimEvent
from ccctl.sim.inbound_server import InboundServer
from ccctl.sim.listener import Listener
from ccctl.sim.media import MediaCatalog
from ccctl.sim.originate import AgentEndpoint, new_channel
from ccctl.sim.session import Session
from ccctl.sim.sim_clock import FRAME_SECONDS, SimClock
from ccctl.sim.sofia_profile import SofiaProfile
from ccctl.sim.switch_log import SwitchLog


class EventBus:
    """Routes fired events to listeners; myevents listeners are indexed by their channel."""

    def __init__(self) -> None:
        self.general: list[Listener] = []
        self.by_uuid: dict[str, list[Listener]] = {}

    def add(self, listener: Listener) -> None:
        if listener.myevents and listener.channel is not None:
            bucket = self.by_uuid.setdefault(listener.channel.uuid, [])
            if listener not in bucket:
                bucket.append(listener)
            if listener in self.general:
                self.general.remove(listener)
        elif listener not in self.general:
            self.general.append(listener)

    def remove(self, listener: Listener) -> None:
        if listener in self.general:
            self.general.remove(listener)
        if listener.channel is not None:
            bucket = self.by_uuid.get(listener.channel.uuid)
            if bucket and listener in bucket:
                bucket.remove(listener)
                if not bucket:
                    del self.by_uuid[listener.channel.uuid]

    def wants(self, name: str, uuid: str) -> bool:
        for listener in self.by_uuid.get(uuid, ()):
            if listener.wants(name):
                return True
        return any(listener.wants(name) for listener in self.general)

    def fire(self, event: SimEvent) -> None:
        targets = list(self.by_uuid.get(event.unique_id or event.job_owner, ()))
        if event.job_owner and event.unique_id:
            targets += self.by_uuid.get(event.job_owner, ())
        for listener in targets + self.general:
            if listener.accepts(event):
                listener.deliver(event)


@dataclass
class CallOutcome:
    """How one simulated call went, as the caller experienced it (no patient data in `failure`)."""

    uuid: str
    caller: str
    destination: str
    answered: bool
    hangup_cause: str
    hung_up_by: str  # caller, controller, dialplan, switch, api, limit, peer
    duration: float  # simulated seconds from arrival to hangup
    prompts: list[str] = field(default_factory=list)
    digits_sent: list[str] = field(default_factory=list)
    apps: list[tuple[str, str]] = field(default_factory=list)
    bridged_to: list[str] = field(default_factory=list)
    controller_connected: bool = False
    failure: str = ""


@dataclass
class SwitchStats:
    started: int = 0
    completed: int = 0
    failed: int = 0
    peak: int = 0
    peak_rate: int = 0
    # real seconds from an EXECUTE_COMPLETE sent to a controller until its next command on that call:
    # how long the controller thinks, measured the same way whichever controller it is (ccctl bench)
    reactions: deque = field(default_factory=lambda: deque(maxlen=200_000))

    def as_dict(self, active: int) -> dict[str, int]:
        return {"started": self.started, "completed": self.completed, "failed": self.failed, "active": active}


class CallHandle:
    """A placed call; wait() returns its CallOutcome (or None on timeout)."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.uuid = session.channel.uuid
        self._result: AsyncResult = AsyncResult()

    def wait(self, timeout: float | None = None) -> CallOutcome | None:
        try:
            return self._result.get(timeout=timeout)
        except gevent.Timeout:
            return None

    @property
    def done(self) -> bool:
        return self._result.ready()


class Switch:
    """A FreeSWITCH 1.10 stand-in speaking the real Event Socket protocol."""

    def __init__(
        self,
        dialplan: Dialplan | None = None,
        time_factor: float = 1.0,
        seed: int | None = None,
        esl_host: str = "127.0.0.1",
        esl_port: int = 0,
        password: str = "ClueCon",
        hostname: str | None = None,
        media: MediaCatalog | None = None,
        agents: dict[str, AgentEndpoint] | None = None,
        max_call_seconds: float = 3600.0,
        log_path: str | None = None,
        trunk: SofiaProfile | None = None,
        tts_engines: frozenset[str] = frozenset({"flite", "tts_commandline"}),
    ) -> None:
        self.clock = SimClock(time_factor)
        self.log = SwitchLog(self.clock, log_path)  # freeswitch.log: RECV DTMF and EXECUTE lines
        name = hostname or socket.gethostname()
        self.core = CoreIdentity(str(uuidlib.uuid4()), name, name, ipv4="127.0.0.1", ipv6="::1")
        self.bus = EventBus()
        self.dialplan = dialplan or Dialplan.default()
        self.rng = random.Random(seed)
        self.media = media or MediaCatalog()
        # the TTS engines its modules provide (modules.conf: mod_flite, mod_tts_commandline)
        self.tts_engines = tts_engines
        self.agents: dict[str, AgentEndpoint] = dict(agents or {})
        self.default_agent: AgentEndpoint | None = None if agents else AgentEndpoint()
        self.default_remote = AgentEndpoint(answer_after=4.0)
        # numbers dialled through a gateway that behave otherwise than default_remote (by number)
        self.remotes: dict[str, AgentEndpoint] = {}
        self.password = password
        self.domain = "127.0.0.1"
        # hold_music as vars.xml sets it (fs_conf/vars.xml): what switch_ivr_hold and hold-bleg play
        self.globals: dict[str, str] = {
            "hostname": name,
            "switchname": name,
            "domain": self.domain,
            "hold_music": "local_stream://moh",
        }
        self.max_call_seconds = max_call_seconds
        # the SIP profile callers arrive on (the rendered sip_profiles/trunk.xml); None: loopback callers,
        # as in the recorded transcripts
        self.trunk = trunk
        self.session_limit = 1000
        self.channels: dict = {}
        self.sessions: dict[str, Session] = {}
        self.handles: dict[str, CallHandle] = {}
        self.stats = SwitchStats()
        self.failures: dict[str, str] = {}
        # target channel uuid -> ccctl.sim.eavesdrop.Tap of each listener (eavesdrop, three_way)
        self.eavesdrops: dict[str, list] = {}
        # conference name -> ccctl.sim.conference.Conference (mod_conference's conferences)
        self.conferences: dict = {}
        self.session_ids = 1
        self.started_at = self.clock.now()
        self._server = InboundServer(self, esl_host, esl_port)

    # lifecycle -------------------------------------------------------------------
    def start(self) -> Switch:
        self._server.start()
        return self

    def stop(self) -> None:
        for channel in list(self.channels.values()):
            channel.hangup("SYSTEM_SHUTDOWN", by="switch")
        self._server.stop()
        gevent.sleep(0)
        self.log.close()

    @property
    def esl_address(self) -> tuple[str, int]:
        return self._server.address

    def __enter__(self) -> Switch:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # channels ----------------------------------------------------------------------
    def next_session_id(self) -> int:
        number = self.session_ids
        self.session_ids += 1
        return number

    def start_session(self, session: Session, created: bool = False) -> None:
        session.created = created
        self.sessions[session.channel.uuid] = session
        self.stats.peak = max(self.stats.peak, len(self.channels))
        session.start()

    def session_ended(self, session: Session) -> None:
        uuid = session.channel.uuid
        self.sessions.pop(uuid, None)
        self.channels.pop(uuid, None)
        handle = self.handles.pop(uuid, None)
        if handle is not None:
            outcome = self._outcome(session)
            if outcome.failure:
                self.stats.failed += 1
            else:
                self.stats.completed += 1
            handle._result.set(outcome)

    def note_failure(self, channel, reason: str) -> None:
        self.failures.setdefault(channel.uuid, reason)

    def hangup_soon(self, channel, cause: str, by: str) -> None:
        """uuid_kill / hupall: the session acts on it at its next media frame, after the API has answered."""
        gevent.spawn_later(self.clock.real(FRAME_SECONDS), channel.hangup, cause, by)

    def place_call(self, script: CallerScript) -> CallHandle:
        """A simulated patient dials `script.destination`; the dialplan decides what happens.

        With a trunk profile the caller is a sofia call on it, else the B leg of a loopback pair.
        """
        ch = self._caller_channel(script)
        ch.patient = PatientSession(script)
        ch.set_deadline(self.clock.now() + self.max_call_seconds, by="limit", cause="ALLOTTED_TIMEOUT")
        session = Session(self, ch, None)
        handle = CallHandle(session)
        self.handles[ch.uuid] = handle
        self.stats.started += 1
        self.start_session(session)
        return handle

    def _caller_channel(self, script: CallerScript) -> Channel:
        trunk = self.trunk
        if trunk is not None:
            name, source = trunk.channel_name(script.caller), "mod_sofia"
        else:
            name, source = f"loopback/{script.destination}-b", "mod_loopback"
        ch = new_channel(
            self, name, "inbound", script.caller, script.destination, context=script.context, source=source
        )
        ch.caller_name = script.caller_name
        if trunk is not None:
            ch.media_on_answer = trunk.late_negotiation
            return ch
        ch.set_var("origination_caller_id_number", script.caller)
        ch.set_var("other_loopback_leg_uuid", str(uuidlib.uuid4()))
        ch.set_var("loopback_leg", "B")
        return ch

    def _outcome(self, session: Session) -> CallOutcome:
        ch = session.channel
        failure = self.failures.pop(ch.uuid, "")
        if ch.deadline_by == "limit" and ch.hung_up_by == "limit":
            failure = failure or "call reached the hard time limit"
        patient = ch.patient
        return CallOutcome(
            uuid=ch.uuid,
            caller=ch.caller_number,
            destination=ch.destination,
            answered=ch.answered,
            hangup_cause=ch.hangup_cause or "",
            hung_up_by=ch.hung_up_by,
            duration=(ch.times.hungup - ch.times.created) / 1_000_000,
            prompts=list(session.prompts),
            digits_sent=list(patient.digits_sent) if patient else [],
            apps=list(session.apps),
            bridged_to=list(session.bridged_to),
            controller_connected=session.controller is not None and session.controller.connected.is_set(),
            failure=failure,
        )

    @property
    def active(self) -> int:
        return len(self.handles)

    def statistics(self) -> dict[str, int]:
        return self.stats.as_dict(self.active)

    def drive(self, rate: float, calls: int | None = None, seconds: float | None = None, profile=None):
        """Poisson traffic of simulated patients (see ccctl.sim.traffic.drive)."""
        from ccctl.sim.traffic import drive

        return drive(self, rate, calls=calls, seconds=seconds, profile=profile)
