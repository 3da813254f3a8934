"""Outgoing legs: `originate` and `bridge` targets (loopback/, user/, any other endpoint).

loopback/<ext>/<context> runs the dialplan on a B leg; user/<ext> and other endpoints are
simulated parties (agents' phones, patients called back) that ring, then answer or refuse.
"""

from __future__ import annotations

import uuid as uuidlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ccctl.sim.callers import CallerScript, PatientSession
from ccctl.sim.channel import Channel

if TYPE_CHECKING:
    from ccctl.sim.switch import Switch


@dataclass
class AgentEndpoint:
    """How a simulated far end (an agent's phone, a called patient) behaves when rung."""

    answer_after: float = 2.0  # simulated seconds of ringing
    answers: bool = True  # False: rings until the originate times out (NO_ANSWER)
    reject_cause: str | None = None  # e.g. USER_BUSY, CALL_REJECTED: refuses after answer_after
    registered: bool = True  # False: USER_NOT_REGISTERED at once
    talk_seconds: float | None = None  # hangs up this long after answering (None: waits for the other side)
    keys: str = ""  # digits pressed keys_after seconds after answering (a patient answering a campaign's menu)
    keys_after: float = 3.0
    # or keys as a caller presses them: one entry per digit collection, after its prompt (CallerScript.keys)
    read_keys: list[str] = field(default_factory=list)
    beep_after: float | None = None  # an answering machine: its greeting beeps this long after answering


def parse_dial_string(url: str) -> tuple[dict[str, str], str]:
    """`{a=1,b=2}endpoint/...` -> ({a: 1, b: 2}, endpoint/...)."""
    variables: dict[str, str] = {}
    url = url.strip()
    while url.startswith(("{", "[", "<")):
        close = {"{": "}", "[": "]", "<": ">"}[url[0]]
        end = url.find(close)
        if end < 0:
            break
        for item in url[1:end].split(","):
            name, sep, value = item.partition("=")
            if sep:
                variables[name.strip()] = value.strip().strip("'")
        url = url[end + 1 :]
    return variables, url


def new_channel(switch: Switch, name: str, direction: str, caller: str, destination: str, **kw) -> Channel:
    """A channel as switch_core_session_request makes it: state CS_ROUTING, running CS_INIT."""
    uuid = str(uuidlib.uuid4())
    ch = Channel(switch, uuid, name, direction, caller, destination, **kw)
    ch.state = "CS_ROUTING"
    session_id = switch.next_session_id()
    ch.set_var("direction", direction)
    if direction == "outbound":
        ch.set_var("is_outbound", "true")
    ch.set_var("uuid", uuid)
    ch.set_var("call_uuid", uuid)
    ch.set_var("session_id", str(session_id))
    codecs = (("read_codec", "L16"), ("read_rate", "8000"), ("write_codec", "L16"), ("write_rate", "8000"))
    if direction == "outbound":  # outgoing legs get their codec before their name, incoming ones after
        for var, value in codecs:
            ch.set_var(var, value)
    ch.set_var("channel_name", name)
    if direction == "inbound":
        for var, value in codecs:
            ch.set_var(var, value)
    switch.channels[uuid] = ch
    return ch


def originate_call(
    switch: Switch,
    url: str,
    exten: str,
    context: str = "default",
    cid_name: str | None = None,
    cid_num: str | None = None,
    timeout: float = 60,
) -> tuple[bool, str]:
    """The originate API: (True, uuid) once answered, else (False, hangup cause)."""
    from ccctl.sim.session import Session

    leg, cause = dial(switch, url, None, cid_name, cid_num, timeout)
    if leg is None:
        return False, cause
    if exten.startswith("&") and len(exten) > 1:
        app, _, arg = exten[1:].rstrip(")").partition("(")
        session = Session(switch, leg, [(app, arg or None)])
    else:
        leg.destination, leg.context = exten, context
        leg.hit_dialplan = True
        session = Session(switch, leg, None)
    switch.start_session(session)
    return True, leg.uuid


