"""`ccctl calls list` and `ccctl calls show`: the call records (every read is written to the audit log)."""

from __future__ import annotations

import json

import click

from ccctl.cli.common import actor_of, as_option, database_url, run


@click.group()
def calls() -> None:
    """Call records."""


@calls.command("list")
@click.option("--since", help="Start time, ISO (2026-11-23 or 2026-11-23T08:00).")
@click.option("--until", help="End time, ISO.")
@click.option("--hotline", help="Hotline name.")
@click.option("--disposition", help="completed, abandoned, failed, ...")
@click.option("--limit", type=int, default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@as_option
@click.pass_context
def calls_list(ctx, since, until, hotline, disposition, limit, as_json, actor) -> None:
    """List call records, newest first; the listing (filters, patients shown) goes to the audit log."""
    from ccctl.records.call_listing import format_calls, list_calls

    url = database_url(ctx)
    rows = run(
        lambda: list_calls(
            url, since=since, until=until, hotline=hotline, disposition=disposition, limit=limit, actor=actor_of(actor)
        )
    )
    click.echo(json.dumps(rows, indent=2, default=str) if as_json else format_calls(rows))


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
