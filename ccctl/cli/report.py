"""`ccctl report kpi`: the contact center's KPIs for a period (ccctl.reports)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import click

from ccctl.cli.common import CliError, database_url, run


@click.group()
def report() -> None:
    """Reports: contact-center KPIs."""


def _day_or_time(text: str, option: str, end: bool) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise CliError(f"{option} {text!r}: write a date (2026-11-23) or a time (2026-11-23T08:00)") from None
    if len(text) == 10 and end:
        value += timedelta(days=1)  # --to a date means that whole day
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@report.command("kpi")
@click.option("--from", "since", required=True, help="Start date or time, ISO, UTC unless it has an offset.")
@click.option("--to", "until", required=True, help="End date (that whole day) or time, ISO.")
@click.option("--queue", default="", help="One queue (default: all).")
@click.option("--fcr-days", type=int, default=7, show_default=True, help="First-call resolution window.")
@click.option("--json", "fmt", flag_value="json", help="Print JSON.")
@click.option("--csv", "fmt", flag_value="csv", help="Print CSV.")
@click.pass_context
def report_kpi(ctx, since, until, queue, fcr_days, fmt) -> None:
    """Offered, answered, abandoned, ASA, service level, AHT, callback rate, FCR, occupancy."""
    from sqlalchemy.orm import Session

    from ccctl.records.database import make_engine
    from ccctl.reports.kpi import compute_kpis, format_kpis

    start, end = _day_or_time(since, "--from", False), _day_or_time(until, "--to", True)
    if end <= start:
        raise CliError(f"--to {until} is not after --from {since}")
    engine = make_engine(database_url(ctx))
    try:
        with Session(engine) as session:
            kpis = run(lambda: compute_kpis(session, start, end, queue, fcr_days))
    finally:
        engine.dispose()
    click.echo(format_kpis(kpis, fmt or "text"))


COMMANDS = (report,)
