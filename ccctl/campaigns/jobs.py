"""The campaign dialer: a periodic greenlet of `ccctl serve` placing the calls the pacer chooses.

Each tick, per running campaign: targets left in progress by a dead process are released for later, the
due ones go through the pacer, each chosen one is claimed (compare-and-set) and originated through the
inbound ESL connection with `&socket(...)` back to this controller, where serve/call_apps.py hands the
answered call to ccctl.campaigns.call. A failed originate's cause becomes the attempt's outcome; after the
last voice attempt the patient gets the campaign's SMS, then its e-mail.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

import gevent
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ccctl.campaigns import channel_plan, preview_calls, preview_store, store
from ccctl.campaigns.model import CampaignSpec, outcome_of
from ccctl.campaigns.pacer import Pacer, preview_agents, progressive_room
from ccctl.campaigns.spec import load_spec
from ccctl.channels.email import send_email
from ccctl.channels.sms_records import send_and_record
from ccctl.config import Settings
from ccctl.errors import UserError
from ccctl.ivr.fs_args import quote_arg, say
from ccctl.ivr.prompts import site_voice
from ccctl.records.database import make_engine
from ccctl.records.models.campaigns import Campaign, CampaignTarget
from ccctl.records.models.channels import SmsMessage

log = logging.getLogger("ccctl.campaigns")

# mod_avmd's event when it hears a voicemail greeting's beep on a channel where avmd_start runs
BEEP_EVENT = "avmd::beep"
EXTRA_DUE_ROWS = 20  # due targets read per tick beyond the free room: opted-out ones are skipped in between
# a patient outside their calling hours is looked at again this much later (their window may open by then)
OUTSIDE_HOURS_RECHECK_MINUTES = 5


class SwitchApi(Protocol):
    """What the dialer needs of the inbound ESL client (ccctl.esl.inbound.InboundClient): originate in the background."""

    def bgapi(self, command: str, timeout: float | None = None) -> str: ...

    def wait_job(self, job_uuid: str, timeout: float | None = None) -> str: ...

    def api(self, command: str, timeout: float | None = None) -> str: ...

    def live(self) -> bool:
        """A node is connected: a call asked for now reaches the switch."""
        ...


def originate_command(settings: Settings, number: str, campaign_id: int, target_id: int, socket_address: str) -> str:
    """The api command for one campaign call; the target travels as a channel variable to the socket call."""
    digits = "".join(c for c in number if c.isdigit() or c == "+")
    target = settings.campaigns.dial.format(number=digits)
    ring = int(settings.campaigns.ring_seconds)
    fs = settings.freeswitch
    engine, voice = site_voice(fs.tts_engine, fs.tts_voice)
    # sensitive_dtmf: the patient's keys stay out of FreeSWITCH's log; tts_engine/tts_voice: `say:` prompts
    # speak (the hotline's dialplan sets the three; an originated leg never runs it), also a voicemail message
    # left before any flow runs; the flow then picks the patient's language's voice
    variables = (
        f"{{cc_campaign={campaign_id},cc_target={target_id},originate_timeout={ring},sensitive_dtmf=true,"
        f"tts_engine={engine},tts_voice={voice}}}"
    )
    return f"originate {variables}{target} '&socket({socket_address} async full)'"


def machine_command(spec: CampaignSpec, call_uuid: str) -> str:
    """The api command that answers a voicemail greeting's beep: the message, then the hangup
    (uuid_broadcast's `app!cause::arg` queues the hangup after it), or the hangup at once."""
    if spec.machine == "leave_message":
        path = quote_arg(f"playback!normal_clearing::{prompt_target(spec.machine_message)}")
        return f"uuid_broadcast {call_uuid} {path} aleg"
    return f"uuid_kill {call_uuid} NORMAL_CLEARING"


def prompt_target(prompt: str) -> str:
    """A machine message as playback plays it: `say:` text made safe for the argument, or a sound URL."""
    return say(prompt[4:]) if prompt.startswith("say:") else prompt


class CampaignDialer:
    """`CampaignDialer(settings, inbound, socket_address).start()`; `tick()` does one round (tests call it)."""

    def __init__(
        self,
        settings: Settings,
        switch: SwitchApi | None,
        socket_address: Callable[[], str],
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        self.settings = settings
        self.switch = switch
        self.socket_address = socket_address
        self.clock = clock
        self.zone = ZoneInfo(settings.campaigns.time_zone)
        self.engine = make_engine(settings.database.url)
        self._pacers: dict[int, tuple[str, Pacer, CampaignSpec]] = {}
        self._greenlet: gevent.Greenlet | None = None
        self._calls: set[gevent.Greenlet] = set()

    def start(self) -> CampaignDialer:
        self._greenlet = gevent.spawn(self._forever)
        return self

    def stop(self) -> None:
        if self._greenlet is not None:
            self._greenlet.kill(timeout=2)
        gevent.joinall(list(self._calls), timeout=2)
        self.engine.dispose()

    def attach_events(self, inbound) -> None:
        """A campaign call that ends while its flow still runs (the patient hung up) leaves its target done;
        mod_avmd's beep on a campaign call (an answering machine) gets the campaign's machine action."""
        inbound.subscribe(["CHANNEL_HANGUP_COMPLETE", f"CUSTOM {BEEP_EVENT}"])
        inbound.on("CHANNEL_HANGUP_COMPLETE", self._hangup)
        inbound.on(f"CUSTOM {BEEP_EVENT}", self._beep)

    def _hangup(self, event) -> None:
        target = event.get("variable_cc_target") or ""
        if target.isdigit():
            gevent.spawn(self._ended, int(target), event.uuid)

    def _beep(self, event) -> None:
        call_uuid = event.get("Unique-ID") or ""
        if call_uuid:
            gevent.spawn(self._machine, call_uuid)

    def _machine(self, call_uuid: str) -> None:
        """The outcome first ("machine"), then the switch is told: the flow's own end must not overwrite it."""
        with Session(self.engine) as session:
            target = store.target_of_call(session, call_uuid)
            campaign = session.get(Campaign, target.campaign_id) if target is not None else None
            if target is None or campaign is None or target.state != "talking":
                return
            _, spec = self._pacer(campaign)
            if not spec.machine:
                return
            store.machine_answered(session, spec, target, call_uuid, self.clock())
            session.commit()
        if self.switch is None:
            return
        command = machine_command(spec, call_uuid)
        try:
            self.switch.api(command, timeout=5)
        except Exception as exc:  # the call may have just ended by itself
            log.warning("campaign %s: %s failed: %s", spec.name, command.split()[0], type(exc).__name__)

    def _ended(self, target_id: int, call_uuid: str) -> None:
        with Session(self.engine) as session:
            target = session.get(CampaignTarget, target_id)
            if target is not None and target.state == "talking":
                store.call_outcome(session, target_id, call_uuid, "answered", self.clock())
                session.commit()

    def _forever(self) -> None:
        while True:
            try:
                self.tick()
            except Exception:  # a busy database: the next tick tries again
                log.exception("campaign dialer tick failed")
            gevent.sleep(self.settings.campaigns.tick_seconds)

    def _pacer(self, campaign: Campaign) -> tuple[Pacer, CampaignSpec]:
        cached = self._pacers.get(campaign.id)
        if cached is None or cached[0] != campaign.source_text:
            spec = load_spec(campaign.source_path, campaign.source_text)
            cached = (campaign.source_text, Pacer(spec.caps, spec.hours), spec)
            self._pacers[campaign.id] = cached
        return cached[1], cached[2]

    def tick(self) -> int:
        """One round over the running campaigns; how many calls were placed (preview: patients reserved)."""
        now = self.clock()
        placed = 0
        with Session(self.engine) as session:
            campaigns = store.running_campaigns(session)
            session.expunge_all()
        for campaign in campaigns:
            pacer, spec = self._pacer(campaign)
            placed += self._dial_due(campaign, spec, pacer, now)
            self._next_channels(campaign, spec)
        return placed

    def _dial_due(self, campaign: Campaign, spec: CampaignSpec, pacer: Pacer, now: dt.datetime) -> int:
        zone = ZoneInfo(spec.time_zone) if spec.time_zone else self.zone
        if spec.mode == "preview":
            return self._preview(campaign, spec, pacer, now, zone)
        if self.switch is not None and not self.switch.live():
            # no node connected (serve just started, FreeSWITCH restarting): a claim now would spend the
            # patient's attempt on a call that never reaches the switch
            return 0
        stale = timedelta(minutes=self.settings.campaigns.stale_minutes)
        with Session(self.engine) as session:
            store.release_stale(session, campaign.id, now, stale, spec.voice_attempts)
            in_progress, placed_today = store.load(session, campaign.id, store.day_start(now, zone))
            room = min(spec.caps.concurrent - in_progress, pacer.room(now))
            if spec.mode == "progressive":
                load = store.agent_load(session, campaign.id, spec.agent_skill, now)
                room = min(room, progressive_room(load, spec.abandon_percent))
                # the pacer's concurrency check then allows no more than the free agents
                in_progress = max(in_progress, spec.caps.concurrent - room)
            due = store.due_targets(session, campaign.id, now, max(0, room) + EXTRA_DUE_ROWS, zone) if room > 0 else []
            store.skip_unreachable(session, campaign.id, due)
            outside = [t for t in due if t.number and not t.voice_opted_out and not pacer.may_call(t, now)]
            store.defer(session, outside, now + timedelta(minutes=OUTSIDE_HOURS_RECHECK_MINUTES))
            session.commit()
        chosen = pacer.calls_to_place(now, due, in_progress, placed_today)
        placed = 0
        for target in chosen:
            with Session(self.engine) as session:
                attempt_id = store.claim(session, target, campaign.id, now, spec.voice_attempts)
                session.commit()
            if attempt_id is None:
                continue  # another process claimed it: it is theirs to dial
            placed += 1
            call = gevent.spawn(self._dial, campaign.id, spec, target.id, target.number, attempt_id)
            self._calls.add(call)
            call.link(self._calls.discard)
        return placed

    def _preview(self, campaign: Campaign, spec: CampaignSpec, pacer: Pacer, now: dt.datetime, zone: ZoneInfo) -> int:
        """Preview dialing: settle ended calls, release lapsed reservations (or call them, with
        `preview_timeout: dial`), then reserve one due patient per free agent with the skill who has none."""
        with Session(self.engine) as session:
            preview_store.resolve_calls(session, spec, campaign.id, now)
            to_dial = [(p.agent, p.target_id) for p in preview_store.release(session, spec, campaign.id, now)]
            session.commit()
            for agent, target_id in to_dial:
                try:
                    actor = f"campaign:{spec.name}"
                    preview_calls.place_call(session, spec, agent, target_id, now, actor, "campaign")
                except UserError as exc:  # the agent is busy now: the patient goes back to the list
                    session.rollback()
                    log.warning("campaign %s: preview call not placed: %s", spec.name, exc)
                    preview_store.give_back(session, target_id, now)
                session.commit()
            agents = preview_agents(
                preview_store.free_agents_with(session, spec.agent_skill, now), preview_store.reserved_agents(session)
            )
            _, placed_today = store.load(session, campaign.id, store.day_start(now, zone))
            held = preview_store.previews_held(session, campaign.id)
            room = min(len(agents), spec.caps.concurrent - held, pacer.room(now))
            due = store.due_targets(session, campaign.id, now, room + EXTRA_DUE_ROWS, zone) if room > 0 else []
            store.skip_unreachable(session, campaign.id, due)
            outside = [t for t in due if t.number and not t.voice_opted_out and not pacer.may_call(t, now)]
            store.defer(session, outside, now + timedelta(minutes=OUTSIDE_HOURS_RECHECK_MINUTES))
            session.commit()
        chosen = pacer.calls_to_place(now, due, spec.caps.concurrent - room, placed_today)
        reserved = 0
        for agent, target in zip(agents, chosen, strict=False):
            with Session(self.engine) as session:
                try:
                    taken = preview_store.reserve(session, campaign.id, target, agent, now, spec.preview_seconds)
                    session.commit()
                except IntegrityError:  # another process reserved this agent (or patient) first
                    session.rollback()
                    taken = False
            reserved += int(taken)
        return reserved

    def _dial(self, campaign_id: int, spec: CampaignSpec, target_id: int, number: str, attempt_id: int) -> None:
        address = self.socket_address()
        if self.switch is None or not address:
            reply = "-ERR no inbound ESL connection to place the call"
        else:
            command = originate_command(self.settings, number, campaign_id, target_id, address)
            # bgapi: an `api originate` would hold the inbound connection until the patient answers
            try:
                job = self.switch.bgapi(command)
                reply = self.switch.wait_job(job, timeout=self.settings.campaigns.ring_seconds + 30)
            except Exception as exc:  # the switch is unreachable: a failed attempt, retried later
                reply = f"-ERR {type(exc).__name__}"
        with Session(self.engine) as session:
            if reply.startswith("+OK"):
                store.call_placed(session, attempt_id, reply[3:].strip())
            else:
                cause = reply.removeprefix("-ERR").strip()
                store.call_failed(session, spec, target_id, attempt_id, outcome_of(cause), cause, self.clock())
            session.commit()

    def _next_channels(self, campaign: Campaign, spec: CampaignSpec) -> None:
        """SMS (then e-mail) for the patients the calls did not reach."""
        with Session(self.engine, expire_on_commit=False) as session:
            for target in channel_plan.next_channel_targets(session, campaign.id):
                if target.channel == "sms":
                    message = channel_plan.queue_sms(session, campaign, spec, target)
                    session.commit()
                    if message is not None and message.status == "queued" and self.settings.sms.sendsms_url:
                        gevent.spawn(self._send_sms, message.id)
                else:
                    address = channel_plan.email_step(session, campaign, spec, target)
                    session.commit()
                    if address:
                        gevent.spawn(self._send_email, address, spec)

    def _send_sms(self, message_id: int) -> None:
        with Session(self.engine) as session:
            message = session.get(SmsMessage, message_id)
            if message is not None and message.status == "queued":
                send_and_record(session, self.settings, message)

    def _send_email(self, address: str, spec: CampaignSpec) -> None:
        try:
            send_email(self.settings.email, address, spec.email_subject or spec.name, spec.email_text)
        except Exception as exc:  # the SMTP server refused: logged without the address
            log.warning("campaign %s: e-mail not sent: %s", spec.name, type(exc).__name__)
