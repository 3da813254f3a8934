"""Which call app answers a call that reaches the outbound socket: one table, first match wins.

| the call carries                         | app                                         |
| ---------------------------------------- | ------------------------------------------- |
| `cc_feature` (an agent dialled *55...)   | FeatureCodeCall: log in/out, break          |
| `cc_callback_entry` (the ACD called out) | CallbackCall: greet, ring the agents        |
| `cc_queue_entry` (a caller taken back)   | CallbackCall(readopted): hold in their line |
| `cc_target` (a campaign called them)     | CampaignCall: the campaign's flow           |
| anything else                            | the hotline's flow (FlowRegistry)           |

A new kind of call (a campaign's) is one more row: a channel variable set where the call is made, and
the app that drives it.
"""

from __future__ import annotations

from collections.abc import Callable

from ccctl.acd.callback_call import CallbackCall
from ccctl.acd.feature_codes import FEATURES, FeatureCodeCall
from ccctl.callflow import CallApp, CallInfo
from ccctl.config import Settings

AppFactory = Callable[[CallInfo], CallApp]


def call_app_table(settings: Settings, acd, hotline_flows: AppFactory) -> AppFactory:
    """The app factory of a serve process with an ACD (acd: ccctl.acd.engine.AcdEngine)."""
    recordings_dir = str(settings.recordings_dir)
    campaigns: list = []  # ccctl.campaigns.call.CampaignCalls, made at the first campaign call

    def app_for(call: CallInfo) -> CallApp:
        feature = call.variables.get("cc_feature", "")
        if feature in FEATURES:
            return FeatureCodeCall(settings.database.url, feature)
        callback = call.variables.get("cc_callback_entry", "")
        if callback.isdigit():
            return CallbackCall(acd, int(callback), recordings_dir)
        readopted = call.variables.get("cc_queue_entry", "")
        if readopted.isdigit():
            return CallbackCall(acd, int(readopted), recordings_dir, readopted=True)
        target = call.variables.get("cc_target", "")
        if target.isdigit():
            if not campaigns:  # most processes never see a campaign call: import and load only then
                from ccctl.campaigns.call import CampaignCalls

                campaigns.append(CampaignCalls(settings, acd))
            return campaigns[0].app_for(call, int(target))
        return hotline_flows(call)

    return app_for
