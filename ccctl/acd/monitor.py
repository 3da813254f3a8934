"""Supervisors listen, whisper or barge into an agent's live call: find the agent's leg, ring the supervisor into it.

The supervisor's phone is originated straight into `eavesdrop <agent leg uuid>`; the mode is set by
mod_dptools' variables on that new leg. The target is the agent's own leg, so eavesdrop_whisper_bleg
(mixed into what that leg writes) reaches the agent only and eavesdrop_whisper_aleg reaches the patient.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ccctl.acd.model import BRIDGED
from ccctl.acd.registrations import agent_registration_node
from ccctl.config import Settings
from ccctl.errors import UserError
from ccctl.esl.inbound import EslCommandError, EslUnavailable
from ccctl.esl.node_choice import Announce, NodeUnreachable, connect_first, describe, nodes_holding
from ccctl.records.database import make_engine, sqlite_file
from ccctl.records.models.acd import Agent, QueueEntry
from ccctl.records.models.base import utc_now
from ccctl.records.models.calls import Call

# mode -> (eavesdrop_whisper_aleg, eavesdrop_whisper_bleg) on the supervisor's leg
MODES = {"listen": ("false", "false"), "whisper": ("false", "true"), "barge": ("true", "true")}
_EXTENSION = re.compile(r"^[A-Za-z0-9_.+-]{1,32}$")
# switch_channel_callstate names of an answered leg: a hold and unhold leave it UNHELD, not ACTIVE
ANSWERED_CALLSTATES = ("ACTIVE", "HELD", "UNHELD")
# FreeSWITCH answers `originate` once the supervisor picked up; ringing longer than this fails
RING_SECONDS = 30

Api = Callable[[str], str]


class MonitorError(UserError):
    """Why a monitor request cannot go ahead; str() is one line naming the agent or extension."""


@dataclass(frozen=True)
class MonitorResult:
    mode: str
    agent: str
    agent_extension: str
    agent_channel_uuid: str
    supervisor_channel_uuid: str


def agent_extension(session: Session | None, agent: str) -> str:
    """The extension of an agent given by name or extension (agents table); a bare extension without one."""
    if session is not None:
        row = session.scalar(select(Agent).where(or_(Agent.name == agent, Agent.extension == agent)))
        if row is not None:
            return row.extension
    if _EXTENSION.match(agent) and agent.isdigit():
        return agent
    raise MonitorError(f"agent {agent!r}: no such agent name or extension in the agents table")


def _is_agents_leg(row: dict, extension: str) -> bool:
    name = row.get("name", "")
    if re.match(rf"^[a-z]+/[^/]+/(sip:)?{re.escape(extension)}@", name) or name.endswith(f"/{extension}"):
        return True
    if (row.get("presence_id") or "").split("@")[0] == extension:
        return True
    return row.get("direction") == "outbound" and row.get("dest") == extension


def find_agent_channel(channels: list[dict], extension: str) -> dict | None:
    """The agent's leg of a live, answered call in `show channels as json` rows (newest if several)."""
    live = [
        row
        for row in channels
        if _is_agents_leg(row, extension)
        and row.get("callstate") in ANSWERED_CALLSTATES
        and row.get("application") not in ("eavesdrop", "three_way")  # a supervisor's own listening leg
    ]
    live.sort(key=lambda row: int(row.get("created_epoch") or 0))
    return live[-1] if live else None


def live_channels(api: Api) -> list[dict]:
    text = api("show channels as json")
    if text.startswith("-ERR"):
        raise MonitorError(f"FreeSWITCH refused `show channels`: {text.strip()}")
    try:
        return json.loads(text).get("rows", [])
    except (ValueError, AttributeError):
        raise MonitorError("FreeSWITCH answered `show channels as json` with something that is not JSON") from None


def originate_command(
    mode: str, supervisor: str, target_uuid: str, agent_extension: str, domain: str, dtmf: bool
) -> str:
    """The `originate` api command that rings the supervisor into the eavesdrop."""
    whisper_aleg, whisper_bleg = MODES[mode]
    variables = {
        "origination_caller_id_name": f"{mode}-{agent_extension}",
        "origination_caller_id_number": agent_extension,
        "eavesdrop_whisper_aleg": whisper_aleg,
        "eavesdrop_whisper_bleg": whisper_bleg,
        # off by default: a digit would turn a listener into a barger without asking
        "eavesdrop_enable_dtmf": "true" if dtmf else "false",
        "originate_timeout": str(RING_SECONDS),
    }
    prefix = ",".join(f"{name}={value}" for name, value in variables.items())
    where = f"{supervisor}@{domain}" if domain else supervisor
    return f"originate {{{prefix}}}user/{where} &eavesdrop({target_uuid})"


