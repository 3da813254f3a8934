"""A queued caller's side, as call-flow steps: hold music, position announcements, callback key, ring, bridge.

Run from the `queue` node with `yield from queue_call(...)`; it returns how the caller left the queue.
"""

from __future__ import annotations

import logging
from collections.abc import Generator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from ccctl.acd.model import Offer, QueueTicket
from ccctl.acd.wait_estimate import expected_wait_minutes, expected_wait_seconds
from ccctl.callflow import AppResult, AwaitBridgeEnd, Execute
from ccctl.ivr.hold_words import ENGLISH_TTS, HoldWords

if TYPE_CHECKING:
    from ccctl.acd.engine import AcdEngine

Steps = Generator[Execute, AppResult, str]
log = logging.getLogger("ccctl.acd")


def dial_string(offer: Offer, timeout: float, domain: str, route: str = "") -> str:
    """Every offered agent's phone at once (one for most strategies), with the no-answer timeout.

    `route` ("sofia/trunk/{extension}@<Kamailio>", with a SIP front): the phone is rung through the
    registrar every agent registers with, so a caller on any switch reaches an agent registered anywhere.
    A redundant pair's routes are joined by '|': every offered phone through the first Kamailio, and
    through the next only if that one fails. An agent's own contact still wins."""
    groups = [
        ",".join(alt.format(extension=a.extension) if alt and not a.contact else a.phone(domain) for a in offer.agents)
        for alt in route.split("|")
    ]
    # one variable only: a comma inside {} would read as a second dial target to simpler parsers
    # phones with their own contact alone: one group, never rung a second time
    return f"{{originate_timeout={int(timeout)}}}" + "|".join(dict.fromkeys(groups))


def bridged(result: AppResult) -> bool:
    return bool(result.variable("bridge_hangup_cause")) or result.variable("DIALSTATUS").upper() == "ANSWER"


def moved_by_switch(before: AppResult, after: AppResult) -> bool:
    """The caller's `bridge` ended because switch_ivr_uuid_bridge put them in a new bridge (a warm
    transfer's end: att_xfer bridges the caller to the new agent, or back to the first): it stamps
    transfer_source "<epoch>:<uuid>:uuid_br:<partner>" on the caller before interrupting the bridge.
    Or a consultation moved the caller into a conference, marking them cc_consult first."""
    source = after.variable("transfer_source")
    if after.caller_gone:
        return False
    if ":uuid_br:" in source and source != before.variable("transfer_source"):
        return True
    # an expert consultation (appointments/consult.py) moved the caller and agent into a conference
    return bool(after.variable("cc_consult")) and not before.variable("cc_consult")


def queue_call(
    acd: AcdEngine,
    queue: str,
    call_uuid: str,
    priority: int,
    patient_id: int | None,
    recorder: SessionRecorder,
    caller_number: str,
    words: HoldWords | None = None,
) -> Steps:
    """Wait for an agent and talk to them; returns answered, callback, timeout, overflow, full or refused.
    `words`: the position and callback announcements in the caller's language."""
    ticket = acd.enqueue(queue, call_uuid, priority, patient_id)
    if ticket.refused == "full":
        return "full"
    if ticket.refused or ticket.rules is None:
        return "refused"  # no such queue: the node falls back to its hand-off dial string
    # if this controller dies the switch keeps the caller (socket_resume) and names the entry to whoever adopts it
    # one command: the moment between the entry's commit and the switch knowing to keep the caller is short
    yield Execute("multiset", f"cc_queue_entry={ticket.entry_id} socket_resume=true")
    return (yield from wait_for_agent(acd, ticket, recorder, caller_number, words or ENGLISH_TTS))


