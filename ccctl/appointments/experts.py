"""The expert roster: which doctors take consultations, when, and how the switch reaches them.

An expert's hours are written as the hospital's rota says them ("Mon-Fri 14:00-16:00; Sat 09:00-12:00"), in the
site's zone (appointments.timezone); they are checked when set, so `schedule experts` never meets a bad one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from ccctl.errors import UserError
from ccctl.records.database import in_transaction
from ccctl.records.models.appointments import Doctor
from ccctl.records.models.base import utc_now

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_SPAN = re.compile(r"^(?P<days>[A-Za-z]{3}(?:-[A-Za-z]{3})?)\s+(?P<start>\d{1,2}:\d{2})-(?P<end>\d{1,2}:\d{2})$")
# what a dial string may hold: FreeSWITCH endpoint syntax, no spaces (a space would end the originate argument)
_DIAL = re.compile(r"^[A-Za-z0-9_./:@+=,{}\[\]-]{1,128}$")


class RosterError(UserError):
    """An expert's hours or dial string cannot be used; one line naming the doctor and the value."""


@dataclass(frozen=True)
class Span:
    """One rota line: these weekdays (0 = Monday), from start to end (site time; end after start)."""

    days: frozenset[int]
    start: time
    end: time


@dataclass(frozen=True)
class ExpertRow:
    code: str
    name: str
    department_code: str
    hours: str
    dial_string: str
    on_now: bool


def _clock(text: str) -> time:
    hour, minute = (int(part) for part in text.split(":"))
    if hour == 24 and minute == 0:
        return time.max
    return time(hour, minute)


def parse_hours(text: str) -> list[Span]:
    """ "Mon-Fri 14:00-16:00; Sat 09:00-12:00" as spans; ValueError naming the part that is not understood."""
    spans = []
    for part in (p.strip() for p in re.split(r"[;,]", text)):
        if not part:
            continue
        match = _SPAN.match(part)
        if match is None:
            raise ValueError(f"{part!r}: expected DAY[-DAY] HH:MM-HH:MM (e.g. Mon-Fri 14:00-16:00)")
        first, _, last = match["days"].lower().partition("-")
        if first not in DAYS or (last and last not in DAYS):
            raise ValueError(f"{part!r}: days are {', '.join(d.title() for d in DAYS)}")
        start, end = DAYS.index(first), DAYS.index(last or first)
        days = frozenset(range(start, end + 1)) if start <= end else frozenset([*range(start, 7), *range(end + 1)])
        try:
            span = Span(days, _clock(match["start"]), _clock(match["end"]))
        except ValueError:
            raise ValueError(f"{part!r}: not a time of day") from None
        if span.end <= span.start:
            raise ValueError(f"{part!r}: the end comes before the start")
        spans.append(span)
    return spans


def on_duty(hours: str, local: datetime) -> bool:
    """Whether `local` (site time) falls in one of the hours' spans; no hours, never."""
    try:
        spans = parse_hours(hours)
    except ValueError:
        return False
    return any(local.weekday() in s.days and s.start <= local.time() < s.end for s in spans)


def set_expert(session: Session, code: str, hours: str, dial_string: str, expert: bool = True) -> Doctor:
    """Put the doctor on the roster with these hours and dial string (or take them off it)."""
    doctor = session.scalar(select(Doctor).where(Doctor.code == code))
    if doctor is None:
        raise RosterError(f"doctor {code!r}: no such doctor (ccctl schedule list)")
    if expert:
        try:
            parse_hours(hours)
        except ValueError as exc:
            raise RosterError(f"doctor {code} --hours {exc}") from None
        if not hours.strip():
            raise RosterError(f"doctor {code}: give --hours (e.g. 'Mon-Fri 14:00-16:00')")
        if not _DIAL.match(dial_string):
            raise RosterError(f"doctor {code} --dial {dial_string!r}: not a dial string (e.g. user/1201)")
        doctor.expert_hours, doctor.dial_string = hours.strip(), dial_string
    doctor.is_expert = expert
    session.flush()
    return doctor


def roster(session: Session, now: datetime, zone: ZoneInfo, everyone: bool = False) -> list[ExpertRow]:
    """The experts on duty at `now` (with `everyone`, every expert, marked on or off), by code."""
    local = now.astimezone(zone)
    doctors = session.scalars(
        select(Doctor)
        .where(Doctor.is_expert.is_(True), Doctor.active.is_(True))
        .options(joinedload(Doctor.department))
        .order_by(Doctor.code)
    )
    rows = [
        ExpertRow(
            d.code,
            d.name,
            d.department.code if d.department else "",
            d.expert_hours,
            d.dial_string,
            on_duty(d.expert_hours, local),
        )
        for d in doctors
    ]
    return rows if everyone else [row for row in rows if row.on_now]


def expert_to_dial(session: Session, code: str) -> Doctor:
    """The expert a consultation calls; RosterError when the code is no expert or has no dial string."""
    doctor = session.scalar(select(Doctor).where(Doctor.code == code))
    if doctor is None or not doctor.is_expert or not doctor.active:
        raise RosterError(f"expert {code!r}: no such expert on the roster (ccctl schedule experts --all)")
    if not doctor.dial_string:
        raise RosterError(f"expert {code}: no dial string (ccctl schedule expert {code} --dial ...)")
    return doctor


def experts_on_roster(url: str, zone: ZoneInfo, everyone: bool = False, now: datetime | None = None) -> list[ExpertRow]:
    """`ccctl schedule experts`: the roster at `now` (default: this moment)."""
    return in_transaction(url, RosterError, lambda session: roster(session, now or utc_now(), zone, everyone))


def put_on_roster(url: str, code: str, hours: str, dial_string: str, expert: bool = True) -> ExpertRow:
    """`ccctl schedule expert CODE`: the doctor's roster entry, as stored."""

    def work(session: Session) -> ExpertRow:
        d = set_expert(session, code, hours, dial_string, expert)
        return ExpertRow(
            d.code, d.name, d.department.code if d.department else "", d.expert_hours, d.dial_string, False
        )

    return in_transaction(url, RosterError, work)
