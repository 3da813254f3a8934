"""What every `ccctl` command module shares: settings, the --as option, and `run`, the one place where
a UserError becomes `ccctl: <message>` on stderr with exit status 1."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import click

from ccctl.config import Settings, load_settings
from ccctl.errors import UserError

T = TypeVar("T")


class CliError(click.ClickException):
    """One clear line on stderr and exit status 1."""

    def show(self, file=None) -> None:
        click.echo(f"ccctl: {self.format_message()}", err=True)


def run(work: Callable[[], T]) -> T:
    """Run a command's work; its UserError (one line naming what and where) becomes a CLI error."""
    try:
        return work()
    except UserError as exc:
        raise CliError(str(exc)) from None


def settings_of(ctx: click.Context) -> Settings:
    return run(lambda: load_settings(ctx.obj.get("config")))


def database_url(ctx: click.Context) -> str:
    return settings_of(ctx).database.url


def patch_gevent() -> None:
    """Only the commands that run an event loop patch the standard library."""
    from gevent import monkey

    if not monkey.is_module_patched("socket"):
        monkey.patch_all()


def at_option(dest: str, what: str):
    """--at: the local time the flows see (their time-of-day branches), e.g. 2026-11-29T23:00."""
    return click.option(
        "--at",
        dest,
        type=click.DateTime(["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]),
        default=None,
        help=f"Local time the flows see {what}, e.g. 2026-11-29T23:00 (default: now).",
    )


def as_option(command):
    who = "Who is asking, for the audit log (default: the OS user)."
    return click.option("--as", "actor", default=None, help=who)(command)


def actor_of(actor: str | None) -> str:
    from ccctl.records.audit import default_actor

    return actor or default_actor()
