"""The life of one call leg, one greenlet: route, run applications, park under a socket, hang up.

Follows switch_core_session_exec (EXECUTE / EXECUTE_COMPLETE and current_application*),
switch_ivr_parse_event (sendmsg call-command), switch_ivr_parse_all_events (the queued commands run
inside whatever media loop is going: park, a prompt, a digit collection, a recording, a sleep) and
the hangup/reporting state handlers.
"""

from __future__ import annotations

import time
import uuid as uuidlib
from collections import deque
from typing import TYPE_CHECKING

import gevent

from ccctl.sim.apps import APPS
from ccctl.sim.broadcast import ECHO_ALEG, LOOP, broadcast, hold_music, is_moh, wait_for_flag
from ccctl.sim.causes import cause_from_text, q850
from ccctl.sim.cdr import set_cdr_variables
from ccctl.sim.channel import Channel, switch_true
from ccctl.sim.command_reader import ControllerCommand, atoi
from ccctl.sim.sim_clock import FRAME_SECONDS

if TYPE_CHECKING:
    from ccctl.sim.listener import Listener
    from ccctl.sim.switch import Switch


class Session:
    """Runs a Channel from creation to CHANNEL_DESTROY."""

    def __init__(self, switch: Switch, channel: Channel, extension: list[tuple[str, str | None]] | None = None):
        self.switch = switch
        self.channel = channel
        self.extension = extension  # None: route through the dialplan
        self.messages: deque[ControllerCommand] = deque()
        self.controller: Listener | None = None
        self.actor = "dialplan"  # who runs the current application: dialplan or controller
        self.transfer_to: tuple[str, str] | None = None  # (destination, context)
        self.inline_extension: list[tuple[str, str | None]] | None = None  # uuid_transfer ... inline
        self.apps: list[tuple[str, str]] = []
        self.prompts: list[str] = []
        self.recordings: list[str] = []
        self.connect_failed = False
        self.created = False  # CHANNEL_CREATE already fired (legs rung by originate)
        self.bridged_to: list[str] = []
        self.following = False  # inside a bridge loop (ccctl.sim.bridge.run_bridge)
        self.pending_bridge = False  # uuid_bridge made this parked leg a bridge's originator: park runs it
        self.peer_bridge = False  # uuid_bridge moved this leg's `bridge` into a new bridge: park follows it
        self.greenlet: gevent.Greenlet | None = None
        self.depth = 0  # switch_core_session_stack_count: parse_all_events running now, one inside another
        self.event_locks = 0  # CF_EVENT_LOCK (set recursively): a running `event-lock: true` command holds the queue
        self.completed_at: float | None = None  # perf_counter of the last EXECUTE_COMPLETE the controller awaits

    def start(self) -> gevent.Greenlet:
        self.greenlet = gevent.spawn(self.run)
        return self.greenlet

    def run(self) -> None:
        try:
            self._route_and_execute()
            if self.channel.up:
                self.channel.hangup("NORMAL_CLEARING", by=self.actor)
            self._finish()
        finally:
            self.switch.session_ended(self)

    def _route_and_execute(self) -> None:
        ch = self.channel
        if not self.created:
            ch.fire("CHANNEL_CREATE")
            _media_variables(ch)
            if ch.direction == "inbound":
                ch.set_callstate("RINGING")
        if ch.patient is not None:
            ch.patient.on_start(ch)
        extension = self.extension
        while ch.up:
            ch.set_running_state("CS_ROUTING")
            if extension is None:
                extension = self.switch.dialplan.route(ch)
            if extension is None:
                ch.hangup("NO_ROUTE_DESTINATION", by="dialplan")
                return
            ch.set_running_state("CS_EXECUTE")
            for app, arg in extension:
                self.actor = "dialplan"
                if not self.execute(app, arg) or self.transfer_to is not None:
                    break
            if self.peer_bridge:
                self._follow_peer_bridge()
                return
            if self.transfer_to is None:
                return
            ch.destination, ch.context = self.transfer_to
            ch.times.transferred = self.switch.clock.now_us()
            ch.touch_profile()
            self.transfer_to = None
            extension, self.inline_extension = self.inline_extension, None

    # applications --------------------------------------------------------------
    def execute(self, app: str, arg: str | None, app_uuid: str | None = None) -> bool:
        """switch_core_session_execute_application: False stops the caller's loop."""
        ch = self.channel
        spec = APPS.get(app)
        if not ch.up:
            return spec is not None and spec.zombie and self._exec(spec.name, spec, arg, app_uuid)
        if spec is None:
            ch.hangup("DESTINATION_OUT_OF_ORDER", by="switch")  # "Invalid Application", no EXECUTE events
            return False
        if spec.media and not ch.answered and not ch.early and ch.direction == "inbound":
            ch.pre_answer()
        return self._exec(app, spec, arg, app_uuid)

    def _exec(self, app: str, spec, arg: str | None, app_uuid: str | None) -> bool:
        ch = self.channel
        expanded = ch.expand(arg) if arg is not None else None
        app_uuid = app_uuid or str(uuidlib.uuid4())
        ch.app_log.append((app, expanded))
        self.apps.append((app, expanded or ""))
        ch.set_var("current_application", app)
        ch.set_var("current_application_data", expanded)
        ch.set_var("current_application_response", None)
        data = [("Application-Data", expanded)] if expanded else []
        if self.switch.log.active:  # switch_core_session_exec logs every application with its data
            self.switch.log.clean(ch.uuid, f"EXECUTE [depth={self.depth}] {ch.name} {app}({expanded or ''})")
        ch.fire("CHANNEL_EXECUTE", extra=[("Application", app), *data, ("Application-UUID", app_uuid)])
        ch.flags.discard("CF_BREAK")  # switch_core_session_exec: a stale break never cuts the next application
        ch.set_var("current_application", app)
        if ch.patient is not None:
            ch.patient.on_app(ch, app, expanded or "")
        spec.run(self, expanded or "")
        response = ch.get_var("current_application_response") or "_none_"
        ch.fire(
            "CHANNEL_EXECUTE_COMPLETE",
            extra=[("Application", app), *data, ("Application-Response", response), ("Application-UUID", app_uuid)],
        )
        if self.actor == "controller":
            self.completed_at = time.perf_counter()
        return not self.peer_bridge  # moved into another bridge: the leg's state is no longer CS_EXECUTE

    # messages from a controller (sendmsg) ---------------------------------------
    def queue_message(self, command: ControllerCommand) -> None:
        if self.completed_at is not None:
            self.switch.stats.reactions.append(time.perf_counter() - self.completed_at)
            self.completed_at = None
        if (command.header("call-command") or "").lower() == "hangup":
            # parse_all_events runs every media frame, so a hangup never waits for the app
            self.channel.hangup(cause_from_text(command.header("hangup-cause")), by="controller")
            return
        self.messages.append(command)
        self.channel.wakeup.set()

    def flush_private_events(self) -> int:
        """switch_core_session_flush_private_events (switch_core_session.c): the sendmsg commands queued on
        the channel and not started yet are dropped unseen (no CHANNEL_EXECUTE, no EXECUTE_COMPLETE)."""
        dropped = len(self.messages)
        self.messages.clear()
        return dropped

    def events_waiting(self) -> bool:
        """switch_core_session_dequeue_private_event would hand out a command: one is queued, none holds the lock."""
        return bool(self.messages) and not self.event_locks

    def parse_all_events(self) -> None:
        """switch_ivr_parse_all_events: run the queued commands one level deeper (the depth FreeSWITCH logs
        with EXECUTE), until the queue is empty or a running command holds it (event-lock)."""
        actor = self.actor  # the interrupted application keeps its owner
        self.depth += 1
        try:
            while self.events_waiting() and not self._leaving():
                self.parse_message(self.messages.popleft())
        finally:
            self.depth -= 1
            self.actor = actor

    def _leaving(self) -> bool:
        """The call is going elsewhere (hangup, transfer, a bridge to follow): what is queued waits for park."""
        return not self.channel.up or self.transfer_to is not None or self.pending_bridge or self.peer_bridge

    def media_wait(self, seconds: float, dtmf_breaks: bool = False) -> str:
        """A media loop's frames for `seconds` by the clock (switch_ivr_sleep, collect_digits_count, record):
        Channel.media_wait, with switch_ivr_parse_all_events at every frame, so a queued command runs inside
        the application and its time counts against the application's own timeout."""
        clock = self.switch.clock
        end = clock.now() + seconds
        while True:
            result = self.channel.media_wait(end - clock.now(), dtmf_breaks, interrupt=self.events_waiting)
            if result != "event":
                return result
            self.parse_all_events()

    def parse_message(self, command: ControllerCommand) -> None:
        """switch_ivr_parse_event: `event-lock: true` holds the queue while the command runs."""
        locked = switch_true(command.header("event-lock"))
        self.event_locks += locked
        try:
            self._parse_execute(command)
        finally:
            self.event_locks -= locked

    def _parse_execute(self, command: ControllerCommand) -> None:
        """switch_ivr_parse_event for call-command execute (loops, event-uuid, hold-bleg, CF_BROADCAST)."""
        ch = self.channel
        if (command.header("call-command") or "").lower() != "execute":
            return
        app = command.header("execute-app-name")
        if not app:
            return
        arg = command.header("execute-app-arg")
        if not arg and (command.header("content-type") or "").lower() == "text/plain":
            arg = command.body
        loops = atoi(command.header("loops") or "1")
        event_uuid = command.header("event-uuid")
        ch.flags.discard("CF_STOP_BROADCAST")
        no_hold = ch.bridge_ids is None or "CF_HOLD_BLEG" in ch.flags  # not CF_BRIDGED
        inner = no_hold  # a broadcast inside a broadcast leaves CF_BROADCAST to the outer one
        if "CF_BROADCAST" not in ch.flags:
            ch.flags.add("CF_BROADCAST")
            inner = False
        held = None if no_hold else self._hold_bleg(command.header("hold-bleg"))
        actor = "api" if command.header("lead-frames") else "controller"  # switch_ivr_broadcast's commands
        x = 0
        while x < loops or loops < 0:
            ch.set_var("current_loop", str(x + 1))
            ch.set_var("total_loops", str(loops))
            self.actor = actor
            started = self.switch.clock.now()
            if not self.execute(app, arg, event_uuid):
                if not inner or "CF_STOP_BROADCAST" in ch.flags:
                    ch.flags.discard("CF_BROADCAST")
                break
            x += 1
            if not ch.up or "CF_STOP_BROADCAST" in ch.flags or self.switch.clock.now() - started < 0.5:
                break
        ch.set_var("current_loop", None)
        ch.set_var("total_loops", None)
        if held is not None:
            ch.flags.discard("CF_HOLD_BLEG")
            held.stop_broadcast()
            wait_for_flag(held, "CF_BROADCAST", False)
        if not inner:
            ch.flags.discard("CF_BROADCAST")
        if "CF_STOP_BROADCAST" in ch.flags:
            ch.flags.discard("CF_BROADCAST")
            ch.flags.add("CF_BREAK")

    def _hold_bleg(self, hold_bleg: str | None) -> Channel | None:
        """hold-bleg: the partner hears hold music while the application runs; the partner, or None."""
        ch = self.channel
        partner = ch.other_leg
        if not switch_true(hold_bleg) or partner is None:
            return None
        stream = hold_music(self.switch, partner) or hold_music(self.switch, ch)
        if not is_moh(stream) or self.switch.sessions.get(partner.uuid) is None:
            return None
        ch.flags.add("CF_HOLD_BLEG")
        broadcast(self.switch, partner.uuid, stream, ECHO_ALEG | LOOP)
        wait_for_flag(partner, "CF_BROADCAST", True)
        return partner

    def park(self) -> None:
        """switch_ivr_park: wait for queued messages until hangup, transfer or the controller leaves."""
        ch = self.channel
        ch.fire("CHANNEL_PARK")
        clock = self.switch.clock
        woken = False  # the last thing that happened was a wait, not one of our own applications
        while ch.up and self.transfer_to is None and self._controlled():
            if self.pending_bridge:
                self._bridge_from_park()
                break
            if self.peer_bridge:
                self._follow_peer_bridge()
                break
            if self.events_waiting():
                if not (ch.answered or ch.early):  # no media to read yet: switch_ivr_park takes one command
                    self.parse_message(self.messages.popleft())  # itself, at its own depth
                self.parse_all_events()  # then the rest, at the end of the frame
                ch.flags.discard("CF_BREAK")  # park reads no media for a stopped broadcast to break
                woken = False
                continue
            now = clock.now()
            if ch.hangup_deadline is not None and now >= ch.hangup_deadline:
                ch.hangup(ch.deadline_cause, by=ch.deadline_by, at=ch.hangup_deadline)
                break
            timeout = None if ch.hangup_deadline is None else clock.real(ch.hangup_deadline - now) + 0.0005
            ch.wakeup.clear()
            ch.wakeup.wait(timeout)
            woken = True
        if woken and not ch.up:
            clock.sleep(FRAME_SECONDS)  # a hangup from elsewhere is noticed at the next frame
        ch.fire("CHANNEL_UNPARK")

    def _bridge_from_park(self) -> None:
        """uuid_bridge_on_soft_execute: the originator leaves park for the bridge, then goes on executing."""
        from ccctl.sim.bridge import run_bridge

        self.pending_bridge = False
        run_bridge(self)

    def _follow_peer_bridge(self) -> None:
        """audio_bridge_on_exchange_media: the moved leg stays in the new bridge (the controller's messages
        run inside it) and is hung up when its partner leaves."""
        from ccctl.sim.bridge import run_bridge

        self.peer_bridge = False
        run_bridge(self, app=False)

    def _controlled(self) -> bool:
        return self.controller is None or self.controller.running

    # hangup ----------------------------------------------------------------------
    def _finish(self) -> None:
        ch = self.channel
        clock = self.switch.clock
        cause = ch.hangup_cause or "NORMAL_CLEARING"
        ch.set_running_state("CS_HANGUP")
        ch.times.hungup = clock.now_us()
        ch.touch_profile()
        ch.set_var("hangup_cause", cause)
        ch.set_var("hangup_cause_q850", str(q850(cause)))
        ch.set_callstate("HANGUP")
        ch.set_running_state("CS_REPORTING")
        set_cdr_variables(ch)
        ch.fire("CHANNEL_HANGUP_COMPLETE", before=[("Hangup-Cause", cause)])
        limit = clock.real(self.switch.max_call_seconds)
        for listener in list(ch.controllers):
            if not listener.closed.wait(limit):
                self.switch.note_failure(ch, "controller kept the socket open after hangup")
                listener.stop()
        ch.state = ch.running_state = "CS_DESTROY"
        ch.fire("CHANNEL_DESTROY")


def _media_variables(ch: Channel) -> None:
    """Codec variables arrive once media is set up; loopback re-sets its leg variables after them."""
    for name, value in (("read_codec", "L16"), ("read_rate", "8000"), ("write_codec", "L16"), ("write_rate", "8000")):
        if ch.get_var(name) is None:
            ch.set_var(name, value)
    for name in ("origination_caller_id_number", "other_loopback_leg_uuid", "loopback_leg", "call_uuid"):
        value = ch.get_var(name)
        if value is not None:
            ch.set_var(name, value)
