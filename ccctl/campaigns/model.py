"""The types the campaign parts pass each other: a campaign as its YAML says, calling hours, caps, a due target.

Plain frozen dataclasses: the pacer decides on these alone, the store builds them from rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

KINDS = ("reminder", "notification", "survey")
OUTCOMES = ("busy", "no_answer", "machine", "failed", "skipped")
# what a campaign does when mod_avmd hears a voicemail greeting's beep
MACHINE_ACTIONS = ("leave_message", "hang_up")
# automated: the flow talks to the patient; progressive: a call only for a free agent with the campaign's skill;
# preview: a free agent with the skill is shown the patient first and places the call (or skips it)
MODES = ("automated", "progressive", "preview")
# what becomes of a reserved patient the agent neither called nor skipped in time: back to the list, or dialled
PREVIEW_TIMEOUTS = ("list", "dial")
# why an agent may skip a previewed patient (each a word of campaigns/web_words.py: skip_<reason>)
SKIP_REASONS = ("not_now", "already_contacted", "in_hospital", "record_to_check")
# FreeSWITCH hangup causes -> the attempt's outcome (its retry spacing is the campaign's for that outcome)
CAUSE_OUTCOMES = {
    "USER_BUSY": "busy",
    "NO_ANSWER": "no_answer",
    "NO_USER_RESPONSE": "no_answer",
    "ORIGINATOR_CANCEL": "no_answer",
    "ALLOTTED_TIMEOUT": "no_answer",
    "RECOVERY_ON_TIMER_EXPIRE": "no_answer",
    "CALL_REJECTED": "busy",
}
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MINUTES_PER_DAY = 24 * 60


@dataclass(frozen=True)
class Window:
    """Calls may start on these weekdays (0 = Monday) from start_minute to end_minute (local, end excluded)."""

    days: frozenset[int]
    start_minute: int
    end_minute: int

    def holds(self, local: datetime) -> bool:
        minute = local.hour * 60 + local.minute
        return local.weekday() in self.days and self.start_minute <= minute < self.end_minute


@dataclass(frozen=True)
class CallingHours:
    """When a patient may be called, in their own zone: inside a window and outside every quiet period."""

    windows: tuple[Window, ...]
    quiet: tuple[tuple[int, int], ...] = ()

    def allows(self, local: datetime) -> bool:
        minute = local.hour * 60 + local.minute
        if any(_in_period(minute, start, end) for start, end in self.quiet):
            return False
        return any(window.holds(local) for window in self.windows)


def _in_period(minute: int, start: int, end: int) -> bool:
    # a quiet period may run over midnight (21:00-08:00)
    return start <= minute < end if start <= end else minute >= start or minute < end


@dataclass(frozen=True)
class Caps:
    """At most `daily` voice attempts a day (0: no limit), `concurrent` calls at once, `per_second` new calls."""

    daily: int = 0
    concurrent: int = 1
    per_second: float = 1.0


@dataclass(frozen=True)
class TargetList:
    """Who is called: patients by specialty and fields, a CSV of patient codes, or the visits of a date range."""

    specialty: str = ""
    fields: dict = field(default_factory=dict)
    csv_path: str = ""
    appointments_from: date | None = None
    appointments_to: date | None = None


@dataclass(frozen=True)
class CampaignSpec:
    """One ivr_flows/campaigns/<name>.yaml, checked."""

    name: str
    kind: str
    flow: str
    targets: TargetList
    hours: CallingHours
    time_zone: str  # "" = the site's (campaigns.time_zone)
    voice_attempts: int = 3
    retry_minutes: dict = field(default_factory=lambda: dict.fromkeys(OUTCOMES, 60))
    sms_text: str = ""  # after the last voice attempt; "" = no SMS
    email_subject: str = ""
    email_text: str = ""  # after the SMS (or instead when there is no SMS); "" = no e-mail
    caps: Caps = field(default_factory=Caps)
    description: str = ""
    machine: str = ""  # "" = no answering-machine detection; else one of MACHINE_ACTIONS
    machine_message: str = ""  # a prompt ("say:..." or a sound URL) left after the beep
    mode: str = "automated"
    agent_skill: str = ""  # progressive: the skill of the agents the calls are for
    abandon_percent: float = 3.0  # progressive: no new call while answered calls abandoned exceed this
    preview_seconds: int = 120  # preview: how long a reserved patient waits for the agent's Call or Skip
    preview_timeout: str = "list"  # preview: then back to the list, or "dial" (the call is placed for the agent)
    preview_queue: str = ""  # preview: the ACD queue its calls are in ("": the agent's first queue)
    # preview: wrap-up codes that mean the patient was not reached (the next call follows retry.no_answer)
    not_reached_codes: tuple[str, ...] = ()
    webhook: str = ""  # an http(s) URL given a JSON POST per finished target; "" = none


@dataclass(frozen=True)
class AgentLoad:
    """What progressive pacing decides on: agents free for the campaign's skill, its calls ringing, its
    answered patients still waiting for an agent, and its answered and abandoned calls so far."""

    free_agents: int
    ringing: int
    waiting: int
    answered: int = 0
    abandoned: int = 0


@dataclass(frozen=True)
class DueTarget:
    """A patient whose next attempt is due, with what the pacer needs to decide about calling them now."""

    id: int
    patient_id: int
    attempts: int
    number: str  # "" when the patient has no phone
    zone: ZoneInfo
    voice_opted_out: bool = False


def outcome_of(cause: str) -> str:
    return CAUSE_OUTCOMES.get(cause.strip().upper(), "failed")
