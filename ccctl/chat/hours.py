"""Whether a person answers the chat now: chat.open_hours on chat.open_days, in the site's time zone."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from ccctl.config import ChatSettings
from ccctl.errors import UserError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
HOURS = re.compile(r"^(\d{2}):(\d{2})-(\d{2}):(\d{2})$")


class ChatHoursError(UserError, ValueError):
    """chat.open_hours or chat.open_days cannot be read; names the setting and the value."""


def minutes_open(open_hours: str) -> tuple[int, int]:
    match = HOURS.match(open_hours.strip())
    if not match:
        raise ChatHoursError(f"chat.open_hours: {open_hours!r} is not like 08:00-18:00")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    start, end = h1 * 60 + m1, h2 * 60 + m2
    if not (0 <= start < end <= 24 * 60) or m1 > 59 or m2 > 59:
        raise ChatHoursError(f"chat.open_hours: {open_hours!r} is not a range within one day")
    return start, end


def is_open(settings: ChatSettings, timezone: str, now: datetime) -> bool:
    """A person answers at this (aware) moment."""
    unknown = [d for d in settings.open_days if d not in DAYS]
    if unknown:
        raise ChatHoursError(f"chat.open_days: {unknown[0]!r} is not one of {', '.join(DAYS)}")
    local = now.astimezone(ZoneInfo(timezone))
    start, end = minutes_open(settings.open_hours)
    return DAYS[local.weekday()] in settings.open_days and start <= local.hour * 60 + local.minute < end
