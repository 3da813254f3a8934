"""`ccctl recordings ...` (list, get, export, archive) and `ccctl monitor listen|whisper|barge`.

Parse, call ccctl.recordings / ccctl.acd.monitor, print; implementations are imported inside each command.
"""

from __future__ import annotations

import json

import click

from ccctl.cli_common import CliError, _actor, _as_option, _patch_gevent, _settings


def _filters(command):
    options = [
        click.option("--patient", "patient_code", help="Patient code (P000123)."),
        click.option("--agent", help="Agent name."),
        click.option("--queue", help="Queue name."),
        click.option("--from", "since", help="Start date or time, ISO (2026-11-23 or 2026-11-23T08:00)."),
        click.option("--to", "until", help="End date (that whole day) or time, ISO."),
        click.option("--limit", type=int, default=100, show_default=True),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _filter(patient_code, agent, queue, since, until, limit):
    from ccctl.recordings.recording_commands import RecordingFilter

    return RecordingFilter(patient_code, agent, queue, since, until, limit)


def _run(work):
    from ccctl.recordings.s3_objects import S3Problem
    from ccctl.recordings.store import RecordingError

    try:
        return work()
    except (RecordingError, S3Problem) as exc:
        raise CliError(str(exc)) from None


@click.group()
def recordings() -> None:
    """Call recordings: list, get, export (mp3/ogg/wav), archive to S3."""


@recordings.command("list")
@_filters
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@_as_option
@click.pass_context
def recordings_list(ctx, patient_code, agent, queue, since, until, limit, as_json, actor) -> None:
    """List recordings, newest first (each listed recording goes to the audit log)."""
    from ccctl.recordings.recording_commands import list_recordings
    from ccctl.recordings.recording_table import format_recordings

    url = _settings(ctx).database.url
    filters = _filter(patient_code, agent, queue, since, until, limit)
    rows = _run(lambda: list_recordings(url, filters, _actor(actor)))
    click.echo(json.dumps(rows, indent=2) if as_json else format_recordings(rows))


@recordings.command("get")
@click.argument("call_uuid")
@click.option("--out", type=click.Path(dir_okay=False), help="Where to write the WAV (default: ./<uuid>.wav).")
@_as_option
@click.pass_context
def recordings_get(ctx, call_uuid: str, out: str | None, actor) -> None:
    """Copy one call's recording (fetched back from S3 if pruned locally), checksum checked."""
    from ccctl.recordings.recording_commands import get_recording

    settings = _settings(ctx)
    path = _run(lambda: get_recording(settings.database.url, call_uuid, out, _actor(actor), settings.archive))
    click.echo(str(path))


@recordings.command("export")
@click.option("--format", "fmt", type=click.Choice(["mp3", "ogg", "wav"]), default="mp3", show_default=True)
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False), help="Directory to write to.")
@_filters
@_as_option
@click.pass_context
def recordings_export(ctx, fmt, out_dir, patient_code, agent, queue, since, until, limit, actor) -> None:
    """Convert the matching recordings into DIR as <uuid>.<format>."""
    from ccctl.recordings.recording_commands import export_recordings

    settings = _settings(ctx)
    filters = _filter(patient_code, agent, queue, since, until, limit)
    written = _run(
        lambda: export_recordings(settings.database.url, filters, fmt, out_dir, _actor(actor), settings.archive)
    )
    for path in written:
        click.echo(str(path))
    click.echo(f"{len(written)} {'recording' if len(written) == 1 else 'recordings'} exported to {out_dir}")


@recordings.command("archive")
@click.pass_context
def recordings_archive(ctx) -> None:
    """Upload finished recordings to S3, verify them, prune old local copies (exit 1 if any failed)."""
    from ccctl.recordings.archive import run_archive

    settings = _settings(ctx)
    report = _run(lambda: run_archive(settings))
    for call_uuid, reason in report.failed:
        click.echo(f"{call_uuid}: {reason}", err=True)
    click.echo(report.summary())
    if report.failed:
        raise CliError(f"{len(report.failed)} recordings could not be archived (kept locally; see above)")


@click.group()
def monitor() -> None:
    """Supervisors join an agent's live call: listen, whisper (agent hears you), barge (both hear you)."""


def _monitor(ctx: click.Context, mode: str, agent: str, supervisor: str, dtmf: bool) -> None:
    # the inbound ESL client reads in a greenlet: an unpatched socket blocks the command for good
    _patch_gevent()
    from ccctl.acd.monitor import MonitorError, monitor_call

    settings = _settings(ctx)
    try:
        result = monitor_call(settings, mode, agent, supervisor, dtmf)
    except MonitorError as exc:
        raise CliError(str(exc)) from None
    click.echo(
        f"{mode}: extension {supervisor} joined agent {agent} (extension {result.agent_extension}), "
        f"agent channel {result.agent_channel_uuid}, supervisor channel {result.supervisor_channel_uuid}"
    )


def _monitor_command(mode: str, summary: str):
    @monitor.command(mode, help=summary)
    @click.argument("agent")
    @click.option("--from", "supervisor", required=True, help="The supervisor's extension, rung into the call.")
    @click.option("--dtmf", is_flag=True, help="Let the supervisor switch modes with keys 1/2/3/0 while in the call.")
    @click.pass_context
    def command(ctx, agent: str, supervisor: str, dtmf: bool) -> None:
        _monitor(ctx, mode, agent, supervisor, dtmf)

    return command


_monitor_command("listen", "Hear the agent and the patient; neither hears you.")
_monitor_command("whisper", "Talk to the agent only (coaching); the patient does not hear you.")
_monitor_command("barge", "Join the call three-way: agent and patient both hear you.")
