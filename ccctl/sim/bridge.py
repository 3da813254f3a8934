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
    from ccctl.sim.switch import Switch

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
    link(ch, peer)
    ch.fire("CHANNEL_BRIDGE", before=[("Bridge-A-Unique-ID", ch.uuid), ("Bridge-B-Unique-ID", peer.uuid)])
    session.bridged_to.append(peer.name)
    run_bridge(session)


def link(originator: Channel, originatee: Channel) -> None:
    """What switch_ivr_multi_threaded_bridge records on both legs: partners, bridge time, bridge_* variables."""
    now = originator.switch.clock.now_us()
    originator.other_leg, originatee.other_leg = originatee, originator
    originator.bridge_ids = originatee.bridge_ids = (originator.uuid, originatee.uuid)
    for leg, other in ((originator, originatee), (originatee, originator)):
        leg.times.bridged = now
        leg.touch_profile()
        leg.set_var("bridge_channel", other.name)
        leg.set_var("bridge_uuid", other.uuid)
        leg.set_var("signal_bond", other.uuid)
        leg.set_var("bridge_to", other.uuid)
        leg.set_var("last_bridge_to", other.uuid)
        leg.wakeup.set()


def run_bridge(session: Session, app: bool = True) -> None:
    """The bridge loop of one leg until its bridge ends.

    Broadcasts (uuid_broadcast, hold music, sendmsg) run inline as in audio_bridge_thread. The bridge's
    originator (Bridge-A) reports CHANNEL_UNBRIDGE and hangs up a partner still up. A `bridge`
    application (app) whose leg uuid_bridge moves into another bridge as its originatee ends there
    (CF_TRANSFER interrupts it): the session then follows the new bridge from park (peer_bridge), and
    an originatee whose bridge was made by uuid_bridge hangs up at its end (audio_bridge_on_exchange_media),
    unless it hung up itself.
    """
    ch = session.channel
    first = ch.bridge_ids if app else None
    session.following = True
    try:
        while True:
            result = ch.wait_for(lambda: bool(session.messages) or _bridge_over(ch) or _moved(ch, first))
            if result == "done" and session.messages and not _bridge_over(ch) and not _moved(ch, first):
                actor = session.actor  # whoever ran the bridge still owns what follows it
                session.parse_message(session.messages.popleft())
                session.actor = actor
                ch.flags.discard("CF_BREAK")  # the bridge reads on; a stopped broadcast breaks nothing here
                continue
            break
    finally:
        session.following = False
    ids, peer = ch.bridge_ids, ch.other_leg
    if _moved(ch, first):
        session.peer_bridge = True
        return
    if ids is None or peer is None:  # uuid_bridge or a transfer took the partner away and reported the end
        if first is not None and first[0] == ch.uuid and session.transfer_to is None:
            _hangup_after_bridge(ch)  # a transferred leg (CF_TRANSFER) never hangs up after its bridge
        return
    if ids[0] != ch.uuid:
        if ch.up and not peer.up and ids != first:
            ch.hangup("NORMAL_CLEARING", by="peer")
        return
    end_bridge(ch, peer)
    if peer.up:
        peer.hangup("NORMAL_CLEARING", by="peer")
    else:
        _hangup_after_bridge(ch)


def _moved(ch: Channel, first: tuple[str, str] | None) -> bool:
    """uuid_bridge put the leg of a running `bridge` application into a new bridge, as its originatee."""
    ids = ch.bridge_ids
    return first is not None and ch.up and ids is not None and ids != first and ids[0] != ch.uuid


def _hangup_after_bridge(ch: Channel) -> None:
    """switch_ivr_multi_threaded_bridge: the originator hangs up after the bridge if hangup_after_bridge says so."""
    if ch.up and (ch.get_var("hangup_after_bridge") or "").lower() in ("true", "yes", "1"):
        ch.hangup("NORMAL_CLEARING", by="agent")


def _bridge_over(ch: Channel) -> bool:
    """The bridge this leg is in has ended: torn down, or the partner hung up while still bridged to it.

    A partner that hangs up inside an att_xfer consultation (bridged elsewhere for now) does not end it:
    att_xfer puts the caller with the target or back with the agent first.
    """
    peer = ch.other_leg
    if ch.bridge_ids is None or peer is None:
        return True
    return not peer.up and peer.bridge_ids == ch.bridge_ids


