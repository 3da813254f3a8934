"""Expert consultation: the agent brings an expert (or an interpreter) into the patient's call, three-way.

FreeSWITCH's mod_conference does the mixing. The agent's leg and its partner, the patient, are moved into a
conference named for the patient's leg (`uuid_transfer <agent leg> -both conference:NAME@default inline`),
then the expert is originated into it. The patient's leg is marked `cc_consult=NAME` first: its bridge ends
with the transfer, and the controller holding the patient reads the mark and waits for the call to end instead
of going on with the flow (acd/hold.moved_by_switch). The patient's record_session goes on in the conference,
so the consultation is in the call's recording and filed with it like any call.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from ccctl.acd.monitor import MonitorError, agent_extension, find_agent_channel, live_channels, switch_api
from ccctl.appointments.experts import RosterError, expert_to_dial
from ccctl.config import Settings
from ccctl.errors import UserError
from ccctl.records.database import make_engine

Api = Callable[[str], str]
CONFERENCE_PROFILE = "default"
# the channel variable on the patient's leg naming the consultation it was moved into
CONSULT_VARIABLE = "cc_consult"
# FreeSWITCH answers `originate` once the expert picked up; ringing longer than this fails
RING_SECONDS = 45
_DIAL = re.compile(r"^[A-Za-z0-9_./:@+=,{}\[\]-]{1,128}$")


class ConsultError(UserError):
    """Why a consultation cannot go ahead; one line naming the agent, expert or dial string."""


@dataclass(frozen=True)
class ConsultResult:
    agent: str
    conference: str
    patient_leg: str
    expert: str  # the expert's code, or the dial string of an interpreter
    expert_leg: str


def conference_name(patient_leg: str) -> str:
    return f"consult-{patient_leg}"


def _dial_target(dial: str, domain: str) -> str:
    """user/1201 reaches the site's directory domain; anything else (a gateway, sofia/...) goes as given."""
    if dial.startswith("user/") and "@" not in dial and domain:
        return f"{dial}@{domain}"
    return dial


def originate_command(conference: str, dial: str, domain: str, ring_seconds: int) -> str:
    variables = {
        "origination_caller_id_name": "consultation",
        "originate_timeout": str(ring_seconds),
        CONSULT_VARIABLE: conference,
    }
    prefix = ",".join(f"{name}={value}" for name, value in variables.items())
    return f"originate {{{prefix}}}{_dial_target(dial, domain)} &conference({conference}@{CONFERENCE_PROFILE})"


def _ok(reply: str) -> bool:
    return reply.strip().startswith("+OK")


def start_consult(
    api: Api, session: Session | None, agent: str, dial: str, expert: str, domain: str = "", ring_seconds: int = 45
) -> ConsultResult:
    """Move the agent's call into a conference and ring `dial` into it; returns once the expert answered.

    An expert who does not answer leaves the patient and the agent talking in the conference.
    """
    if not _DIAL.match(dial):
        raise ConsultError(f"dial string {dial!r}: not a FreeSWITCH endpoint (e.g. user/1201)")
    try:
        extension = agent_extension(session, agent)
        row = find_agent_channel(live_channels(api), extension)
    except MonitorError as exc:
        raise ConsultError(str(exc)) from None
    if row is None:
        raise ConsultError(f"agent {agent!r} (extension {extension}) has no live call to add an expert to")
    agent_leg = row["uuid"]
    conference = (api(f"uuid_getvar {agent_leg} {CONSULT_VARIABLE}") or "").strip()
    if conference and not conference.startswith("-ERR") and conference != "_undef_":
        patient_leg = conference.removeprefix("consult-")  # already in a consultation: add one more party
    else:
        patient_leg = (api(f"uuid_getvar {agent_leg} bridge_uuid") or "").strip()
        if not patient_leg or patient_leg.startswith("-ERR") or patient_leg == "_undef_":
            raise ConsultError(f"agent {agent!r} (extension {extension}) is not talking to a caller")
        conference = conference_name(patient_leg)
        for leg in (patient_leg, agent_leg):
            if not _ok(api(f"uuid_setvar {leg} {CONSULT_VARIABLE} {conference}")):
                raise ConsultError(f"agent {agent!r}: the caller's leg went away before the consultation")
        move = f"uuid_transfer {agent_leg} -both conference:{conference}@{CONFERENCE_PROFILE} inline"
        reply = api(move).strip()
        if not _ok(reply):
            raise ConsultError(f"FreeSWITCH did not move agent {agent!r}'s call into a conference: {reply[:80]}")
    reply = api(originate_command(conference, dial, domain, ring_seconds)).strip()
    if not _ok(reply):
        cause = reply.removeprefix("-ERR").strip() or "no answer"
        raise ConsultError(f"{expert} was not connected ({cause}); the caller and agent {agent!r} are still talking")
    return ConsultResult(agent, conference, patient_leg, expert, reply.removeprefix("+OK").strip())


def consult_call(settings: Settings, agent: str, expert_code: str = "", dial: str = "") -> ConsultResult:
    """`ccctl consult`: the expert's dial string from the roster (or a given one), over a fresh ESL connection."""
    if bool(expert_code) == bool(dial):
        raise ConsultError("name one party to add: --expert CODE (the roster) or --dial STRING (an interpreter)")
    engine = make_engine(settings.database.url)
    try:
        with Session(engine) as session:
            if expert_code:
                try:
                    dial = expert_to_dial(session, expert_code).dial_string
                except RosterError as exc:
                    raise ConsultError(str(exc)) from None
            with switch_api(settings, RING_SECONDS) as api:
                return start_consult(
                    api, session, agent, dial, expert_code or dial, settings.freeswitch.domain, RING_SECONDS
                )
    except MonitorError as exc:
        raise ConsultError(str(exc)) from None
    finally:
        engine.dispose()
