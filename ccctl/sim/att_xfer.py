"""The att_xfer application: an attended (warm) transfer run on the agent's leg of a bridged call.

Follows att_thread_run / xfer_on_dtmf of mod_dptools.c: the agent's leg dials the target (the same dial
strings as `bridge`) while its partner waits (on hold music when started by uuid_broadcast's hold-bleg),
talks to the target in an inner bridge, then: the agent hung up and the target is still there -> the
caller is uuid_bridge'd to the target; the target hung up, refused or did not answer -> the agent goes
back to the caller. During the consultation the agent's digits attxfer_hangup_key (`*`, completes the
transfer) and attxfer_cancel_key (`#`, drops the target) act; attxfer_conf_key (`0`, three_way) is not modelled.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ccctl.sim.bridge import MULTI_THREADED_BRIDGE, end_bridge, link, uuid_bridge
from ccctl.sim.originate import dial

if TYPE_CHECKING:
    from ccctl.sim.channel import Channel
    from ccctl.sim.session import Session

DEFAULT_KEYS = {"attxfer_cancel_key": "#", "attxfer_hangup_key": "*", "attxfer_conf_key": "0"}


def att_xfer(session: Session, data: str) -> None:
    switch, ch = session.switch, session.channel
    caller = ch.other_leg  # switch_channel_get_partner_uuid: the bond
    bond = caller.uuid if caller is not None else None
    outer = ch.bridge_ids
    ch.set_var("soft_holding_uuid", bond)
    try:
        timeout = float(ch.get_var("call_timeout") or 60)
        target, _cause = dial(switch, data, ch, ch.caller_name or None, None, timeout)
        if target is None:
            ch.set_var("signal_bond", bond)
            return
        _consult(session, target)
        _back(ch, caller, outer)
        if caller is None:
            return
        ch.set_var("signal_bond", bond)
        if target.up and not ch.up:
            ok = uuid_bridge(switch, target.uuid, caller.uuid)
            target.set_var("att_xfer_result", "success" if ok else "failure")
            return
        if target.up:
            # both still up (the conference key): hanguphook bridges these two when the agent goes
            caller.set_var("xfer_uuids", f"{target.uuid} {ch.uuid}")
            ch.set_var("xfer_uuids", f"{target.uuid} {caller.uuid}")
        ok = uuid_bridge(switch, ch.uuid, caller.uuid)
        ch.set_var("att_xfer_result", "success" if ok else "failure")
    finally:
        ch.set_var("soft_holding_uuid", None)


def _consult(session: Session, target: Channel) -> None:
    """switch_ivr_multi_threaded_bridge(agent, target, xfer_on_dtmf) with CF_INNER_BRIDGE on both legs."""
    from ccctl.sim.session import Session as LegSession

    switch, ch = session.switch, session.channel
    switch.start_session(LegSession(switch, target, [("park", None)]), created=True)
    keys = {name: ch.get_var(name) or target.get_var(name) or default for name, default in DEFAULT_KEYS.items()}
    link(ch, target)
    ch.fire(
        "CHANNEL_BRIDGE",
        before=[("Bridge-A-Unique-ID", ch.uuid), ("Bridge-B-Unique-ID", target.uuid)],
        called_from=MULTI_THREADED_BRIDGE,
    )
    while ch.wait_for(lambda: not target.up or ch.has_dtmf()) == "done" and target.up:
        if _on_dtmf(ch, target, ch.dequeue_dtmf(), keys):
            break
    end_bridge(ch, target)


def _on_dtmf(ch: Channel, target: Channel, digit: str, keys: dict[str, str]) -> bool:
    """xfer_on_dtmf: True when the digit ends the consultation."""
    if digit == keys["attxfer_hangup_key"][:1]:
        ch.hangup("NORMAL_CLEARING", by="agent")
        return True
    if digit == keys["attxfer_cancel_key"][:1]:
        target.hangup("NORMAL_CLEARING", by="agent")
        return True
    # attxfer_conf_key (three_way of the target on the agent's leg) is not modelled: the digit is ignored
    return False


def _back(ch: Channel, caller: Channel | None, outer: tuple[str, str] | None) -> None:
    """The agent's leg is the caller's partner again (signal_bond = bond) until uuid_bridge moves someone."""
    if caller is None:
        return
    ch.other_leg = caller
    if outer is not None and caller.bridge_ids == outer:
        ch.bridge_ids = outer
    caller.wakeup.set()
