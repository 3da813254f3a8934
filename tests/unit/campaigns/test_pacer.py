"""The pacer with an injected clock: rate and concurrency caps, calling windows in the patient's zone, consent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from ccctl.campaigns.model import CallingHours, Caps, DueTarget, Window
from ccctl.campaigns.pacer import Pacer

WEEKDAYS_9_TO_20 = CallingHours((Window(frozenset(range(5)), 9 * 60, 20 * 60),), quiet=((12 * 60, 14 * 60),))
SHANGHAI = ZoneInfo("Asia/Shanghai")
# Tuesday 2026-12-08 10:00 in Shanghai
TUESDAY_10AM_SHANGHAI = datetime(2026, 12, 8, 2, 0, tzinfo=UTC)


def targets(count: int, zone=SHANGHAI, **kw) -> list[DueTarget]:
    return [DueTarget(id=i, patient_id=i, attempts=0, number=f"1380000{i:04d}", zone=zone, **kw) for i in range(count)]


def test_never_places_more_calls_than_the_concurrency_cap_leaves_room_for():
    pacer = Pacer(Caps(concurrent=3, per_second=50), WEEKDAYS_9_TO_20)
    now = TUESDAY_10AM_SHANGHAI
    assert len(pacer.calls_to_place(now, targets(10), in_progress=0, placed_today=0)) == 3
    later = now + timedelta(seconds=5)
    assert len(pacer.calls_to_place(later, targets(10), in_progress=2, placed_today=3)) == 1
    assert pacer.calls_to_place(later + timedelta(seconds=5), targets(10), in_progress=3, placed_today=4) == []


def test_new_calls_follow_the_rate_cap_over_a_minute_of_ticks():
    pacer = Pacer(Caps(concurrent=1000, per_second=2), WEEKDAYS_9_TO_20)
    placed = 0
    for tick in range(600):  # ten ticks a second for a minute
        now = TUESDAY_10AM_SHANGHAI + timedelta(seconds=tick / 10)
        placed += len(pacer.calls_to_place(now, targets(50), in_progress=0, placed_today=placed))
    assert 118 <= placed <= 121


def test_the_daily_cap_stops_new_calls_for_the_day():
    pacer = Pacer(Caps(daily=5, concurrent=10, per_second=10), WEEKDAYS_9_TO_20)
    assert len(pacer.calls_to_place(TUESDAY_10AM_SHANGHAI, targets(10), in_progress=0, placed_today=3)) == 2
    again = TUESDAY_10AM_SHANGHAI + timedelta(seconds=10)
    assert pacer.calls_to_place(again, targets(10), in_progress=0, placed_today=5) == []


def test_no_call_outside_the_window_or_in_quiet_hours_of_the_patients_own_zone():
    pacer = Pacer(Caps(concurrent=10, per_second=100), WEEKDAYS_9_TO_20)
    lunch_in_shanghai = datetime(2026, 12, 8, 4, 30, tzinfo=UTC)  # 12:30 there
    assert pacer.calls_to_place(lunch_in_shanghai, targets(3), in_progress=0, placed_today=0) == []
    night_in_shanghai = datetime(2026, 12, 8, 13, 0, tzinfo=UTC)  # 21:00 there
    assert pacer.calls_to_place(night_in_shanghai, targets(3), in_progress=0, placed_today=0) == []
    # the same instant is 14:00 in Warsaw: a patient living there may be called
    warsaw = targets(2, zone=ZoneInfo("Europe/Warsaw"))
    assert [t.id for t in pacer.calls_to_place(night_in_shanghai, warsaw, in_progress=0, placed_today=0)] == [0, 1]
    saturday_10am_shanghai = datetime(2026, 12, 12, 2, 0, tzinfo=UTC)
    later = saturday_10am_shanghai + timedelta(seconds=1)
    assert pacer.calls_to_place(later, targets(3), in_progress=0, placed_today=0) == []


def test_an_opted_out_patient_or_one_without_a_number_is_never_chosen():
    pacer = Pacer(Caps(concurrent=10, per_second=100), WEEKDAYS_9_TO_20)
    opted_out = targets(2, voice_opted_out=True)
    no_number = [DueTarget(id=9, patient_id=9, attempts=0, number="", zone=SHANGHAI)]
    willing = [DueTarget(id=7, patient_id=7, attempts=0, number="13800000007", zone=SHANGHAI)]
    chosen = pacer.calls_to_place(TUESDAY_10AM_SHANGHAI, [*opted_out, *no_number, *willing], 0, 0)
    assert [t.id for t in chosen] == [7]


def test_a_quiet_period_over_midnight_covers_both_sides():
    hours = CallingHours((Window(frozenset(range(7)), 0, 24 * 60),), quiet=((21 * 60, 8 * 60),))
    pacer = Pacer(Caps(concurrent=10, per_second=100), hours)
    for hour, allowed in ((22, False), (3, False), (8, True), (20, True)):
        local = datetime(2026, 12, 8, hour, 30, tzinfo=SHANGHAI)
        assert pacer.may_call(targets(1)[0], local) is allowed, hour
