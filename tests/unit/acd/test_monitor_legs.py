"""Finding an agent's live leg in `show channels as json` rows (monitor and transfer)."""

from __future__ import annotations

from ccctl.acd.monitor import find_agent_channel


def test_an_agents_leg_is_found_live_after_a_hold_and_unhold():
    """switch_channel_callstate leaves an unheld leg UNHELD: monitor and transfer must still find it."""
    row = {"uuid": "leg-1", "name": "sofia/internal/1001@cc.local", "created_epoch": "1", "application": "park"}
    for callstate, found in (("ACTIVE", True), ("HELD", True), ("UNHELD", True), ("RINGING", False), ("EARLY", False)):
        assert (find_agent_channel([{**row, "callstate": callstate}], "1001") is not None) is found, callstate
