"""`ccctl calls list` and `ccctl calls show`: the call records (every read is written to the audit log)."""

from __future__ import annotations

import json

import click

from ccctl.cli.common import CliError, actor_of, as_option, database_url, parse_time, period_options, run


@click.group()
def calls() -> None:
    """Call records."""


@calls.command("list")
@period_options
# the names before --from/--to: still taken, not shown in --help
@click.option("--since", "old_since", hidden=True, metavar="DATE|TIME")
@click.option("--until", "old_until", hidden=True, metavar="DATE|TIME")
@click.option("--hotline", help="Hotline name.")
@click.option("--disposition", help="completed, abandoned, failed, ...")
@click.option("--limit", type=int, default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@as_option
@click.pass_context
def calls_list(ctx, since, until, old_since, old_until, hotline, disposition, limit, as_json, actor) -> None:
    """List call records started in [--from, --to), newest first; the listing goes to the audit log."""
    from ccctl.records.call_listing import format_calls, list_calls

    start = parse_time(*_named("--from", since, "--since", old_since))
    end = parse_time(*_named("--to", until, "--until", old_until), end=True)
    if start is not None and end is not None and end <= start:
        raise CliError(f"--to {until or old_until} is not after --from {since or old_since}")
    url = database_url(ctx)
    rows = run(
        lambda: list_calls(
            url, since=start, until=end, hotline=hotline, disposition=disposition, limit=limit, actor=actor_of(actor)
        )
    )
    click.echo(json.dumps(rows, indent=2, default=str) if as_json else format_calls(rows))


def _named(option: str, text: str | None, old_option: str, old_text: str | None) -> tuple[str, str | None]:
    """The option given and its text (the old name only when the new one is absent); both given is refused."""
    if text is not None and old_text is not None:
        raise click.UsageError(f"{option} and {old_option} are one option: give {option} only")
    if old_text is not None:
        click.echo(f"ccctl: {old_option} is deprecated: use {option}", err=True)
        return old_option, old_text
    return option, text


@calls.command("show")
@click.argument("uuid")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@as_option
@click.pass_context
def calls_show(ctx, uuid, as_json, actor) -> None:
    """One call record (its uuid, or the first 8 characters the list shows), with the node it was on."""
    from ccctl.records.call_listing import format_call, show_call

    url = database_url(ctx)
    row = run(lambda: show_call(url, uuid, actor=actor_of(actor)))
    click.echo(json.dumps(row, indent=2, default=str) if as_json else format_call(row))


COMMANDS = (calls,)
