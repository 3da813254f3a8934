"""`ccctl recordings ...`: list, get, export, archive.

Parse, call ccctl.recordings, print; implementations are imported inside each command.
"""

from __future__ import annotations

import click

from ccctl.cli.common import (
    CliError,
    actor_of,
    as_option,
    database_url,
    echo_json,
    json_option,
    period_options,
    run,
    settings_of,
)


def _filters(command):
    options = [
        click.option("--patient", "patient_code", help="Patient code (P000123)."),
        click.option("--agent", help="Agent name."),
        click.option("--queue", help="Queue name."),
        period_options,
        click.option("--limit", type=int, default=100, show_default=True),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _filter(patient_code, agent, queue, since, until, limit):
    from ccctl.recordings.commands import RecordingFilter

    return RecordingFilter(patient_code, agent, queue, since, until, limit)


@click.group()
def recordings() -> None:
    """Call recordings: list, get, export (mp3/ogg/wav), archive to S3."""


@recordings.command("list")
@_filters
@json_option
@as_option
@click.pass_context
def recordings_list(ctx, patient_code, agent, queue, since, until, limit, as_json, actor) -> None:
    """List recordings, newest first (each listed recording goes to the audit log)."""
    from ccctl.recordings.commands import list_recordings
    from ccctl.recordings.recording_table import format_recordings

    url = database_url(ctx)
    filters = _filter(patient_code, agent, queue, since, until, limit)
    rows = run(lambda: list_recordings(url, filters, actor_of(actor)))
    if as_json:
        echo_json(rows)
    else:
        click.echo(format_recordings(rows))


@recordings.command("get")
@click.argument("call_uuid")
@click.option("--out", type=click.Path(dir_okay=False), help="Where to write the WAV (default: ./<uuid>.wav).")
@as_option
@click.pass_context
def recordings_get(ctx, call_uuid: str, out: str | None, actor) -> None:
    """Copy one call's recording (fetched back from S3 if pruned locally), checksum checked."""
    from ccctl.recordings.commands import get_recording
    from ccctl.storage.sealed import load_key

    settings = settings_of(ctx)
    path = run(
        lambda: get_recording(
            settings.database.url, call_uuid, out, actor_of(actor), settings.archive, load_key(settings)
        )
    )
    click.echo(str(path))


@recordings.command("export")
@click.option("--format", "fmt", type=click.Choice(["mp3", "ogg", "wav"]), default="mp3", show_default=True)
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False), help="Directory to write to.")
@_filters
@as_option
@click.pass_context
def recordings_export(ctx, fmt, out_dir, patient_code, agent, queue, since, until, limit, actor) -> None:
    """Convert the matching recordings into DIR as <uuid>.<format>."""
    from ccctl.recordings.commands import export_recordings
    from ccctl.storage.sealed import load_key

    settings = settings_of(ctx)
    filters = _filter(patient_code, agent, queue, since, until, limit)
    written = run(
        lambda: export_recordings(
            settings.database.url, filters, fmt, out_dir, actor_of(actor), settings.archive, load_key(settings)
        )
    )
    for path in written:
        click.echo(str(path))
    click.echo(f"{len(written)} {'recording' if len(written) == 1 else 'recordings'} exported to {out_dir}")


@recordings.command("archive")
@click.pass_context
def recordings_archive(ctx) -> None:
    """Upload finished recordings to S3 (sealed while storage.key_file is set), verify them, prune old local
    copies (exit 1 if any failed)."""
    from ccctl.recordings.archive import run_archive

    settings = settings_of(ctx)
    report = run(lambda: run_archive(settings))
    for call_uuid, reason in report.failed:
        click.echo(f"{call_uuid}: {reason}", err=True)
    click.echo(report.summary())
    if report.failed:
        raise CliError(f"{len(report.failed)} recordings could not be archived (kept locally; see above)")


COMMANDS = (recordings,)
