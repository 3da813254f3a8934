"""`ccctl chat ...`: find web chats and read or export their transcripts (every read audited)."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import click

from ccctl.cli.common import actor_of, as_option, database_url, echo_json, format_table, format_time, json_option, run

SOURCE = "cli"


@click.group()
def chat() -> None:
    """Web chats: their transcripts, under the patient who signed in."""


@chat.command("list")
@click.option("--search", "text", default="", help="Only chats with a line containing this text.")
@click.option("--patient", "patient_code", default="", help="Only this patient's chats (their patient code).")
@click.option("--limit", default=50, show_default=True, help="At most this many, newest first.")
@json_option
@as_option
@click.pass_context
def chat_list(ctx, text, patient_code, limit, as_json, actor) -> None:
    """Chats, newest first (audited when the list names patients or searches the text)."""
    from ccctl.chat.commands import list_chats

    rows = run(lambda: list_chats(database_url(ctx), text, patient_code, limit, actor_of(actor), SOURCE))
    if as_json:
        echo_json([asdict(r) for r in rows])
        return
    table = [
        (r.id, format_time(r.started_at), r.language, r.state, r.patient, r.verified_by, r.agent, r.inbox_item)
        for r in rows
    ]
    headers = ("id", "started", "language", "state", "patient", "signed in by", "agent", "inbox item")
    click.echo(format_table(headers, table, empty="no chats"))


@chat.command("show")
@click.argument("chat_id", type=int)
@json_option
@as_option
@click.pass_context
def chat_show(ctx, chat_id: int, as_json, actor) -> None:
    """One chat's transcript (audited)."""
    from ccctl.chat.commands import transcript_of, transcript_text

    found = run(lambda: transcript_of(database_url(ctx), chat_id, actor_of(actor), SOURCE))
    if as_json:
        echo_json(found)
        return
    click.echo(transcript_text(found))


@chat.command("export")
@click.argument("chat_id", type=int)
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), required=True, help="File to write.")
@click.option("--format", "form", type=click.Choice(["text", "json"]), default="text", show_default=True)
@as_option
@click.pass_context
def chat_export(ctx, chat_id: int, output: Path, form: str, actor) -> None:
    """Write one chat's transcript to a file (audited as an export)."""
    import json

    from ccctl.chat.commands import transcript_of, transcript_text

    found = run(lambda: transcript_of(database_url(ctx), chat_id, actor_of(actor), SOURCE, action="chat export"))
    if form == "json":
        text = json.dumps(found, indent=2, ensure_ascii=False, default=str)
    else:
        text = transcript_text(found)
    output.write_text(text + "\n", encoding="utf-8")
    click.echo(f"chat {chat_id}: {len(found['lines'])} lines written to {output}")


COMMANDS = (chat,)
