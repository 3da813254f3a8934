"""`ccctl retention run`: remove what is older than the `retention` settings keep (counts printed, never names)."""

from __future__ import annotations

import click

from ccctl.cli.common import CliError, run, settings_of


@click.group()
def retention() -> None:
    """How long personal data is kept (settings section `retention`)."""


@retention.command("run")
@click.option("--dry-run", is_flag=True, help="Count what would be removed; remove nothing.")
@click.pass_context
def retention_run(ctx, dry_run: bool) -> None:
    """Delete recordings, voice messages, message bodies and audit rows past their age (serve does it daily)."""
    from ccctl.records.retention import run_retention

    settings = settings_of(ctx)
    report = run(lambda: run_retention(settings, dry_run=dry_run))
    for line in report.lines():
        click.echo(line)
    if report.files_left:
        raise CliError(f"{report.files_left} file(s) could not be deleted")


COMMANDS = (retention,)
