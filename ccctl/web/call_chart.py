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
WIDTH, HEIGHT = 600, 200
LEFT, RIGHT, TOP, BOTTOM = 44, 12, 42, 34  # room for the title and legend above, the axes' labels around


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


def _x(slot: float) -> float:
    return LEFT + slot * (WIDTH - LEFT - RIGHT) / (SLOTS - 1)


def _y(count: float, top: int) -> float:
    return HEIGHT - BOTTOM - (HEIGHT - TOP - BOTTOM) * count / top


def _points(counts: list[int], top: int) -> str:
    return " ".join(f"{_x(i):.1f},{_y(c, top):.1f}" for i, c in enumerate(counts))


def chart_svg(today: list[int], last_week: list[int], labels: tuple[str, ...]) -> str:
    """Two lines (today solid, last week dashed) with a title, both axes with their labels and a legend;
    labels = (title, today, last week[, x axis name, y axis name])."""
    title, today_label, week_label, x_name, y_name = (escape(x) for x in (*labels, "h", "calls")[:5])
    top = max([1, *today, *last_week])
    base = HEIGHT - BOTTOM
    x_ticks = "".join(
        f'<line x1="{_x(h * 4):.1f}" y1="{base}" x2="{_x(h * 4):.1f}" y2="{base + 4}" stroke="#555"/>'
        f'<text x="{_x(h * 4):.1f}" y="{base + 14}" font-size="10" text-anchor="middle">{h:02d}:00</text>'
        for h in range(0, 24, 3)
    )
    y_ticks = "".join(
        f'<text x="{LEFT - 6}" y="{_y(v, top) + 3:.1f}" font-size="10" text-anchor="end">{v}</text>'
        for v in sorted({0, top // 2, top})
    )
    legend_y = TOP - 12
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" class="chart" '
        f'data-today-total="{sum(today)}" data-last-week-total="{sum(last_week)}"><title>{title}</title>'
        f'<text class="chart-title" x="{WIDTH / 2}" y="14" font-size="12" font-weight="bold" '
        f'text-anchor="middle">{title}</text>'
        f'<g class="legend"><line x1="{LEFT}" y1="{legend_y}" x2="{LEFT + 24}" y2="{legend_y}" stroke="#1565c0" '
        f'stroke-width="2"/><text x="{LEFT + 28}" y="{legend_y + 4}" font-size="10">{today_label} ({sum(today)})'
        f'</text><line x1="{LEFT + 170}" y1="{legend_y}" x2="{LEFT + 194}" y2="{legend_y}" stroke="#999" '
        f'stroke-dasharray="4 3"/><text x="{LEFT + 198}" y="{legend_y + 4}" font-size="10">{week_label} '
        f"({sum(last_week)})</text></g>"
        f'<line class="axis" x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{base}" stroke="#555"/>'
        f'<line class="axis" x1="{LEFT}" y1="{base}" x2="{WIDTH - RIGHT}" y2="{base}" stroke="#555"/>'
        f"{x_ticks}{y_ticks}"
        f'<text class="axis-name" x="{(LEFT + WIDTH - RIGHT) / 2}" y="{HEIGHT - 4}" font-size="10" '
        f'text-anchor="middle">{x_name}</text>'
        f'<text class="axis-name" x="12" y="{(TOP + base) / 2}" font-size="10" text-anchor="middle" '
        f'transform="rotate(-90 12 {(TOP + base) / 2})">{y_name}</text>'
        f'<polyline fill="none" stroke="#999" stroke-dasharray="4 3" points="{_points(last_week, top)}"/>'
        f'<polyline fill="none" stroke="#1565c0" stroke-width="2" points="{_points(today, top)}"/></svg>'
    )
