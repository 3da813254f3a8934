"""Calls per 15 minutes today against the same weekday last week, from the calls table, as inline SVG.

counts_per_slot() reads the database; chart_svg() is plain text work so it is tested without one.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from html import escape

from sqlalchemy import select
from sqlalchemy.orm import Session

from ccctl.records.models.calls import Call

SLOTS = 96  # 24 h of 15 minutes
WIDTH, HEIGHT, PAD = 576, 140, 18


def counts_per_slot(db: Session, day_start: datetime) -> list[int]:
    """Calls started in each 15-minute slot of the day beginning at day_start (an aware datetime)."""
    counts = [0] * SLOTS
    query = select(Call.started_at).where(Call.started_at >= day_start, Call.started_at < day_start + timedelta(1))
    for started in db.scalars(query):
        slot = int((started - day_start).total_seconds() // 900)
        if 0 <= slot < SLOTS:
            counts[slot] += 1
    return counts


def local_midnight(now: datetime) -> datetime:
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


def _points(counts: list[int], top: int) -> str:
    step = (WIDTH - 2 * PAD) / (SLOTS - 1)
    return " ".join(
        f"{PAD + i * step:.1f},{HEIGHT - PAD - (HEIGHT - 2 * PAD) * c / top:.1f}" for i, c in enumerate(counts)
    )


def chart_svg(today: list[int], last_week: list[int], labels: tuple[str, str, str]) -> str:
    """Two lines (today solid, last week dashed) with hour ticks; labels = (title, today, last week)."""
    title, today_label, week_label = (escape(x) for x in labels)
    top = max([1, *today, *last_week])
    ticks = "".join(
        f'<text x="{PAD + h * 4 * (WIDTH - 2 * PAD) / (SLOTS - 1):.1f}" y="{HEIGHT - 4}" font-size="9">{h}</text>'
        for h in range(0, 24, 3)
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" class="chart" '
        f'data-today-total="{sum(today)}" data-last-week-total="{sum(last_week)}"><title>{title}</title>'
        f'<text x="{PAD}" y="12" font-size="10">max {top}</text>'
        f'<polyline fill="none" stroke="#999" stroke-dasharray="4 3" points="{_points(last_week, top)}"/>'
        f'<polyline fill="none" stroke="#1565c0" stroke-width="2" points="{_points(today, top)}"/>'
        f'{ticks}<text x="{WIDTH - 170}" y="12" font-size="10" fill="#1565c0">— {today_label} ({sum(today)})</text>'
        f'<text x="{WIDTH - 80}" y="12" font-size="10" fill="#777">- - {week_label} ({sum(last_week)})</text></svg>'
    )
