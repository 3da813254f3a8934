"""`ccctl fs render` (the FreeSWITCH configuration) and `ccctl db upgrade` (the schema)."""

from __future__ import annotations

import click

from ccctl.cli.common import CliError, settings_of


@click.group()
def fs() -> None:
    """FreeSWITCH configuration."""


@fs.command("render")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False), help="Target directory.")
@click.pass_context
def fs_render(ctx: click.Context, out_dir: str) -> None:
    """Render fs_conf/ and dialplan/ templates into a FreeSWITCH conf directory."""
    from ccctl.deploy.fs_render import RenderError, render_all

    settings = settings_of(ctx)
    try:
        written = render_all(settings, out_dir)
    except RenderError as exc:
        raise CliError(str(exc)) from None
    for path in written:
        click.echo(path)


@click.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
@click.pass_context
def db_upgrade(ctx: click.Context, revision: str) -> None:
    """Create or migrate the database schema (Alembic)."""
    from ccctl.records.migrate import MigrationError, upgrade

    settings = settings_of(ctx)
    try:
        upgrade(settings.database.url, revision)
    except MigrationError as exc:
        raise CliError(str(exc)) from None
    click.echo(f"database at revision {revision}")


COMMANDS = (
    fs,
    db,
)
