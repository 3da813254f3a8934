"""`ccctl report kpi`: the contact center's KPIs for a period (ccctl.reports), one row per queue."""

from __future__ import annotations

import csv
import io
from dataclasses import asdict

import click

from ccctl.cli.common import (
    database_url,
    echo_json,
    format_duration,
    format_percent,
    format_table,
    format_time,
    parse_period,
    period_options,
    run,
)

KPI_HEADERS = (
    "queue",
    "offered",
    "answered",
    "abandoned",
    "abandonment",
    "answer speed",
    "service level",
    "handle time",
    "callback rate",
    "time to callback",
    "first-call resolution",
    "occupancy",
)
ALL_QUEUES = "all queues"


@click.group()
def report() -> None:
    """Reports: contact-center KPIs."""


def _table_row(kpi) -> list:
    return [
        kpi.queue or (f"{ALL_QUEUES}, {kpi.channel}" if kpi.channel else ALL_QUEUES),
        kpi.offered,
        kpi.answered,
        kpi.abandoned,
        format_percent(kpi.abandonment_rate),
        format_duration(kpi.asa_seconds),
        format_percent(kpi.service_level),
        format_duration(kpi.aht_seconds),
        format_percent(kpi.callback_rate),
        format_duration(kpi.callback_seconds),
        format_percent(kpi.fcr_rate),
        format_percent(kpi.occupancy),
    ]


def _csv(reports) -> str:
    out = io.StringIO()
    rows = [asdict(kpi) for kpi in reports]
    writer = csv.writer(out)
    writer.writerow(rows[0].keys())
    for row in rows:
        row["queue"] = row["queue"] or "all"
        writer.writerow("" if v is None else v for v in row.values())
    return out.getvalue().rstrip("\n")


@report.command("kpi")
@period_options
@click.option("--queue", default="", help="One queue (default: every queue, and all of them together).")
@click.option(
    "--channel", type=click.Choice(["voice", "chat", "task"]), default=None, help="Only calls, chats or tasks."
)
@click.option("--fcr-days", type=int, default=7, show_default=True, help="First-call resolution window in days.")
@click.option("--json", "fmt", flag_value="json", help="Print JSON (rates as fractions, times in seconds).")
@click.option("--csv", "fmt", flag_value="csv", help="Print CSV (rates as fractions, times in seconds).")
@click.pass_context
def report_kpi(ctx, since, until, queue, channel, fcr_days, fmt) -> None:
    """Offered, answered, abandoned, speed of answer, service level, handle time, callback rate, first-call
    resolution and occupancy of the calls, chats and tasks that entered a queue in the period (default: today);
    with calls and chats in the period, a row per channel too."""
    from sqlalchemy.orm import Session

    from ccctl.records.database import make_engine
    from ccctl.reports.kpi import compute_kpis, compute_queue_kpis

    period = parse_period(since, until, default_today=True)
    engine = make_engine(database_url(ctx))
    try:
        with Session(engine) as session:
            if queue or channel:
                one = run(
                    lambda: compute_kpis(session, period.start, period.end, queue, fcr_days, channel=channel or "")
                )
                reports = [one]
            else:
                reports = run(lambda: compute_queue_kpis(session, period.start, period.end, fcr_days))
    finally:
        engine.dispose()
    if fmt == "json":
        echo_json(
            {
                "from": period.start,
                "to": period.end,
                "queues": [asdict(kpi) for kpi in reports if kpi.queue],
                "channels": [asdict(kpi) for kpi in reports[:-1] if kpi.channel and not kpi.queue],
                "all": None if queue else asdict(reports[-1]),
            }
        )
        return
    if fmt == "csv":
        click.echo(_csv(reports))
        return
    click.echo(f"calls that entered a queue from {format_time(period.start)} to {format_time(period.end)}")
    click.echo(format_table(KPI_HEADERS, [_table_row(kpi) for kpi in reports]))
    if reports[-1].ivr_hangups is not None:
        click.echo(f"callers who hung up in the IVR before reaching a queue: {reports[-1].ivr_hangups}")


COMMANDS = (report,)
