"""`ccctl serve` (the controller) and `ccctl status` (ask a running one)."""

from __future__ import annotations

import json

import click

from ccctl.cli.common import CliError, patch_gevent, settings_of


@click.command()
@click.pass_context
def serve(ctx: click.Context) -> None:
    """Run the controller: outbound ESL server, inbound ESL client, web/status."""
    patch_gevent()
    from ccctl.serve.main import run_serve

    settings = settings_of(ctx)
    run_serve(settings)


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@click.pass_context
def status(ctx: click.Context, as_json: bool) -> None:
    """Ask a running `ccctl serve` for channels, greenlets and the ESL connection state."""
    from ccctl.serve.client import StatusUnavailable, fetch_status, format_status

    settings = settings_of(ctx)
    try:
        data = fetch_status(settings)
    except StatusUnavailable as exc:
        raise CliError(str(exc)) from None
    click.echo(json.dumps(data, indent=2) if as_json else format_status(data))


COMMANDS = (
    serve,
    status,
)
