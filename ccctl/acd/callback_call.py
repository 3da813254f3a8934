"""Calls that come back to a place already in line: callbacks the ACD placed, and callers it re-adopted.

call_back() places a callback (originate ... &socket to this controller); after a controller restart,
adopt_orphans() sends callers parked on the switch here (uuid_transfer ... inline). CallbackCall runs both.
"""

from __future__ import annotations

import logging

from ccctl.acd.hold import SessionRecorder, wait_for_agent
from ccctl.callflow import CallInfo, Execute, Finish, Steps, StepsApp

log = logging.getLogger("ccctl.acd")
GREETING = "say:This is the hospital calling you back. Please hold for the next agent."


def originate_command(
    dial_template: str, number: str, entry_id: int, socket_address: str, timeout: float, tts: tuple[str, str]
) -> str:
    """The api command for one callback; the entry id travels as a channel variable to the socket call."""
    digits = "".join(c for c in number if c.isdigit() or c == "+")
    target = dial_template.format(number=digits)
    # sensitive_dtmf: the called-back patient's keys stay out of FreeSWITCH's log; tts_engine/tts_voice: the
    # greeting's `say:` speaks (the hotline's dialplan sets the three; an originated leg never runs it)
    variables = (
        f"{{cc_callback_entry={entry_id},originate_timeout={int(timeout)},sensitive_dtmf=true,"
        f"tts_engine={tts[0]},tts_voice={tts[1]}}}"
    )
    return f"originate {variables}{target} '&socket({socket_address} async full)'"


class CallbackCall(StepsApp):
    """A callback (greet, then ring the reserved agents) or a re-adopted caller (hold again, same place)."""

    def __init__(self, acd, entry_id: int, recordings_dir: str, readopted: bool = False) -> None:
        super().__init__()
        self.acd = acd
        self.readopted = readopted
        self.entry_id = entry_id
        self.recordings_dir = recordings_dir
        self.patient_id: int | None = None

    def finish(self, outcome: str) -> Finish:
        """The path's last step names the outcome; a re-adopted caller's record completes the one its
        first controller handed over (ccctl.records.call_store.continued_row)."""
        if not self.readopted:
            self.path.append(f"callback:{outcome}")
            return Finish("completed" if outcome == "answered" else "callback-failed")
        self.path.append(f"queue:{outcome}")
        return Finish("failed" if outcome == "unknown-entry" else "completed")

    def steps(self, call: CallInfo) -> Steps:
        if self.readopted:
            self.path.append("readopted")
            ticket = self.acd.readopt(self.entry_id, call.uuid)
        else:
            ticket = self.acd.calls.callback_connected(self.entry_id, call.uuid)
        if ticket.rules is None:
            return "unknown-entry"
        self.patient_id = ticket.patient_id
        if not self.readopted:
            yield Execute("playback", GREETING)
        # this leg, not the entry's call_uuid, is what the agent talks to: the offer names it (leg_uuid) for
        # the workstation's controls, and the recording and call record are filed under it
        recorder = SessionRecorder(self.recordings_dir, call.uuid, ticket.patient_id)
        return (yield from wait_for_agent(self.acd, ticket, recorder, call.caller_number))
