"""The `say` application: mod_dptools say_function over switch_ivr_say and a mod_say module.

`say <module>[:<lang>] <type> <method> [<gender>] <text>`: anything but 4 or 5 blank-separated
arguments only logs the usage. The language must be one the switch has a say module and a
<language> for (en, zh, pl here), else nothing is said. Date and time types read `text` as
seconds since the epoch (0 or less: now) and say it in the channel's `timezone` (a zone name;
the switch knows those of its timezones.conf, where `ccctl fs render` writes appointments.timezone),
else the switch's local time. The emulator plays no sound files: it keeps what was said, as
`say_app:<lang> <TYPE> <what>` in the call's prompts, for the time those words take.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ccctl.sim.command_reader import atoi
from ccctl.sim.digit_apps import separate_args
from ccctl.sim.media import playback_terminators, timed_audio

if TYPE_CHECKING:
    from ccctl.sim.session import Session

PROMPT_PREFIX = "say_app:"
SAY_LANGUAGES = ("en", "zh", "pl")
# switch_ivr_say.c's SAY_TYPE_NAMES (matched without case)
SAY_TYPES = (
    "NUMBER",
    "ITEMS",
    "PERSONS",
    "MESSAGES",
    "CURRENCY",
    "TIME_MEASUREMENT",
    "CURRENT_DATE",
    "CURRENT_TIME",
    "CURRENT_DATE_TIME",
    "TELEPHONE_NUMBER",
    "TELEPHONE_EXTENSION",
    "URL",
    "IP_ADDRESS",
    "EMAIL_ADDRESS",
    "POSTAL_ADDRESS",
    "ACCOUNT_NUMBER",
    "NAME_SPELLED",
    "NAME_PHONETIC",
    "SHORT_DATE_TIME",
)
# what the date types say, and about how long the sound files of it last (year, month, day, weekday, hour, minute)
DATE_FORMATS = {
    "CURRENT_DATE": ("%Y-%m-%d %a", 4.0),
    "CURRENT_TIME": ("%H:%M", 2.5),
    "CURRENT_DATE_TIME": ("%Y-%m-%d %a %H:%M", 6.5),
}
SECONDS_PER_CHARACTER = 0.4  # a digit or letter said as one sound file


def said_time(session: Session, text: str) -> dt.datetime:
    """The moment a date type says: epoch seconds, now when 0 or less, in the channel's zone."""
    seconds = atoi(text)
    moment = seconds if seconds > 0 else session.switch.clock.now()
    zone_name = session.channel.get_var("timezone")
    if zone_name:
        try:
            return dt.datetime.fromtimestamp(moment, ZoneInfo(zone_name))
        except (ZoneInfoNotFoundError, ValueError):
            pass  # switch_time_exp_tz_name falls back to the switch's local time
    return dt.datetime.fromtimestamp(moment).astimezone()


def say(session: Session, data: str) -> None:
    ch = session.channel
    argv = separate_args(data, 5)
    if len(argv) not in (4, 5):
        return  # "Usage: <module_name>[:<lang>] <say_type> <say_method> [<say_gender>] <text>"
    ch.set_var("playback_terminator_used", "")
    module, _, language = argv[0].partition(":")
    language = language or module
    say_type = argv[1].upper()
    text = argv[-1]
    if language not in SAY_LANGUAGES or say_type not in SAY_TYPES:
        return  # no <language> to find, or a type the module says nothing for
    if say_type in DATE_FORMATS:
        pattern, seconds = DATE_FORMATS[say_type]
        what = said_time(session, text).strftime(pattern)
    else:
        what, seconds = text, max(1, len(text)) * SECONDS_PER_CHARACTER
    session.prompts.append(f"{PROMPT_PREFIX}{language} {say_type} {what}")
    terminators = playback_terminators(session)

    def on_digit(digit: str) -> bool:
        if digit in terminators:
            ch.set_var("playback_terminator_used", digit)
            return True
        return False

    timed_audio(session, seconds, on_digit)