def dial(
    switch: Switch, url: str, caller: Channel | None, cid_name: str | None, cid_num: str | None, timeout: float
) -> tuple[Channel | None, str]:
    """Create the outgoing leg and ring it: (answered leg, '') or (None, cause)."""
    variables, target = parse_dial_string(url)
    number = variables.get("origination_caller_id_number") or cid_num
    number = number or (caller.caller_number if caller is not None else "0000000000")
    name = variables.get("origination_caller_id_name") or cid_name or ""
    timeout = float(variables.get("originate_timeout") or variables.get("leg_timeout") or timeout)
    kind, _, rest = target.partition("/")
    if kind == "loopback":
        return _dial_loopback(switch, rest, variables, number, name, timeout)
    if kind == "user":
        ext = rest.split("@")[0]
        endpoint = switch.agents.get(ext, switch.default_agent)
        if endpoint is None:
            return None, "SUBSCRIBER_ABSENT"
        leg_name = f"sofia/internal/{rest if '@' in rest else rest + '@' + switch.domain}"
    elif kind in ("sofia", "verto", "freetdm"):
        ext = rest.rsplit("/", 1)[-1].split("@")[0]
        endpoint = switch.remotes.get(ext, switch.default_remote)
        leg_name = target
    else:
        return None, "CHAN_NOT_IMPLEMENTED"
    if not endpoint.registered:
        return None, "USER_NOT_REGISTERED"
    leg = new_channel(switch, leg_name, "outbound", number, ext, source="mod_sofia", caller_name=name)
    for key, value in variables.items():
        leg.set_var(key, value)
    leg.endpoint = endpoint
    cause = _ring(switch, leg, endpoint, caller, timeout)
    return (leg, "") if cause is None else (None, cause)


def _ring(switch: Switch, leg: Channel, endpoint: AgentEndpoint, caller: Channel | None, timeout: float) -> str | None:
    """Ring a simulated party; None once it answered, else the cause it failed with."""
    leg.fire("CHANNEL_CREATE")
    leg.fire("CHANNEL_OUTGOING")
    leg.fire("CHANNEL_ORIGINATE")
    leg.times.progress = switch.clock.now_us()
    leg.touch_profile()
    leg.fire("CHANNEL_PROGRESS")
    leg.set_callstate("RINGING")
    ring = endpoint.answer_after if (endpoint.answers or endpoint.reject_cause) else timeout
    waiter = caller if caller is not None else leg
    result = waiter.media_wait(min(ring, timeout))
    if result == "hangup" or (caller is not None and not caller.up):
        cause = "ORIGINATOR_CANCEL"
    elif endpoint.reject_cause:
        cause = endpoint.reject_cause
    elif not endpoint.answers or ring > timeout:
        cause = "NO_ANSWER"
    else:
        leg.answer()
        if endpoint.talk_seconds is not None:
            leg.set_deadline(switch.clock.now() + endpoint.talk_seconds, by="agent")
        if endpoint.keys:
            leg.queue_dtmf(endpoint.keys, due=switch.clock.now() + endpoint.keys_after)
        if endpoint.read_keys:
            leg.patient = PatientSession(CallerScript(leg.caller_number, leg.destination, list(endpoint.read_keys)))
        if endpoint.beep_after is not None:
            leg.beep_due = switch.clock.now() + endpoint.beep_after
        return None
    _discard(switch, leg, cause)
    return cause


def _discard(switch: Switch, leg: Channel, cause: str) -> None:
    from ccctl.sim.session import Session

    leg.hangup(cause, by="endpoint")
    session = Session(switch, leg, [])
    switch.start_session(session, created=True)
    session.greenlet.join()  # originate reports only once the failed leg is gone


def _dial_loopback(
    switch: Switch, rest: str, variables: dict[str, str], number: str, name: str, timeout: float
) -> tuple[Channel | None, str]:
    from ccctl.sim.session import Session

    parts = rest.split("/")
    ext = parts[0]
    context = parts[1] if len(parts) > 1 and parts[1] else "default"
    a_leg = new_channel(switch, f"loopback/{ext}-a", "outbound", number, ext, context=context, caller_name=name)
    b_leg = new_channel(switch, f"loopback/{ext}-b", "inbound", number, ext, context=context, caller_name=name)
    a_leg.set_var("originate_early_media", "true")
    a_leg.set_var("originate_endpoint", "loopback")
    for leg, other, letter in ((a_leg, b_leg, "A"), (b_leg, a_leg, "B")):
        leg.set_var("other_loopback_leg_uuid", other.uuid)
        leg.set_var("loopback_leg", letter)
        leg.loopback_peer = other
    a_leg.fire("CHANNEL_CREATE")
    for key, value in variables.items():
        b_leg.set_var(key, value)
    switch.start_session(Session(switch, b_leg, None))
    deadline = switch.clock.now() + timeout
    while a_leg.up and not a_leg.answered:
        remaining = deadline - switch.clock.now()
        if remaining <= 0:
            a_leg.hangup("NO_ANSWER", by="endpoint")
            break
        a_leg.wakeup.clear()
        a_leg.wakeup.wait(switch.clock.real(remaining) + 0.0005)
    if a_leg.answered and a_leg.up:
        return a_leg, ""
    cause = a_leg.hangup_cause or "NORMAL_CLEARING"
    if a_leg.up:
        a_leg.hangup(cause)
    session = Session(switch, a_leg, [])
    switch.start_session(session, created=True)
    session.greenlet.join()
    return None, cause