def end_bridge(originator: Channel, peer: Channel) -> None:
    """CHANNEL_UNBRIDGE from the bridge's originator, bridge_hangup_cause, both legs out of the bridge."""
    ids = originator.bridge_ids or (originator.uuid, peer.uuid)
    cause = peer.hangup_cause or "NORMAL_CLEARING"
    originator.set_var("bridge_hangup_cause", cause)
    originator.set_var("last_bridge_hangup_cause", cause)
    originator.fire("CHANNEL_UNBRIDGE", before=[("Bridge-A-Unique-ID", ids[0]), ("Bridge-B-Unique-ID", ids[1])])
    for leg in (originator, peer):
        if leg.bridge_ids == ids:
            leg.bridge_ids = None
            leg.wakeup.set()


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


# uuid_bridge_on_soft_execute fires CHANNEL_EXECUTE "uuid_bridge" for the originator (line 1236), then the
# originatee (1243); switch_ivr_multi_threaded_bridge then fires CHANNEL_BRIDGE (line 1689)
UUID_BRIDGE_EXECUTE_LINES = (1236, 1243)
MULTI_THREADED_BRIDGE = ("switch_ivr_bridge.c", "switch_ivr_multi_threaded_bridge", 1689)


def uuid_bridge(switch: Switch, originator_uuid: str, originatee_uuid: str) -> bool:
    """switch_ivr_uuid_bridge: interrupt both legs and bridge them; the originator runs the new bridge."""
    a_session, b_session = switch.sessions.get(originator_uuid), switch.sessions.get(originatee_uuid)
    if a_session is None or b_session is None:
        return False  # "originator/originatee uuid %s is not present"
    a, b = a_session.channel, b_session.channel
    if not a.up:
        return False  # "%s is hungup refusing to bridge."
    if not _media_up(a):
        if not _media_up(b):
            return False  # "Neither channel is answered, cannot bridge them."
        a_session, b_session, a, b = b_session, a_session, b, a  # "reversing order of channels so this will work!"
    for leg in (a, b):
        _leave_bridge(leg, keep=(a, b))
    now = int(switch.clock.now())
    for leg, other in ((a, b), (b, a)):
        leg.stop_broadcast()
        source = f"{now}:{leg.uuid}:uuid_br:{other.uuid}"
        leg.set_var("transfer_history", _pushed(leg.get_var("transfer_history"), source))
        leg.set_var("transfer_source", source)
    for (leg, other), line in zip(((a, b), (b, a)), UUID_BRIDGE_EXECUTE_LINES, strict=True):
        leg.fire(
            "CHANNEL_EXECUTE",
            extra=[("Application", "uuid_bridge"), ("Application-Data", other.uuid)],
            called_from=("switch_ivr_bridge.c", "uuid_bridge_on_soft_execute", line),
        )
    link(a, b)
    b.set_var("call_uuid", a.uuid)
    a.fire(
        "CHANNEL_BRIDGE",
        before=[("Bridge-A-Unique-ID", a.uuid), ("Bridge-B-Unique-ID", b.uuid)],
        called_from=MULTI_THREADED_BRIDGE,
    )
    if not a_session.following:
        a_session.pending_bridge = True  # a parked originator leaves park to run the bridge
        a.wakeup.set()
    return True


def _pushed(current: str | None, value: str) -> str:
    """switch_channel_add_variable_var_check(..., SWITCH_STACK_PUSH): a second value makes an ARRAY:: variable."""
    if not current:
        return value
    if current.startswith("ARRAY::"):
        return f"{current}|:{value}"
    return f"ARRAY::{current}|:{value}"


def _media_up(ch: Channel) -> bool:
    return ch.up and (ch.answered or ch.early)


def leave_bridge_for_transfer(leg: Channel, keep: tuple[Channel, ...]) -> None:
    """switch_ivr_session_transfer: CF_TRANSFER ends the leg's bridge; a partner not also moved hangs up."""
    _leave_bridge(leg, keep)


def _leave_bridge(leg: Channel, keep: tuple[Channel, ...]) -> None:
    """CF_TRANSFER ends the bridge a leg was in: its originator reports CHANNEL_UNBRIDGE; a parked
    former partner left on its own hangs up, as audio_bridge_on_exchange_media does after a bridge."""
    ids, old = leg.bridge_ids, leg.other_leg
    if ids is None or old is None or old.bridge_ids != ids:
        leg.bridge_ids = None
        return
    originator = leg if ids[0] == leg.uuid else old
    end_bridge(originator, old if originator is leg else leg)
    session = leg.switch.sessions.get(old.uuid)
    if old not in keep and old.up and session is not None and not session.following:
        leg.switch.hangup_soon(old, "NORMAL_CLEARING", by="peer")
