"""`ccctl fhir pull`: the client mode of the FHIR link; parse, call ccctl.patients.fhir.pull, print.

The token is read from a file (its first line), never from an argument: it would show in `ps` and shell history.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click

from ccctl.cli.common import CliError, database_url, run


@click.group()
def fhir() -> None:
    """The hospital's FHIR R4 server: pull the day's appointments and patients (the API itself: api-clients)."""


@fhir.command("pull")
@click.option("--server", required=True, metavar="URL", help="The FHIR base, e.g. https://his.example/fhir/r4.")
@click.option(
    "--token-file",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A file whose first line is the bearer token the server gave us.",
)
@click.option("--date", "day", metavar="DATE", help="The day's appointments, ISO (default: today).")
@click.pass_context
def fhir_pull(ctx, server: str, token_file: Path, day: str | None) -> None:
    """Book, move or cancel here what the server has on the day; patients matched by the hospital's identifier."""
    from ccctl.patients.fhir import pull

    try:
        wanted = date.fromisoformat(day) if day else date.today()
    except ValueError:
        raise CliError(f"--date {day}: not a date (use 2026-12-07)") from None
    lines = token_file.read_text().splitlines()
    token = lines[0].strip() if lines else ""
    if not token:
        raise CliError(f"--token-file {token_file}: the first line is empty")
    url = database_url(ctx)
    report = run(lambda: pull.pull(url, server, token, wanted))
    click.echo(pull.format_report(report, server))
    if report.counts["refused"]:
        ctx.exit(1)


COMMANDS = (fhir,)
