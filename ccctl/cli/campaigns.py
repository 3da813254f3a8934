"""`ccctl campaigns ...`: outbound care campaigns (reminders by voice, then SMS, then e-mail)."""

from __future__ import annotations

from pathlib import Path

import click

from ccctl.cli.common import (
    actor_of,
    as_option,
    echo_json,
    echo_table,
    format_time,
    json_option,
    run,
    settings_of,
)


@click.group()
def campaigns() -> None:
    """Outbound care campaigns: who is called, when, on which channel, and what came of it."""


@campaigns.command("check")
@click.argument("file", type=click.Path(dir_okay=False))
@click.pass_context
def campaigns_check(ctx, file) -> None:
    """Check a campaign file and its flow; every problem as FILE:LINE: message."""
    from ccctl.campaigns.commands import check
    from ccctl.campaigns.spec import CampaignFileError

    settings = settings_of(ctx)
    try:
        spec = check(settings, file)
    except CampaignFileError as exc:
        for error in exc.errors:
            click.echo(error, err=True)
        raise SystemExit(1) from None
    click.echo(f"{file}: campaign '{spec.name}' OK")


@campaigns.command("add")
@click.argument("file", type=click.Path(dir_okay=False))
@as_option
@click.pass_context
def campaigns_add(ctx, file, actor) -> None:
    """Add a campaign as a draft; its patients are listed now (start it with `ccctl campaigns start`)."""
    from ccctl.campaigns.commands import add

    name, count = run(lambda: add(settings_of(ctx), file, actor_of(actor)))
    click.echo(f"campaign {name} added with {count} patients (draft); start it: ccctl campaigns start {name}")


@campaigns.command("list")
@json_option
@click.pass_context
def campaigns_list(ctx, as_json) -> None:
    """Every campaign with its state and how many of its patients are done."""
    from ccctl.campaigns.commands import list_rows

    rows = run(lambda: list_rows(settings_of(ctx)))
    if as_json:
        echo_json(rows)
        return
    table = [(r["name"], r["kind"], r["state"], r["patients"], r["done"], format_time(r["created_at"])) for r in rows]
    echo_table(("name", "kind", "state", "patients", "done", "created"), table, empty="no campaigns")


@campaigns.command("show")
@click.argument("name")
@json_option
@as_option
@click.pass_context
def campaigns_show(ctx, name, as_json, actor) -> None:
    """A campaign's settings, its patients by state and (preview) the patients reserved for agents."""
    from ccctl.campaigns.commands import show

    data = run(lambda: show(settings_of(ctx), name, actor_of(actor)))
    if as_json:
        echo_json(data)
        return
    caps = data["caps"]
    channels = ["voice"] + [c for c in ("sms", "email") if data[c]]
    lines = [
        f"campaign {data['name']} ({data['kind']}): {data['state']}",
        f"file:      {data['file']}",
        f"flow:      {data['flow'] or '-'}",
        f"channels:  {' then '.join(channels)} (voice: {data['voice_attempts']} attempts)",
        f"zone:      {data['time_zone']}",
        f"caps:      {caps['per_second']:g} calls/s, {caps['concurrent']} at once, {caps['daily'] or 'no'} a day",
        "patients:  " + (", ".join(f"{n} {s}" for s, n in sorted(data["targets"].items())) or "none"),
    ]
    if data["mode"] == "preview":
        lines.append(f"previews:  {len(data['previews'])}" + ("" if data["previews"] else " (none reserved)"))
        for preview in data["previews"]:
            left = f", {preview['seconds_left']} s left" if preview["state"] == "reserved" else ""
            lines.append(f"  {preview['agent']}: {preview['patient_code']} {preview['state']}{left}")
    click.echo("\n".join(lines))


def _set_state(ctx, name: str, state: str) -> None:
    from ccctl.campaigns.commands import set_state

    click.echo(f"campaign {name}: {run(lambda: set_state(settings_of(ctx), name, state))}")


@campaigns.command("start")
@click.argument("name")
@click.pass_context
def campaigns_start(ctx, name) -> None:
    """Start (or resume) calling; a running `ccctl serve` places the calls."""
    _set_state(ctx, name, "running")


@campaigns.command("pause")
@click.argument("name")
@click.pass_context
def campaigns_pause(ctx, name) -> None:
    """Place no new calls until started again (calls in progress go on)."""
    _set_state(ctx, name, "paused")


@campaigns.command("stop")
@click.argument("name")
@click.pass_context
def campaigns_stop(ctx, name) -> None:
    """Stop for good: no new calls, SMS or e-mails."""
    _set_state(ctx, name, "stopped")


@campaigns.command("report")
@click.argument("name")
@json_option
@click.pass_context
def campaigns_report(ctx, name, as_json) -> None:
    """Patients by state and last outcome; attempts by channel and outcome."""
    from ccctl.campaigns.commands import report

    data = run(lambda: report(settings_of(ctx), name))
    if as_json:
        echo_json(data)
        return
    click.echo(f"campaign {data['campaign']}: {data['state']}")
    targets = [(r["state"], r["last_outcome"], r["count"]) for r in data["targets"]]
    echo_table(("state", "last outcome", "patients"), targets, empty="no patients")
    click.echo("")
    attempts = [(r["channel"], r["outcome"], r["count"]) for r in data["attempts"]]
    echo_table(("channel", "outcome", "attempts"), attempts, empty="no attempts yet")


@campaigns.command("export")
@click.argument("name")
@click.option(
    "--csv", "csv_file", required=True, type=click.Path(dir_okay=False, path_type=Path), help="The file to write."
)
@as_option
@click.pass_context
def campaigns_export(ctx, name, csv_file, actor) -> None:
    """One row per patient for the hospital's systems: code, hospital id, attempts, outcome, channel, visit change."""
    from ccctl.campaigns.commands import export

    count = run(lambda: export(settings_of(ctx), name, csv_file, actor_of(actor)))
    click.echo(f"campaign {name}: {count} patients written to {csv_file}")


@campaigns.command("opt-out")
@click.argument("patient_code")
@click.option("--channel", type=click.Choice(["voice", "sms", "email"]), required=True)
@as_option
@click.pass_context
def campaigns_opt_out(ctx, patient_code, channel, actor) -> None:
    """Never contact this patient on this channel again (SMS: as if they had sent STOP)."""
    from ccctl.campaigns.commands import opt_out

    run(lambda: opt_out(settings_of(ctx), patient_code, channel, actor_of(actor)))
    click.echo(f"patient {patient_code}: no more {channel} contact")


COMMANDS = [campaigns]
