"""Live call controls: an agent holds, transfers or hangs up their call; a supervisor listens, whispers, barges.

Each becomes one FreeSWITCH api command over the controller's inbound ESL connection.
"""

from __future__ import annotations

import logging
import re

from flask import Blueprint, g, jsonify, request

from ccctl.web.context import require_role, web

log = logging.getLogger("ccctl.web")
call_controls = Blueprint("call_controls", __name__)

EXTENSION = re.compile(r"^[0-9A-Za-z_.+-]{1,32}$")
CALL_UUID = re.compile(r"^[0-9A-Za-z-]{1,64}$")
ACTIONS = ("hold", "unhold", "hangup", "transfer")


def control_command(action: str, call_uuid: str, target: str = "", context: str = "default") -> str:
    """The FreeSWITCH api command of an action (mod_commands syntax); hold names the agent's leg."""
    if action == "hold":
        return f"uuid_hold {call_uuid}"
    if action == "unhold":
        return f"uuid_hold off {call_uuid}"
    if action == "hangup":
        return f"uuid_kill {call_uuid} NORMAL_CLEARING"
    return f"uuid_transfer {call_uuid} {target} XML {context}"


class _SwitchError(Exception):
    """The inbound ESL connection could not carry a command (see _switch_api)."""


def _raw_api(command: str):
    """(FreeSWITCH's answer, None), or (None, a JSON error response) when the inbound connection cannot carry it."""
    api, unavailable = _switch_api(_SwitchError)
    if unavailable:
        return None, unavailable
    try:
        return api(command).strip(), None
    except _SwitchError as exc:
        return None, (jsonify(error=str(exc)), 503)


def _api(command: str):
    """As _raw_api, and an answer other than +OK is an error response too."""
    reply, error = _raw_api(command)
    if error is None and not reply.startswith("+OK"):
        return None, (jsonify(error=f"FreeSWITCH refused: {reply.removeprefix('-ERR').strip()}"), 409)
    return reply, error


def _partner(call_uuid: str):
    """The uuid of the leg bridged to this one (its signal_bond), or a JSON error response."""
    partner, error = _raw_api(f"uuid_getvar {call_uuid} signal_bond")
    if error is None and (not partner or partner == "_undef_" or partner.startswith("-")):
        return None, (jsonify(error="this call is not connected to an agent's phone now"), 409)
    return partner, error


@call_controls.post("/api/v1/calls/<call_uuid>/control")
@require_role("agent", "supervisor", "admin")
def control(call_uuid: str):
    body = request.get_json(silent=True) or {}
    action, target = body.get("action", ""), str(body.get("target", ""))
    if action not in ACTIONS:
        return jsonify(error=f"action: {action!r} is not one of {', '.join(ACTIONS)}"), 400
    if not CALL_UUID.match(call_uuid):
        return jsonify(error="call uuid: letters, digits and - only"), 400
    if action == "transfer" and not EXTENSION.match(target):
        return jsonify(error=f"target: {target!r} is not an extension (letters, digits, . _ + - only)"), 400
    ctx = web()
    # the screen pop's call id names the queued call; the command goes to the channel the agent talks to
    # (a callback's originated leg): agents only for a call offered to them, others for any offered call
    agent = (g.user.agent or "") if g.user.role == "agent" else None
    with ctx.transaction() as db:
        subject = ctx.screen_pops.live_leg(db, call_uuid, agent)
    if subject is None:
        if agent is not None:
            return jsonify(error="this call was not offered to you"), 403
        subject = call_uuid  # a supervisor may name any channel (ccctl calls live)
    if action in ("hold", "unhold"):
        # switch_ivr_hold holds the channel named and plays hold music to its partner: to let the
        # patient hear the music, the agent's leg (the caller's partner) is the one held
        subject, error = _partner(subject)
        if error:
            return error
    reply, error = _api(control_command(action, subject, target))
    if error:
        return error
    log.info("%s %s call %s%s", g.user.name, action, call_uuid, f" to {target}" if target else "")
    return jsonify(call_uuid=call_uuid, action=action, done=True)


TRANSFER_KINDS = ("blind", "warm", "complete", "cancel")


def _switch_api(error: type[Exception]):
    """(api, None): `api` on the node of the call each command names, raising `error` when the ESL
    connection fails; (None, a 503 response) when there is no inbound connection at all."""
    nodes = web().controller.nodes
    if nodes is None:
        return None, (jsonify(error="no inbound ESL connection to FreeSWITCH"), 503)
    from ccctl.esl.inbound import EslCommandError, EslUnavailable

    def api(command: str) -> str:
        try:
            return nodes.client_for_command(command).api(command)
        except (EslUnavailable, EslCommandError) as exc:
            raise error(f"FreeSWITCH: {exc}") from None

    return api, None


@call_controls.post("/api/v1/transfer")
@require_role("agent", "supervisor", "admin")
def transfer():
    """An agent's live queued call to another agent (blind or warm) or queue; complete or cancel a warm one.

    Agents transfer their own call; supervisors name the agent whose call it is.
    """
    from sqlalchemy.orm import Session

    from ccctl.acd.transfer import TransferError, finish_transfer, request_transfer

    body = request.get_json(silent=True) or {}
    kind = body.get("kind", "")
    if kind not in TRANSFER_KINDS:
        return jsonify(error=f"kind: {kind!r} is not one of {', '.join(TRANSFER_KINDS)}"), 400
    agent = g.user.agent if g.user.role == "agent" else str(body.get("agent", ""))
    if not agent:
        return jsonify(error="agent: whose call (name or extension)"), 400
    ctx = web()
    api, unavailable = _switch_api(TransferError)
    if unavailable:
        return unavailable
    settings = ctx.settings
    with Session(ctx.engine, expire_on_commit=False) as db:
        try:
            if kind in ("complete", "cancel"):
                result = finish_transfer(api, db, agent, complete=kind == "complete")
            else:
                to_agent, to_queue = str(body.get("to_agent", "")).strip(), str(body.get("to_queue", "")).strip()
                ring = settings.acd.reservation_seconds + 60
                domain = settings.freeswitch.domain
                result = request_transfer(api, db, agent, to_agent, to_queue, kind == "warm", domain, ring)
        except TransferError as exc:
            return jsonify(error=str(exc)), 409
    log.info("%s: %s transfer of %s's call to %s", g.user.name, result.kind, result.from_agent, result.target)
    return jsonify(kind=result.kind, agent=result.from_agent, target=result.target, call_uuid=result.call_uuid)


@call_controls.post("/api/v1/monitor")
@require_role("supervisor", "admin")
def monitor():
    """Ring the supervisor's extension into an agent's live call: listen, whisper (to the agent) or barge."""
    from ccctl.acd.monitor import MODES, MonitorError, start_monitor

    body = request.get_json(silent=True) or {}
    mode, agent, extension = body.get("mode", ""), str(body.get("agent", "")), str(body.get("extension", ""))
    if mode not in MODES:
        return jsonify(error=f"mode: {mode!r} is not one of {', '.join(MODES)}"), 400
    ctx = web()
    api, unavailable = _switch_api(MonitorError)
    if unavailable:
        return unavailable

    try:
        with ctx.transaction() as db:
            result = start_monitor(api, mode, agent, extension, db, ctx.settings.freeswitch.domain)
    except MonitorError as exc:
        return jsonify(error=str(exc)), 409
    log.info("%s %s agent %s from extension %s", g.user.name, mode, agent, extension)
    return jsonify(mode=mode, agent=agent, supervisor_channel=result.supervisor_channel_uuid)
