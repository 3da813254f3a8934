"""One emulated FreeSWITCH channel: caller profile, states, variables, timestamps, events.

Mirrors switch_channel.c: variables keep insertion order and move to the end when set
again; every event carries the basic data and, for the listed kinds, every variable.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING

import gevent
from gevent.event import Event as Flag

from ccctl.sim.event_builder import CALLED_FROM, EVENTS_WITH_VARIABLES, SimEvent, base_headers
from ccctl.sim.sim_clock import FRAME_SECONDS

if TYPE_CHECKING:
    from ccctl.sim.switch import Switch

STATE_NUMBERS = {
    "CS_NEW": 0,
    "CS_INIT": 1,
    "CS_ROUTING": 2,
    "CS_SOFT_EXECUTE": 3,
    "CS_EXECUTE": 4,
    "CS_EXCHANGE_MEDIA": 5,
    "CS_PARK": 6,
    "CS_CONSUME_MEDIA": 7,
    "CS_HIBERNATE": 8,
    "CS_RESET": 9,
    "CS_HANGUP": 10,
    "CS_REPORTING": 11,
    "CS_DESTROY": 12,
}


DTMF_DURATION = "2000"  # samples: the default digit length loopback channels carry
_TRUE = ("true", "yes", "on", "1", "enabled", "active", "allow")


def switch_true(value: str | None) -> bool:
    return (value or "").lower() in _TRUE


class QueuedDigit:
    """A digit on its way in: due at simulated time `due`, received (and judged sensitive) when it arrives."""

    __slots__ = ("due", "digit", "received", "sensitive")

    def __init__(self, due: float, digit: str) -> None:
        self.due = due
        self.digit = digit
        self.received = False
        self.sensitive = False


class ProfileTimes:
    __slots__ = (
        "profile_created",
        "created",
        "answered",
        "progress",
        "progress_media",
        "hungup",
        "transferred",
        "resurrected",
        "bridged",
        "last_hold",
        "hold_accum",
    )

    def __init__(self, now_us: int) -> None:
        self.profile_created = self.created = now_us
        self.answered = self.progress = self.progress_media = self.hungup = 0
        self.transferred = self.resurrected = self.bridged = self.last_hold = self.hold_accum = 0


class Channel:
    """State of one call leg; the session greenlet (ccctl.sim.session) drives it."""

    def __init__(
        self,
        switch: Switch,
        uuid: str,
        name: str,
        direction: str,
        caller_number: str,
        destination: str,
        context: str = "default",
        source: str = "mod_loopback",
        caller_name: str = "",
    ) -> None:
        self.switch = switch
        self.uuid = uuid
        self.name = name
        self.direction = direction
        self.caller_number = caller_number
        self.caller_name = caller_name
        self.destination = destination
        self.context = context
        self.source = source
        self.callee_name = "Outbound Call"
        self.callee_number = "default"
        self.times = ProfileTimes(switch.clock.now_us())
        self.state = "CS_INIT"  # channel->state
        self.running_state = "CS_INIT"
        self.callstate = "DOWN"
        self.answered = False
        self.early = False
        self.hangup_cause: str | None = None
        self.hung_up_by = ""
        self.hangup_at = 0.0  # simulated time of the hangup
        self.beep_due: float | None = None  # simulated time the far end's voicemail greeting beeps (mod_avmd)
        self.hit_dialplan = direction == "inbound"
        self.variables: dict[str, str] = {}
        self.dtmf: deque[QueuedDigit] = deque()
        self.dtmf_log: list[str] = []
        self.app_log: list[tuple[str, str | None]] = []
        self.wakeup = Flag()
        self.hangup_deadline: float | None = None  # simulated time the far end (or the limit) hangs up
        self.deadline_by = "caller"
        self.deadline_cause = "NORMAL_CLEARING"
        self.controllers: list = []  # outbound ESL listeners bound to this channel
        self.other_leg: Channel | None = None  # bridged peer (Other-Leg-* headers)
        self.loopback_peer: Channel | None = None  # the other half of a loopback pair hangs up with us
        self.patient = None  # ccctl.sim.callers.PatientSession for simulated callers
        self.endpoint = None  # agent endpoint behaviour for user/ legs
        self.media_on_answer = False  # a sofia call with late negotiation: answering first sets up its media
        # switch_channel flags the emulator models: CF_HOLD, CF_BROADCAST, CF_STOP_BROADCAST, CF_BREAK, CF_HOLD_BLEG
        self.flags: set[str] = set()
        self.bridge_ids: tuple[str, str] | None = None  # (Bridge-A, Bridge-B) of the bridge this leg is in
        self._profile_cache: list[tuple[str, str]] | None = None

    # variables -------------------------------------------------------------
    def set_var(self, name: str, value: str | None) -> None:
        """switch_channel_set_variable: empty deletes, setting again moves the variable last."""
        self.variables.pop(name, None)
        if value:
            self.variables[name] = value

    def get_var(self, name: str) -> str | None:
        return self.variables.get(name)

    def expand(self, text: str) -> str:
        """${var} expansion from channel variables, then switch globals (switch_channel_expand_variables)."""
        if "$" not in text:
            return text
        out, i = [], 0
        while i < len(text):
            if text.startswith("${", i):
                end = text.find("}", i + 2)
                if end > 0:
                    key = text[i + 2 : end]
                    value = self.variables.get(key)
                    if value is None:
                        value = self.switch.globals.get(key, "")
                    out.append(value)
                    i = end + 1
                    continue
            out.append(text[i])
            i += 1
        return "".join(out)

    # state -----------------------------------------------------------------
    @property
    def up(self) -> bool:
        return STATE_NUMBERS[self.state] < STATE_NUMBERS["CS_HANGUP"]

    def touch_profile(self) -> None:
        self._profile_cache = None

    def set_running_state(self, state: str) -> None:
        self.state = state
        self.running_state = state
        self.fire("CHANNEL_STATE")

    def set_callstate(self, callstate: str) -> None:
        original = self.callstate
        self.callstate = callstate
        self.fire("CHANNEL_CALLSTATE", extra=[("Original-Channel-Call-State", original)])

    def pre_answer(self) -> None:
        """switch_channel_perform_mark_pre_answered: early media."""
        if self.answered or self.early or not self.up:
            return
        self.early = True
        self.times.progress_media = self.switch.clock.now_us()
        self.touch_profile()
        self.fire("CHANNEL_PROGRESS_MEDIA")
        self.set_callstate("EARLY")
        self.set_var("endpoint_disposition", "EARLY MEDIA")

    def answer(self) -> None:
        """switch_channel_perform_mark_answered: CHANNEL_ANSWER shows the old call state.

        A call whose media waits for the answer (media_on_answer) is pre-answered first, as
        sofia_answer_channel -> sofia_media_tech_media -> switch_channel_mark_pre_answered does.
        """
        if self.answered or not self.up:
            return
        if self.media_on_answer:
            self.pre_answer()
        self.answered = True
        self.times.answered = self.switch.clock.now_us()
        self.touch_profile()
        self.fire("CHANNEL_ANSWER")
        self.set_callstate("ACTIVE")
        self.set_var("endpoint_disposition", "ANSWER")
        peer = self.loopback_peer
        if peer is not None and not peer.answered:
            peer.answer()
            peer.wakeup.set()

    def hangup(self, cause: str = "NORMAL_CLEARING", by: str = "switch", at: float | None = None) -> None:
        """switch_channel_perform_hangup: CHANNEL_HANGUP now, the session finishes the rest.

        `at` is the simulated moment a planned hangup was due, so media timing does not depend on wake-up jitter.
        """
        if not self.up:
            return
        self.hangup_at = self.switch.clock.now() if at is None else at
        self.state = "CS_HANGUP"
        self.hangup_cause = cause
        self.hung_up_by = by
        self.fire("CHANNEL_HANGUP")
        self.wakeup.set()
        if self.other_leg is not None:
            self.other_leg.wakeup.set()
        for listener in list(self.controllers):
            listener.channel_down()
        peer = self.loopback_peer
        if peer is not None and peer.up:
            peer.hangup(cause, by="peer")

    def stop_broadcast(self) -> None:
        """switch_channel_stop_broadcast: a running broadcast (CF_BROADCAST) is told to stop and break off."""
        if "CF_BROADCAST" in self.flags:
            self.flags.update(("CF_STOP_BROADCAST", "CF_BREAK"))
            self.wakeup.set()

    # events ----------------------------------------------------------------
    def fire(
        self,
        name: str,
        extra: list[tuple[str, str]] | tuple = (),
        before: list[tuple[str, str]] | tuple = (),
        body: str = "",
        called_from: tuple[str, str, int] | None = None,
    ) -> None:
        bus = self.switch.bus
        if not bus.wants(name, self.uuid):
            return
        where = called_from or CALLED_FROM[name]
        headers = base_headers(self.switch.core, name, self.switch.clock.now_us(), where)
        headers.extend(before)
        headers.extend(self.basic_data())
        if name in EVENTS_WITH_VARIABLES:
            headers.extend(self.variable_headers())
        headers.extend(extra)
        bus.fire(SimEvent(name, headers, body, unique_id=self.uuid))

    def basic_data(self) -> list[tuple[str, str]]:
        """switch_channel_event_set_basic_data."""
        if not self.up:
            answer_state = "hangup"
        elif self.answered:
            answer_state = "answered"
        elif self.early:
            answer_state = "early"
        else:
            answer_state = "ringing"
        rows = [
            ("Channel-State", self.running_state),
            ("Channel-Call-State", self.callstate),
            ("Channel-State-Number", str(STATE_NUMBERS[self.state])),
            ("Channel-Name", self.name),
            ("Unique-ID", self.uuid),
            ("Call-Direction", self.direction),
            ("Presence-Call-Direction", self.direction),
            ("Channel-HIT-Dialplan", "true" if self.hit_dialplan else "false"),
            ("Channel-Call-UUID", self.variables.get("call_uuid", self.uuid)),
            ("Answer-State", answer_state),
        ]
        if self.hangup_cause:
            rows.append(("Hangup-Cause", self.hangup_cause))
        rows.extend(_CODEC_ROWS)
        rows.extend(self.profile_data("Caller"))
        peer = self.other_leg
        if peer is not None:
            rows.append(("Other-Type", "originatee" if self.direction == "inbound" else "originator"))
            rows.extend(peer.profile_data("Other-Leg"))
        return rows

    def profile_data(self, prefix: str) -> list[tuple[str, str]]:
        """switch_caller_profile_event_set_data, cached until a time stamp changes."""
        if prefix == "Caller" and self._profile_cache is not None:
            return self._profile_cache
        t = self.times
        rows = [(f"{prefix}-Direction", self.direction), (f"{prefix}-Logical-Direction", self.direction)]
        rows.append((f"{prefix}-Dialplan", "xml"))
        if self.caller_name:
            rows.append((f"{prefix}-Caller-ID-Name", self.caller_name))
        if self.caller_number:
            rows.append((f"{prefix}-Caller-ID-Number", self.caller_number))
        if self.caller_name:
            rows.append((f"{prefix}-Orig-Caller-ID-Name", self.caller_name))
        if self.caller_number:
            rows.append((f"{prefix}-Orig-Caller-ID-Number", self.caller_number))
        rows += [(f"{prefix}-Callee-ID-Name", self.callee_name), (f"{prefix}-Callee-ID-Number", self.callee_number)]
        if self.caller_number:
            rows.append((f"{prefix}-ANI", self.caller_number))
        rows += [
            (f"{prefix}-Destination-Number", self.destination),
            (f"{prefix}-Unique-ID", self.uuid),
            (f"{prefix}-Source", self.source),
            (f"{prefix}-Context", self.context),
            (f"{prefix}-Channel-Name", self.name),
            (f"{prefix}-Profile-Index", "1"),
            (f"{prefix}-Profile-Created-Time", str(t.profile_created)),
            (f"{prefix}-Channel-Created-Time", str(t.created)),
            (f"{prefix}-Channel-Answered-Time", str(t.answered)),
            (f"{prefix}-Channel-Progress-Time", str(t.progress)),
            (f"{prefix}-Channel-Progress-Media-Time", str(t.progress_media)),
            (f"{prefix}-Channel-Hangup-Time", str(t.hungup)),
            (f"{prefix}-Channel-Transfer-Time", str(t.transferred)),
            (f"{prefix}-Channel-Resurrect-Time", str(t.resurrected)),
            (f"{prefix}-Channel-Bridged-Time", str(t.bridged)),
            (f"{prefix}-Channel-Last-Hold", str(t.last_hold)),
            (f"{prefix}-Channel-Hold-Accum", str(t.hold_accum)),
            (f"{prefix}-Screen-Bit", "true"),
            (f"{prefix}-Privacy-Hide-Name", "false"),
            (f"{prefix}-Privacy-Hide-Number", "false"),
        ]
        if prefix == "Caller":
            self._profile_cache = rows
        return rows

    def variable_headers(self) -> list[tuple[str, str]]:
        return [("variable_" + k, v) for k, v in self.variables.items()]

    def set_deadline(self, when: float, by: str, cause: str = "NORMAL_CLEARING") -> None:
        """The far end hangs up at `when` (simulated), unless something earlier is already planned."""
        if self.hangup_deadline is None or when < self.hangup_deadline:
            self.hangup_deadline, self.deadline_by, self.deadline_cause = when, by, cause
            self.wakeup.set()

    # media time ------------------------------------------------------------
    def has_dtmf(self) -> bool:
        return bool(self.dtmf) and self.dtmf[0].due <= self.switch.clock.now()

    def queue_dtmf(self, digits: str, due: float | None = None) -> None:
        """A digit from the far end (patient timeline or uuid_send_dtmf), in arrival order."""
        now = self.switch.clock.now()
        when = now if due is None else due
        for digit in digits:
            queued = QueuedDigit(when, digit)
            self.dtmf.append(queued)
            if when <= now:
                self._receive(queued)
            elif self.switch.log.active:  # its RECV DTMF line belongs at the moment it arrives
                gevent.spawn_later(self.switch.clock.real(when - now), self._receive, queued)
        self.wakeup.set()

    def _receive(self, queued: QueuedDigit) -> None:
        """switch_channel_queue_dtmf (switch_channel.c): `RECV DTMF <digit>:<duration>` at INFO, unless the
        channel has sensitive_dtmf=true as the digit arrives: then it is marked DTMF_FLAG_SENSITIVE for good."""
        if queued.received or not self.up:
            return
        queued.received = True
        queued.sensitive = switch_true(self.get_var("sensitive_dtmf"))
        if not queued.sensitive and self.switch.log.active:
            where = "switch_channel.c:528"
            self.switch.log.channel(self.uuid, "INFO", where, f"RECV DTMF {queued.digit}:{DTMF_DURATION}")

    def dequeue_dtmf(self) -> str:
        """switch_channel_dequeue_dtmf: fires DTMF (basic data only) and logs digits_dialed; a sensitive
        digit does neither."""
        queued = self.dtmf.popleft()
        self._receive(queued)
        if not queued.sensitive:
            self.dtmf_log.append(queued.digit)
            extra = [("DTMF-Digit", queued.digit), ("DTMF-Duration", DTMF_DURATION), ("DTMF-Source", "APP")]
            self.fire("DTMF", extra=extra)
        return queued.digit

    def wait_for(self, done, seconds: float = 86400.0) -> str:
        """Wait until `done()` holds ('done'), this channel hangs up ('hangup') or `seconds` pass ('timeout')."""
        clock = self.switch.clock
        end = clock.now() + seconds
        while True:
            if not self.up:
                return "hangup"
            if done():
                return "done"
            now = clock.now()
            if self.hangup_deadline is not None and now >= self.hangup_deadline:
                self.hangup(self.deadline_cause, by=self.deadline_by, at=self.hangup_deadline)
                continue
            if now >= end:
                return "timeout"
            until = end if self.hangup_deadline is None else min(end, self.hangup_deadline)
            self.wakeup.clear()
            self.wakeup.wait(clock.real(until - now) + 0.0005)

    def media_wait(self, seconds: float, dtmf_breaks: bool = False, interrupt: Callable[[], bool] | None = None) -> str:
        """Let `seconds` of simulated media pass: 'done', 'dtmf' (a digit is ready), 'hangup', 'break' or
        'event' (`interrupt()` holds: the session has a queued command to run inside the application).

        'break' is CF_BREAK (switch_channel_stop_broadcast): the media loop clears it and stops, as
        switch_ivr_play_file and switch_ivr_sleep do. Each frame checks in their order: hangup, CF_BREAK,
        the queued commands (switch_ivr_parse_all_events), then DTMF.
        """
        clock = self.switch.clock
        end = clock.now() + max(0.0, seconds)
        while True:
            if not self.up:
                clock.sleep(FRAME_SECONDS)
                return "hangup"
            if "CF_BREAK" in self.flags:
                self.flags.discard("CF_BREAK")
                return "break"
            if interrupt is not None and interrupt():
                return "event"
            if dtmf_breaks and self.has_dtmf():
                return "dtmf"
            now = clock.now()
            if self.hangup_deadline is not None and now >= self.hangup_deadline:
                self.hangup(self.deadline_cause, by=self.deadline_by, at=self.hangup_deadline)
                continue
            if now >= end:
                return "done"
            until = end
            if self.hangup_deadline is not None:
                until = min(until, self.hangup_deadline)
            if dtmf_breaks and self.dtmf:
                until = min(until, self.dtmf[0].due)
            self.wakeup.clear()
            self.wakeup.wait(clock.real(until - now) + 0.0005)


_CODEC_ROWS = (
    ("Channel-Read-Codec-Name", "L16"),
    ("Channel-Read-Codec-Rate", "8000"),
    ("Channel-Read-Codec-Bit-Rate", "128000"),
    ("Channel-Write-Codec-Name", "L16"),
    ("Channel-Write-Codec-Rate", "8000"),
    ("Channel-Write-Codec-Bit-Rate", "128000"),
)
