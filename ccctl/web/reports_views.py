"""The KPI report of the ACD for a date range: a table and a bar chart per queue, and its CSV export.

Dates travel in the query string (they are no patient data); the figures come from ccctl.reports.kpi.
"""

from __future__ import annotations

import csv
import io
from dataclasses import asdict
from datetime import date, datetime, time, timedelta
from html import escape

from flask import Blueprint, Response, g, jsonify, render_template, request

from ccctl.web.context import require_role, web

reports = Blueprint("reports", __name__)
DEFAULT_DAYS = 7
MAX_DAYS = 366
BAR_WIDTH, BAR_GAP, CHART_HEIGHT = 28, 18, 160


class RangeError(ValueError):
    """A date range that cannot be reported; str() names the parameter."""


def date_range(args) -> tuple[date, date]:
    """since/until (inclusive days, YYYY-MM-DD) from the query; the last 7 days by default."""
    today = datetime.now().astimezone().date()
    try:
        until = date.fromisoformat(args.get("until") or today.isoformat())
        since = date.fromisoformat(args.get("since") or (until - timedelta(days=DEFAULT_DAYS - 1)).isoformat())
    except ValueError:
        raise RangeError("since/until: dates are YYYY-MM-DD") from None
    if since > until:
        raise RangeError("since: after until")
    if (until - since).days >= MAX_DAYS:
        raise RangeError(f"since/until: at most {MAX_DAYS} days")
    return since, until


def kpi_rows(since: date, until: date) -> list[dict]:
    """One KPI dict for all queues ("" queue) then one per queue, for the local days since..until."""
    from ccctl.acd.store import load_queues
    from ccctl.reports.kpi import compute_kpis

    zone = datetime.now().astimezone().tzinfo
    start = datetime.combine(since, time(0), zone)
    end = datetime.combine(until + timedelta(days=1), time(0), zone)
    with web().transaction() as db:
        names = ["", *sorted(load_queues(db))]
        return [asdict(compute_kpis(db, start, end, queue=name)) for name in names]


def bars_svg(rows: list[dict], labels: tuple[str, str]) -> str:
    """Answered (blue) and abandoned (red) bars for each queue."""
    per_queue = [r for r in rows if r["queue"]]
    top = max([1, *(r["answered"] for r in per_queue), *(r["abandoned"] for r in per_queue)])
    width = max(200, len(per_queue) * (2 * BAR_WIDTH + BAR_GAP) + BAR_GAP)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {CHART_HEIGHT + 30}" class="chart">']
    for i, row in enumerate(per_queue):
        x = BAR_GAP + i * (2 * BAR_WIDTH + BAR_GAP)
        for j, (key, colour) in enumerate((("answered", "#1565c0"), ("abandoned", "#c62828"))):
            h = CHART_HEIGHT * row[key] / top
            parts.append(
                f'<rect x="{x + j * BAR_WIDTH}" y="{CHART_HEIGHT - h:.1f}" width="{BAR_WIDTH - 2}" height="{h:.1f}" '
                f'fill="{colour}"><title>{escape(labels[j])}: {row[key]}</title></rect>'
            )
        parts.append(f'<text x="{x}" y="{CHART_HEIGHT + 16}" font-size="11">{escape(row["queue"])}</text>')
    parts.append("</svg>")
    return "".join(parts)


@reports.get("/reports")
@require_role("supervisor", "admin")
def page():
    try:
        since, until = date_range(request.args)
    except RangeError as exc:
        return render_template("message.html", message=str(exc)), 400
    rows = kpi_rows(since, until)
    chart = bars_svg(rows, (g.t("answered"), g.t("abandoned")))
    return render_template("reports.html", rows=rows, since=since, until=until, chart=chart)


@reports.get("/api/v1/reports/kpi")
@require_role("supervisor", "admin")
def kpi():
    try:
        since, until = date_range(request.args)
    except RangeError as exc:
        return jsonify(error=str(exc)), 400
    rows = kpi_rows(since, until)
    if request.args.get("format") != "csv":
        return jsonify(since=since.isoformat(), until=until.isoformat(), queues=rows)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows({k: "" if v is None else v for k, v in row.items()} for row in rows)
    filename = f"kpi-{since.isoformat()}-{until.isoformat()}.csv"
    return Response(
        out.getvalue(), mimetype="text/csv", headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )
