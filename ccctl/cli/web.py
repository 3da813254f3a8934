"""`ccctl web ...`: the web console's own tools; parse, call ccctl.web, print."""

from __future__ import annotations

from pathlib import Path

import click

from ccctl.cli.common import patch_gevent, run, settings_of


@click.group()
def web() -> None:
    """The web console's tools."""


@web.command("screenshots")
@click.option("--out", "out", default="docs/screenshots", show_default=True, type=click.Path(file_okay=False),
              help="Folder the pictures are written to (<page>-<language>.png).")  # fmt: skip
@click.option("--chromium", default="/usr/bin/chromium", show_default=True, help="The Chromium to drive.")
@click.pass_context
def web_screenshots(ctx, out: str, chromium: str) -> None:
    """Photograph the wallboard, workstation, inbox and ticket board in every language, from a console of their
    own on made-up sample data (a temporary database; nothing else is written)."""
    patch_gevent()
    from ccctl.web.screenshots import take_screenshots

    for path in run(lambda: take_screenshots(settings_of(ctx), Path(out), chromium)):
        click.echo(str(path))


COMMANDS = (web,)
