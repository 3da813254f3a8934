"""`ccctl serve` (the controller) and `ccctl status` (ask a running one)."""

from __future__ import annotations

import dataclasses

import click

from ccctl.cli.common import CliError, echo_json, json_option, patch_gevent, run, settings_of
from ccctl.config import Settings
from ccctl.esl.password_policy import check_esl_password


@click.command()
@click.option(
    "--config",
    "-c",
    "config",
    type=click.Path(dir_okay=False),
    help="Settings file (ccctl.yaml); the same as `ccctl -c FILE serve`.",
)
@click.option(
    "--log-level",
    type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False),
    help="Overrides the setting log_level.",
)
@click.option("--web-port", type=click.IntRange(0, 65535), help="Console and status port; overrides web.port.")
@click.option(
    "--esl-port",
    type=click.IntRange(0, 65535),
    help="Port FreeSWITCH's `socket` connects to; overrides esl.outbound_port (the dialplan from `fs render` "
    "must name the same port).",
)
@click.pass_context
def serve(ctx: click.Context, config, log_level, web_port, esl_port) -> None:
    """Run the controller: outbound ESL server, inbound ESL client, web console and status.

    Settings come from the settings file (-c, or CCCTL_CONFIG) and CCCTL_SECTION__KEY environment
    variables; the options here override them for this run.
    """
    if config:
        ctx.obj["config"] = config
    settings = serve_settings(settings_of(ctx), log_level, web_port, esl_port)
    run(lambda: check_esl_password(settings))
    patch_gevent()
    from ccctl.serve.main import run_serve

    run_serve(settings)


def serve_settings(settings: Settings, log_level: str | None, web_port: int | None, esl_port: int | None) -> Settings:
    """The settings with serve's command-line overrides applied."""
    if log_level:
        settings = dataclasses.replace(settings, log_level=log_level.upper())
    if web_port is not None:
        settings = dataclasses.replace(settings, web=dataclasses.replace(settings.web, port=web_port))
    if esl_port is not None:
        settings = dataclasses.replace(settings, esl=dataclasses.replace(settings.esl, outbound_port=esl_port))
    return settings


@click.command()
@json_option
@click.pass_context
def status(ctx: click.Context, as_json: bool) -> None:
    """Ask a running `ccctl serve` for channels, greenlets and the ESL connection state."""
    from ccctl.serve.client import StatusUnavailable, fetch_status, format_status

    settings = settings_of(ctx)
    try:
        data = fetch_status(settings)
    except StatusUnavailable as exc:
        raise CliError(str(exc)) from None
    if as_json:
        echo_json(data)
    else:
        click.echo(format_status(data))


COMMANDS = (
    serve,
    status,
)
