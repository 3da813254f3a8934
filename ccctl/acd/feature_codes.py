"""Agents' feature codes from their phones: *21 log in, *22 log out, *23 break (dialplan/agents.xml).

The dialplan sets cc_feature and hands the call to ccctl; the agent is the caller's extension.
"""

from __future__ import annotations

import logging

import gevent

from ccctl.acd.agents import AgentError, set_status
from ccctl.callflow import CallInfo, Execute, Steps, StepsApp

log = logging.getLogger("ccctl.acd")

FEATURES = {
    "agent_login": ("Available", "say:You are logged in and available for calls."),
    "agent_logout": ("Logged Out", "say:You are logged out. Goodbye."),
    "agent_break": ("On Break", "say:You are on break. Dial star 2 1 to take calls again."),
}
UNKNOWN_AGENT = "say:This phone is not an agent's phone."


class FeatureCodeCall(StepsApp):
    """answer -> change the agent's status -> say what it is now -> hang up."""

    def __init__(self, database_url: str, feature: str) -> None:
        super().__init__()
        self.database_url = database_url
        self.feature = feature

    def steps(self, call: CallInfo) -> Steps:
        self.path.append(self.feature)
        yield Execute("answer")
        status, confirmation = FEATURES[self.feature]
        try:
            # the database write runs off the event loop, like every other call's
            gevent.get_hub().threadpool.apply(set_status, (self.database_url, call.caller_number, status))
        except AgentError:
            log.warning("feature %s from extension %s: no such agent", self.feature, call.caller_number)
            self.path.append("unknown_agent")
            yield Execute("playback", UNKNOWN_AGENT)
            return
        self.path.append(status.lower().replace(" ", "_"))
        yield Execute("playback", confirmation)
