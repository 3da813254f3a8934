"""The expert roster's hours: written as the rota says them, read in the site's zone, refused when unclear."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from schedule_fixtures import add_cardiology, session_on

from ccctl.appointments.experts import RosterError, on_duty, parse_hours, roster, set_expert

WARSAW = ZoneInfo("Europe/Warsaw")


def test_weekday_ranges_wrap_and_several_spans_are_read():
    spans = parse_hours("Fri-Mon 20:00-24:00; Wed 09:00-10:30")
    assert [sorted(s.days) for s in spans] == [[0, 4, 5, 6], [2]]
    assert on_duty("Mon-Fri 14:00-16:00", datetime(2026, 12, 7, 15, 59))  # a Monday
    assert not on_duty("Mon-Fri 14:00-16:00", datetime(2026, 12, 7, 16, 0))
    assert not on_duty("Mon-Fri 14:00-16:00", datetime(2026, 12, 6, 15, 0))  # a Sunday
    assert not on_duty("", datetime(2026, 12, 7, 15, 0))


@pytest.mark.parametrize(
    ("hours", "why"),
    [
        ("weekdays 9-5", r"expected DAY\[-DAY\] HH:MM-HH:MM"),
        ("Mon-Fru 09:00-10:00", "days are Mon, Tue"),
        ("Mon 25:00-26:00", "not a time of day"),
        ("Mon 10:00-09:00", "the end comes before the start"),
    ],
)
def test_unclear_hours_are_refused_naming_the_part(hours, why):
    with pytest.raises(ValueError, match=why):
        parse_hours(hours)


def test_the_roster_lists_who_is_on_duty_in_the_sites_zone(sqlite_url):
    with session_on(sqlite_url) as session:
        add_cardiology(session, slots=0, doctor_code="E1")
        add_cardiology(session, slots=0, doctor_code="E2")
        set_expert(session, "E1", "Mon 14:00-16:00", "user/1201")
        set_expert(session, "E2", "Mon 16:00-18:00", "sofia/gateway/hospital/600100300")
        with pytest.raises(RosterError, match="doctor E2 --dial 'user/1 2': not a dial string"):
            set_expert(session, "E2", "Mon 16:00-18:00", "user/1 2")
        monday_1430_warsaw = datetime(2026, 12, 7, 13, 30, tzinfo=UTC)
        assert [r.code for r in roster(session, monday_1430_warsaw, WARSAW)] == ["E1"]
        everyone = roster(session, monday_1430_warsaw, WARSAW, everyone=True)
        assert [(r.code, r.on_now) for r in everyone] == [("E1", True), ("E2", False)]
        set_expert(session, "E1", "", "", expert=False)
        assert [r.code for r in roster(session, monday_1430_warsaw, WARSAW, everyone=True)] == ["E2"]
