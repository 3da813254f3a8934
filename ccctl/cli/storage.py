"""`ccctl storage ...`: keygen, encrypt-existing (media encrypted at rest).

Parse, call ccctl.storage, print; implementations are imported inside each command.
"""

from __future__ import annotations

import click

from ccctl.cli.common import run, settings_of


@click.group()
def storage() -> None:
    """Media at rest: make the key, encrypt recordings, faxes and uploads stored before it."""


@storage.command("keygen")
@click.argument("path", type=click.Path(dir_okay=False))
def storage_keygen(path: str) -> None:
    """Write a new 32-byte key to PATH (mode 0600; an existing file is never replaced); set storage.key_file to it."""
    from ccctl.storage.commands import keygen

    written = run(lambda: keygen(path))
    click.echo(f"{written}: new key written; set storage.key_file to this path and keep a copy offline")


@storage.command("encrypt-existing")
@click.pass_context
def storage_encrypt_existing(ctx) -> None:
    """Encrypt every clear file under recordings_dir, fax.faxes_dir and inbox.attachments_dir in place."""
    from ccctl.storage.commands import encrypt_existing

    settings = settings_of(ctx)
    click.echo(run(lambda: encrypt_existing(settings)).summary())


COMMANDS = (storage,)
