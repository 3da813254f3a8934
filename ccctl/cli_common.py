"""What every `ccctl` command module shares: the one-line error, settings loading, the --as option.

Lives apart from cli.py so the command groups in cli_*.py import it without a cycle.
"""

from __future__ import annotations

import click

from ccctl.config import ConfigError, Settings, load_settings


class CliError(click.ClickException):
    """One clear line on stderr and exit status 1."""

    def show(self, file=None) -> None:
        click.echo(f"ccctl: {self.format_message()}", err=True)


def _settings(ctx: click.Context) -> Settings:
    try:
        return load_settings(ctx.obj.get("config"))
    except ConfigError as exc:
        raise CliError(str(exc)) from None


def _patch_gevent() -> None:
    from gevent import monkey

    if not monkey.is_module_patched("socket"):
        monkey.patch_all()


def _as_option(command):
    who = "Who is asking, for the audit log (default: the OS user)."
    return click.option("--as", "actor", default=None, help=who)(command)


def _actor(actor: str | None) -> str:
    from ccctl.records.audit import default_actor

    return actor or default_actor()
