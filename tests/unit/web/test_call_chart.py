"""Calls per 15 minutes from the calls table, today against last week, drawn as SVG."""

from datetime import UTC, datetime, timedelta

from db_fixtures import MONDAY_8AM_UTC, call_record
from sqlalchemy.orm import Session

from ccctl.records.call_store import CallStore
from ccctl.records.database import make_engine
from ccctl.web.call_chart import chart_svg, counts_per_slot


def test_counts_fall_in_their_quarter_hour_of_that_day(db_url):
    store = CallStore(db_url)
    week = 7 * 86400
    for n, at in enumerate([MONDAY_8AM_UTC, MONDAY_8AM_UTC + 899, MONDAY_8AM_UTC + 900, MONDAY_8AM_UTC - week]):
        store.save(call_record(n, at=at))
    store.close(timeout=10)
    monday = datetime(2026, 11, 23, tzinfo=UTC)
    engine = make_engine(db_url)
    try:
        with Session(engine) as db:
            today = counts_per_slot(db, monday)
            last_week = counts_per_slot(db, monday - timedelta(days=7))
    finally:
        engine.dispose()
    assert len(today) == 96 and today[32] == 2 and today[33] == 1 and sum(today) == 3
    assert last_week[32] == 1 and sum(last_week) == 1


def test_svg_shows_both_totals_and_escapes_labels():
    svg = chart_svg([0] * 95 + [4], [1] * 96, ("Calls <today>", "Today", "Last week"))
    assert svg.startswith("<svg") and "Calls &lt;today&gt;" in svg
    assert 'data-today-total="4"' in svg and 'data-last-week-total="96"' in svg
    assert "Today (4)" in svg and "Last week (96)" in svg


def test_svg_has_a_visible_title_both_axes_with_names_and_a_legend():
    svg = chart_svg([3] * 96, [0] * 96, ("Calls per 15 minutes", "Today", "Last week", "Hour", "Calls"))
    assert '<text class="chart-title"' in svg and ">Calls per 15 minutes</text>" in svg
    assert svg.count('class="axis"') == 2 and ">Hour</text>" in svg and ">Calls</text>" in svg
    assert ">00:00</text>" in svg and ">21:00</text>" in svg and '<g class="legend">' in svg
