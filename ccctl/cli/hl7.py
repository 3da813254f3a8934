"""`ccctl hl7 list / show / retry / send`: the HL7 v2 messages exchanged with the hospital's systems."""

from __future__ import annotations

import click

from ccctl.cli.common import (
    actor_of,
    as_option,
    database_url,
    echo_json,
    echo_table,
    format_time,
    json_option,
    run,
    settings_of,
)

STATUSES = ["applied", "rejected", "duplicate", "reviewed", "pending", "acked"]


@click.group()
def hl7() -> None:
    """HL7 v2 (MLLP) messages: ADT and SIU received, SIU sent to the hospital."""


@hl7.command("list")
@click.option("--status", type=click.Choice(STATUSES), help="Only messages in this state.")
@click.option("--direction", type=click.Choice(["in", "out"]), help="Received (in) or sent (out).")
@click.option("--limit", type=int, default=50, show_default=True)
@json_option
@click.pass_context
def hl7_list(ctx, status, direction, limit, as_json) -> None:
    """Messages, newest first: type, control id, state and the field at fault (no patient data)."""
    from dataclasses import asdict

    from ccctl.patients.hl7_commands import list_messages

    rows = run(lambda: list_messages(database_url(ctx), status, direction, limit))
    if as_json:
        echo_json([asdict(row) for row in rows])
        return
    table = [
        (r.id, r.direction, r.message_type, r.control_id, r.status, r.attempts, format_time(r.created_at), r.error)
        for r in rows
    ]
    headers = ("id", "direction", "type", "control id", "status", "attempts", "created", "error")
    echo_table(headers, table, empty="no HL7 messages")


@hl7.command("show")
@click.argument("message_id", type=int)
@as_option
@json_option
@click.pass_context
def hl7_show(ctx, message_id: int, actor, as_json) -> None:
    """One message with its text (patient data: the read goes to the audit log)."""
    from dataclasses import asdict

    from ccctl.patients.hl7_commands import show

    row, text = run(lambda: show(database_url(ctx), message_id, actor_of(actor)))
    if as_json:
        echo_json({**asdict(row), "text": text})
        return
    click.echo(f"message {row.id}: {row.direction} {row.message_type} control id {row.control_id or '-'}")
    click.echo(f"status {row.status}, {row.attempts} attempt(s), {format_time(row.created_at)}, peer {row.peer or '-'}")
    if row.error:
        click.echo(f"error: {row.error}")
    click.echo("")
    click.echo(text.replace("\r", "\n"))


@hl7.command("retry")
@click.argument("message_id", type=int)
@as_option
@click.pass_context
def hl7_retry(ctx, message_id: int, actor) -> None:
    """Apply a rejected message again (after fixing what it named), or send an outbound one now."""
    from ccctl.patients.hl7_commands import retry

    click.echo(run(lambda: retry(settings_of(ctx), message_id, actor_of(actor))))


@hl7.command("send")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--to", metavar="HOST:PORT", help="Where to send (default: hl7.outbound_host:outbound_port).")
@click.pass_context
def hl7_send(ctx, file: str, to: str | None) -> None:
    """Send one HL7 message from a file over MLLP and print the ACK (to try a link or replay a message)."""
    from ccctl.patients.hl7_commands import send_file

    click.echo(run(lambda: send_file(settings_of(ctx), file, to)))


COMMANDS = (hl7,)
