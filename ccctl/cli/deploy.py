"""`ccctl fs render` (the FreeSWITCH configuration) and `ccctl db upgrade` (the schema)."""

from __future__ import annotations

import click

from ccctl.cli.common import CliError, run, settings_of
from ccctl.esl.password_policy import check_esl_password


@click.group()
def fs() -> None:
    """FreeSWITCH configuration."""


@fs.command("render")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False), help="Target directory.")
@click.option(
    "--kamailio",
    is_flag=True,
    help="Render the SIP front instead: kamailio.cfg and dispatcher.list for Kamailio before the switches "
    "in sip_front.nodes (docs/scale-out.md).",
)
@click.option(
    "--kamailio-listen",
    "kamailio_listen",
    default=None,
    metavar="HOST:PORT",
    help="With --kamailio: this instance's address, one of sip_front.instances (default sip_front.listen).",
)
@click.option(
    "--demo",
    is_flag=True,
    help="A demo or test switch: render esl.password and freeswitch.agents_password even at their shipped "
    "defaults (with a warning).",
)
@click.pass_context
def fs_render(ctx: click.Context, out_dir: str, kamailio: bool, kamailio_listen: str | None, demo: bool) -> None:
    """Render fs_conf/ and dialplan/ templates into a FreeSWITCH conf directory.

    Refuses FreeSWITCH's shipped (or an empty) esl.password, and the shipped agents_password for extensions
    without their own (`ccctl agents passwd`), unless --demo; warns on stderr about passwords still at
    their shipped defaults (esl.password, freeswitch.agents_password).
    """
    from ccctl.deploy.fs_render import default_secret_warnings, render_all, shared_default_refusal
    from ccctl.deploy.kamailio_render import render_kamailio

    settings = settings_of(ctx)
    # the demo's switch is the emulator or a throwaway one; Kamailio's files hold no ESL password
    if not (demo or kamailio):
        run(lambda: check_esl_password(settings))
        refusal = run(lambda: shared_default_refusal(settings))
        if refusal:
            raise CliError(refusal)
    if kamailio_listen and not kamailio:
        raise CliError("--kamailio-listen goes with --kamailio")
    if kamailio:
        written = run(lambda: render_kamailio(settings, out_dir, kamailio_listen))
    else:
        written = run(lambda: render_all(settings, out_dir))
    for path in written:
        click.echo(path)
    for warning in [] if kamailio else default_secret_warnings(settings):  # Kamailio's files hold neither
        click.echo(f"ccctl: {warning}", err=True)


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
