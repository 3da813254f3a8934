"""Hangup causes: FreeSWITCH's names and numbers (switch_types.h), str2cause and the Q.850 value.

Unknown names fall back to a default, as switch_channel_str2cause callers do.
"""

from __future__ import annotations

_CAUSE_TEXT = (
    "NONE=0 UNALLOCATED_NUMBER=1 NO_ROUTE_TRANSIT_NET=2 NO_ROUTE_DESTINATION=3 CHANNEL_UNACCEPTABLE=6 "
    "NORMAL_CLEARING=16 USER_BUSY=17 NO_USER_RESPONSE=18 NO_ANSWER=19 SUBSCRIBER_ABSENT=20 CALL_REJECTED=21 "
    "NUMBER_CHANGED=22 DESTINATION_OUT_OF_ORDER=27 INVALID_NUMBER_FORMAT=28 FACILITY_REJECTED=29 "
    "NORMAL_UNSPECIFIED=31 NORMAL_CIRCUIT_CONGESTION=34 NETWORK_OUT_OF_ORDER=38 NORMAL_TEMPORARY_FAILURE=41 "
    "SWITCH_CONGESTION=42 REQUESTED_CHAN_UNAVAIL=44 SERVICE_UNAVAILABLE=63 SERVICE_NOT_IMPLEMENTED=79 "
    "INCOMPATIBLE_DESTINATION=88 RECOVERY_ON_TIMER_EXPIRE=102 PROTOCOL_ERROR=111 INTERWORKING=127 "
    "ORIGINATOR_CANCEL=487 CRASH=700 SYSTEM_SHUTDOWN=701 LOSE_RACE=702 MANAGER_REQUEST=703 BLIND_TRANSFER=800 "
    "ATTENDED_TRANSFER=801 ALLOTTED_TIMEOUT=802 MEDIA_TIMEOUT=804 PICKED_OFF=805 USER_NOT_REGISTERED=806 "
    "PROGRESS_TIMEOUT=807 INVALID_GATEWAY=808 GATEWAY_DOWN=809 INVALID_URL=810 INVALID_PROFILE=811 NO_PICKUP=812"
)
CAUSES: dict[str, int] = {k: int(v) for k, v in (item.split("=") for item in _CAUSE_TEXT.split())}
CAUSE_NAMES: dict[int, str] = {v: k for k, v in CAUSES.items()}


def cause_from_text(text: str | None, default: str = "NORMAL_CLEARING") -> str:
    """switch_channel_str2cause: a cause name (any case) or its number; unknown -> default."""
    if not text:
        return default
    name = text.strip().upper()
    if name in CAUSES and name != "NONE":
        return name
    if name.isdigit() and int(name) in CAUSE_NAMES:
        return CAUSE_NAMES[int(name)]
    return default


def q850(cause: str) -> int:
    number = CAUSES.get(cause, 16)
    return number if number <= 127 else 16
