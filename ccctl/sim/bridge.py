"""The bridge application: ring a simulated agent, connect the call, report failures.

Variables and causes follow switch_ivr_originate.c / switch_ivr_bridge.c: originate_disposition,
DIALSTATUS, originate_failed_cause, bridge_* and switch_channel_handle_cause.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ccctl.sim.originate import dial

if TYPE_CHECKING:
    from ccctl.sim.channel import Channel
    from ccctl.sim.session import Session

DIALSTATUS = {
    "ORIGINATOR_CANCEL": "CANCEL",
    "USER_BUSY": "BUSY",
    "NO_ANSWER": "NOANSWER",
    "DESTINATION_OUT_OF_ORDER": "INVALIDARGS",
    "INVALID_PROFILE": "INVALIDARGS",
    "CALL_REJECTED": "DONTCALL",
}
ALWAYS_CONTINUE = ("NO_ANSWER", "NO_USER_RESPONSE", "ORIGINATOR_CANCEL")


def bridge(session: Session, data: str) -> None:
    ch = session.channel
    if not data:
        return
    timeout = float(ch.get_var("call_timeout") or 60)
    target = data.split("|")[0].split(",")[0]  # first of a failover/simultaneous list
    peer, cause = dial(session.switch, target, ch, ch.caller_name or None, None, timeout)
    if peer is None:
        ch.set_var("originate_disposition", cause)
        ch.set_var("DIALSTATUS", DIALSTATUS.get(cause, cause))
        ch.set_var("originate_failed_cause", cause)
        _handle_cause(ch, cause)
        return
    ch.set_var("originate_disposition", "call accepted")
    ch.set_var("DIALSTATUS", "ANSWER")
    _connect(session, ch, peer)


def _connect(session: Session, ch: Channel, peer: Channel) -> None:
    from ccctl.sim.session import Session as LegSession

    switch = session.switch
    switch.start_session(LegSession(switch, peer, [("park", None)]), created=True)
    now = switch.clock.now_us()
    ch.other_leg, peer.other_leg = peer, ch
    for leg, other in ((ch, peer), (peer, ch)):
        leg.times.bridged = now
        leg.touch_profile()
        leg.set_var("bridge_channel", other.name)
        leg.set_var("bridge_uuid", other.uuid)
        leg.set_var("signal_bond", other.uuid)
        leg.set_var("bridge_to", other.uuid)
        leg.set_var("last_bridge_to", other.uuid)
    ids = [("Bridge-A-Unique-ID", ch.uuid), ("Bridge-B-Unique-ID", peer.uuid)]
    ch.fire("CHANNEL_BRIDGE", before=ids)
    session.bridged_to.append(peer.name)
    ch.wait_for(lambda: not peer.up)
    ch.set_var("bridge_hangup_cause", peer.hangup_cause or "NORMAL_CLEARING")
    ch.set_var("last_bridge_hangup_cause", peer.hangup_cause or "NORMAL_CLEARING")
    ch.fire("CHANNEL_UNBRIDGE", before=ids)
    if peer.up:
        peer.hangup("NORMAL_CLEARING", by="peer")
    elif ch.up and (ch.get_var("hangup_after_bridge") or "").lower() in ("true", "yes", "1"):
        ch.hangup("NORMAL_CLEARING", by="agent")


def _handle_cause(ch: Channel, cause: str) -> None:
    """switch_channel_handle_cause: hang up on failure unless continue_on_fail says otherwise."""
    if not ch.up:
        return
    keep = ch.get_var("continue_on_fail")
    if keep is None:
        if cause in ALWAYS_CONTINUE:
            return
    elif keep.lower() in ("true", "yes", "1", "on"):
        return
    elif cause in [item.strip().upper() for item in keep.split(",")]:
        return
    ch.hangup(cause, by="switch")
