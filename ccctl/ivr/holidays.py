"""The holiday calendar a flow's branch nodes test (`holiday: true`).

A YAML list of single dates or from/to ranges, each with a name; loaded once with
the flows, so a call never reads the disk.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from ccctl.ivr.errors import FlowError
from ccctl.ivr.flow_yaml import LineDict, load_yaml


@dataclass(frozen=True)
class Holiday:
    name: str
    first: dt.date
    last: dt.date


@dataclass(frozen=True)
class HolidayCalendar:
    source: str
    holidays: tuple[Holiday, ...]

    def holiday_on(self, day: dt.date) -> Holiday | None:
        return next((h for h in self.holidays if h.first <= day <= h.last), None)


def _as_date(value: object) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return None
    return None


def _holiday(entry: object, display: str, line: int, errors: list[FlowError]) -> Holiday | None:
    if not isinstance(entry, LineDict):
        errors.append(FlowError(display, line, None, "each holiday is a mapping with 'date' or 'from'/'to'"))
        return None
    name = str(entry.get("name", ""))
    if "date" in entry:
        first = last = _as_date(entry["date"])
        bad_key = "date"
    else:
        first, last = _as_date(entry.get("from")), _as_date(entry.get("to"))
        bad_key = "from" if first is None else "to"
    if first is None or last is None:
        value = entry.get(bad_key)
        errors.append(
            FlowError(display, entry.line_of(bad_key), None, f"'{bad_key}' must be a date YYYY-MM-DD, got {value!r}")
        )
        return None
    if last < first:
        errors.append(FlowError(display, entry.line_of("to"), None, "'to' is before 'from'"))
        return None
    return Holiday(name, first, last)


def load_calendar(path: Path, display: str) -> tuple[HolidayCalendar | None, list[FlowError]]:
    data, error = load_yaml(path, display)
    if error:
        return None, [error]
    if not isinstance(data, LineDict) or not isinstance(data.get("holidays"), list):
        return None, [FlowError(display, None, None, "a holiday calendar needs a 'holidays' list")]
    errors: list[FlowError] = []
    found = [_holiday(entry, display, data["holidays"].line, errors) for entry in data["holidays"]]
    return HolidayCalendar(display, tuple(h for h in found if h)), errors