def wait_for_agent(
    acd: AcdEngine, ticket: QueueTicket, recorder: SessionRecorder, caller_number: str, words: HoldWords = ENGLISH_TTS
) -> Steps:
    """The caller already has a place (new, called back or re-adopted): hold until an agent talks to them.

    A queue with a callback key says so, in the caller's language, before its first hold prompt and
    with every position announcement; the key works during any of them."""
    rules = ticket.rules
    entered = ticket.entered_at or acd.clock()
    announced, overflowed, offered_callback = acd.clock(), False, False
    pending: list[str] = []  # announcements still to play, before the next hold prompt
    # an agent's busy or refusing phone must not end the patient's call (switch_channel_handle_cause
    # hangs up on USER_BUSY, CALL_REJECTED... otherwise): the caller keeps their place instead
    yield Execute("set", "continue_on_fail=true")
    if recorder.recordings_dir:  # patient on the left channel, agent on the right (record_session)
        yield Execute("set", "RECORD_STEREO=true")
    if rules.callback_key:
        yield Execute("set", f"playback_terminators={rules.callback_key}")
    while True:
        offer = acd.offer_for(ticket.entry_id)
        if offer is not None:
            talked_to = yield from _ring(acd, ticket, offer, recorder)
            if talked_to is not None:
                follow = acd.after_talk(ticket)  # a blind transfer: ring the new agent, or wait in the new queue
                if follow is None:
                    if rules.callback_key and talked_to:  # the queue's key must not cut what follows (a survey)
                        yield Execute("unset", "playback_terminators")
                    if talked_to and rules.survey and acd.surveys is not None:
                        # hangup_after_bridge=false kept the patient on the line when the agent left
                        yield from acd.surveys.run_survey(
                            rules.survey,
                            recorder.call_uuid,
                            caller_number,
                            ticket.patient_id,
                            agent=talked_to,
                            queue=rules.name,
                        )
                    return "answered"
                ticket, rules = follow, follow.rules
            continue
        waited = (acd.clock() - entered).total_seconds()
        if waited >= rules.max_wait_seconds:
            acd.calls.left(ticket.entry_id, "timeout")
            if rules.callback_key:
                yield Execute("unset", "playback_terminators")
            return "timeout"
        if rules.overflow_after_seconds and waited >= rules.overflow_after_seconds and not overflowed:
            overflowed = True
            outcome = acd.calls.overflow(ticket.entry_id, rules, caller_number)
            if outcome:
                if rules.callback_key:
                    yield Execute("unset", "playback_terminators")
                return outcome
        if rules.announce_every_seconds and (acd.clock() - announced).total_seconds() >= rules.announce_every_seconds:
            announced = acd.clock()
            pending.append(words.position(acd.position(ticket.entry_id)))
            offered_callback = False
        if rules.callback_key and not offered_callback:
            offered_callback = True
            minutes = _expected_wait_minutes(acd, ticket)
            if minutes:  # the choice is the caller's: how long staying on the line would take
                pending.append(words.expected_wait(minutes))
            pending.append(words.callback_offer(rules.callback_key))
        # one playback a turn: an agent who comes free between two is offered at once
        result = yield Execute("playback", pending.pop(0) if pending else rules.hold_prompt)
        if rules.callback_key and result.variable("playback_terminator_used") == rules.callback_key:
            acd.calls.request_callback(ticket.entry_id, caller_number)
            yield Execute("playback", words.callback_taken())
            return "callback"


def _expected_wait_minutes(acd: AcdEngine, ticket: QueueTicket) -> int | None:
    position, rules, now = acd.position(ticket.entry_id), ticket.rules, acd.clock()
    seconds = acd.in_db(lambda session: expected_wait_seconds(session, rules, position, now))
    return expected_wait_minutes(seconds)


def _ring(acd: AcdEngine, ticket: QueueTicket, offer: Offer, recorder: SessionRecorder) -> Generator:
    """Ring the offered agents and talk; None when nobody answered, else who talked ("" when the caller is gone)."""
    rules = ticket.rules
    path = recorder.path_for(acd.clock())
    if path:
        yield Execute("record_session", path)
    # one command for both call variables: every round trip before `bridge` is time the patient waits
    names = (offer.queue.replace("|", "/"), offer.agents[0].name.replace("|", "/"))
    before = yield Execute("multiset", "^^|cc_queue={}|cc_agent={}".format(*names))
    acd.calls.offered(ticket.entry_id, recorder.call_uuid, offer.agents)  # its database write follows the bridge
    # until_complete: a patient who hangs up mid-talk still ends a talk, with its recording and wrap-up
    result = yield Execute(
        "bridge", dial_string(offer, rules.no_answer_timeout, acd.domain, acd.agent_route), until_complete=True
    )
    moved = False
    while moved_by_switch(before, result):
        # the talk goes on with whoever the transfer left the caller with (the hand-over or the failed
        # transfer is settled from CHANNEL_BRIDGE); the talk ends with that bridge
        moved, before = True, result
        result = yield AwaitBridgeEnd()
    if not moved and not bridged(result):
        if path:  # record_session started before the ring: a call nobody answered leaves no recording
            if not result.caller_gone:
                yield Execute("stop_record_session", path)
            recorder.discard(path)
        acd.calls.not_answered(ticket.entry_id, offer.agents, result.variable("originate_disposition"), rules)
        return None
    answer = acd.calls.answered_by(recorder.call_uuid, result.variable("bridge_channel"))
    if answer is None:  # the call already ended and was settled as abandoned
        return ""
    agent, answered_at = answer
    if path:
        recorder.register(acd, path, agent.name, offer.queue)
    acd.calls.talk_ended(ticket.entry_id, agent, answered_at, rules)
    return "" if result.caller_gone else agent.name


class SessionRecorder:
    """Where a bridged call is recorded (recordings/YYYY/MM/DD/<uuid>.wav) and its metadata row."""

    def __init__(self, recordings_dir: str, call_uuid: str, patient_id: int | None) -> None:
        self.recordings_dir = recordings_dir
        self.call_uuid = call_uuid
        self.patient_id = patient_id
        self.started_at: datetime | None = None

    def path_for(self, now: datetime) -> str:
        if not self.recordings_dir:
            return ""
        from ccctl.recordings.store import recording_path

        self.started_at = now
        return str(recording_path(self.recordings_dir, self.call_uuid, now))

    def discard(self, path: str) -> None:
        """Remove the file of a recording that never held a conversation (FreeSWITCH closed it)."""
        try:
            Path(path).unlink(missing_ok=True)
        except OSError as exc:  # the file stays; the archive job never registers it, so it is only space
            log.warning("recording of call %s not removed (%s)", self.call_uuid, type(exc).__name__)

    def register(self, acd: AcdEngine, path: str, agent_name: str, queue: str) -> None:
        from ccctl.recordings.store import register_recording

        started = self.started_at
        acd.in_db(
            lambda session: register_recording(
                session, self.call_uuid, path, agent_name, queue, self.patient_id, started
            )
        )