def start_monitor(
    api: Api,
    mode: str,
    agent: str,
    supervisor: str,
    session: Session | None = None,
    domain: str = "",
    dtmf: bool = False,
) -> MonitorResult:
    """Ring `supervisor` into the agent's live call in `mode`; returns once the supervisor answered."""
    if mode not in MODES:
        raise MonitorError(f"mode {mode!r}: use one of {', '.join(MODES)}")
    if not _EXTENSION.match(supervisor):
        raise MonitorError(f"--from {supervisor!r}: not an extension (letters, digits, . _ + - only)")
    extension = agent_extension(session, agent)
    if extension == supervisor:
        raise MonitorError(f"--from {supervisor}: a supervisor cannot monitor their own extension")
    row = find_agent_channel(live_channels(api), extension)
    if row is None:
        raise MonitorError(f"agent {agent!r} (extension {extension}) has no live call to {mode} in")
    reply = api(originate_command(mode, supervisor, row["uuid"], extension, domain, dtmf)).strip()
    if not reply.startswith("+OK"):
        cause = reply.removeprefix("-ERR").strip() or "no answer"
        raise MonitorError(f"supervisor extension {supervisor} was not connected ({cause})")
    return MonitorResult(mode, agent, extension, row["uuid"], reply.removeprefix("+OK").strip())


def monitor_call(
    settings: Settings, mode: str, agent: str, supervisor: str, dtmf: bool = False, announce: Announce | None = None
) -> MonitorResult:
    """start_monitor over a fresh inbound ESL connection to the agent's node (agent_node), agents looked up in
    the configured database; `announce` hears each node before it is tried."""
    with _agents_session(settings.database.url) as session:
        node = agent_node(session, agent) if session is not None else ""
        with switch_api(settings, RING_SECONDS, node, announce) as api:
            return start_monitor(api, mode, agent, supervisor, session, settings.freeswitch.domain, dtmf)


def agent_node(session: Session, agent: str) -> str:
    """Where the agent's channel is: the node of their live queued call (the agent's leg is created on the
    caller's node, whichever node their phone registered through), else the node their phone is registered
    through now (a call they placed or took directly goes through it); "" when neither is known."""
    return agent_call_node(session, agent) or agent_registration_node(session, agent, utc_now())


def agent_call_node(session: Session, agent: str) -> str:
    """The node of the agent's live queued call (its record's node, FreeSWITCH-Switchname); "" when unknown."""
    query = (
        select(Call.node)
        .join(QueueEntry, QueueEntry.call_uuid == Call.uuid)
        .join(Agent, Agent.id == QueueEntry.agent_id)
        .where(or_(Agent.name == agent, Agent.extension == agent), QueueEntry.status == BRIDGED)
        .order_by(QueueEntry.updated_at.desc())
        .limit(1)
    )
    return session.scalar(query) or ""


@contextmanager
def switch_api(
    settings: Settings, wait_seconds: float, node: str = "", announce: Announce | None = None
) -> Iterator[Api]:
    """`api` over a fresh inbound ESL connection, for a command-line tool; errors become MonitorError.

    `node`: the node holding the call acted on (an esl.nodes name); unknown, or not in esl.nodes (one switch),
    the configured nodes are tried in order and the first that answers is used (nodes_holding).
    `wait_seconds`: how long a command may take beyond the configured timeout (an originate rings first).
    """
    esl = settings.esl
    nodes = nodes_holding(esl, node)
    try:
        chosen, client = connect_first(esl, nodes, announce or (lambda node: None))
    except NodeUnreachable as exc:
        raise MonitorError(str(exc)) from None
    try:

        def api(command: str) -> str:
            try:
                return client.api(command, timeout=wait_seconds + esl.command_timeout)
            except (EslUnavailable, EslCommandError) as exc:
                raise MonitorError(f"FreeSWITCH {describe(chosen)}: {exc}") from None

        yield api
    finally:
        client.stop()


@contextmanager
def _agents_session(url: str) -> Iterator[Session | None]:
    """The database for agent names; None when there is none yet (an extension still works)."""
    file = sqlite_file(url)
    if file is not None and not file.exists():
        yield None
        return
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            yield session
    finally:
        engine.dispose()
