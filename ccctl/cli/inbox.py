"""`ccctl inbox ...` and `ccctl tickets ...`: parse, call ccctl.channels.inbox_commands / ccctl.tickets.commands, print.

Implementations are imported inside each command so `ccctl --help` stays instant.
"""

from __future__ import annotations

import click

from ccctl.cli.common import actor_of, as_option, database_url, echo_json, json_option, run, settings_of


@click.group()
def inbox() -> None:
    """One inbox of every written message (SMS, e-mail, fax, web, letters), filed by patient."""


@inbox.command("list")
@click.option("--channel", type=click.Choice(["sms", "email", "fax", "web", "voice", "letter"]))
@click.option(
    "--flag",
    type=click.Choice(["needs-reply", "done", "open", "unverified"]),
    help="open: not done; unverified: a web-form message whose patient staff must confirm.",
)
@click.option("--assigned", help="Only items assigned to this user.")
@click.option("--unassigned", is_flag=True, help="Only items nobody has taken.")
@click.option("--patient", "patient_code", help="Only items filed under this patient code.")
@click.option("--limit", type=int, default=100, show_default=True)
@click.option("--oldest", "oldest_first", is_flag=True, help="Oldest first (the order to answer them in).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_context
def inbox_list(ctx, channel, flag, assigned, unassigned, patient_code, limit, oldest_first, as_json) -> None:
    """Inbox items, newest first."""
    from ccctl.channels.inbox import InboxFilter
    from ccctl.channels.inbox_commands import list_text

    filters = InboxFilter(channel, flag, assigned, unassigned, patient_code, limit, oldest_first)
    click.echo(run(lambda: list_text(database_url(ctx), filters, as_json)))


@inbox.command("show")
@click.argument("item_id", type=int)
@as_option
@json_option
@click.pass_context
def inbox_show(ctx, item_id: int, actor, as_json) -> None:
    """One item in full, with its attachments (audited when filed under a patient)."""
    from ccctl.channels.inbox_commands import show_data, show_text

    if as_json:
        echo_json(run(lambda: show_data(database_url(ctx), item_id, actor_of(actor))))
    else:
        click.echo(run(lambda: show_text(database_url(ctx), item_id, actor_of(actor))))


@inbox.command("get")
@click.argument("item_id", type=int)
@click.argument("filename")
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="Where to write the file.")
@as_option
@click.pass_context
def inbox_get(ctx, item_id: int, filename: str, out: str, actor) -> None:
    """Copy an attachment (by the name `inbox show` lists) to OUT, in clear; audited."""
    from ccctl.channels.inbox_commands import get_attachment
    from ccctl.storage.sealed import load_key

    settings = settings_of(ctx)
    written = run(
        lambda: get_attachment(settings.database.url, item_id, filename, out, actor_of(actor), load_key(settings))
    )
    click.echo(str(written))


@inbox.command("assign")
@click.argument("item_id", type=int)
@click.argument("user")
@click.pass_context
def inbox_assign(ctx, item_id: int, user: str) -> None:
    """Give an item to a user ('' to take it back)."""
    from ccctl.channels.inbox_commands import assign_item

    run(lambda: assign_item(database_url(ctx), item_id, user))
    click.echo(f"item {item_id} assigned to {user or 'nobody'}")


@inbox.command("flag")
@click.argument("item_id", type=int)
@click.argument("flag", type=click.Choice(["needs-reply", "done"]))
@click.pass_context
def inbox_flag(ctx, item_id: int, flag: str) -> None:
    """Flag an item: needs-reply or done."""
    from ccctl.channels.inbox_commands import flag_item

    run(lambda: flag_item(database_url(ctx), item_id, flag))
    click.echo(f"item {item_id} flagged {flag}")


@inbox.command("reply")
@click.argument("item_id", type=int)
@click.option("--text", required=True, help="The answer; sent on the item's channel (e-mail or SMS).")
@as_option
@click.pass_context
def inbox_reply(ctx, item_id: int, text: str, actor) -> None:
    """Answer an item on its own channel; the reply is kept in the item's thread."""
    from ccctl.channels.inbox_commands import reply_item

    settings = settings_of(ctx)
    reply_id = run(lambda: reply_item(settings.database.url, settings, item_id, text, actor_of(actor)))
    click.echo(f"reply sent (inbox item {reply_id})")


@inbox.command("file")
@click.argument("item_id", type=int)
@click.option("--patient", "patient_code", required=True, help="Patient code to file the item under.")
@as_option
@click.pass_context
def inbox_file(ctx, item_id: int, patient_code: str, actor) -> None:
    """File an item under a patient (unmatched senders, wrong matches)."""
    from ccctl.channels.inbox_commands import file_item

    run(lambda: file_item(database_url(ctx), item_id, patient_code, actor_of(actor)))
    click.echo(f"item {item_id} filed under {patient_code}")


@inbox.command("add-address")
@click.argument("patient_code")
@click.argument("address")
@as_option
@click.pass_context
def inbox_add_address(ctx, patient_code: str, address: str, actor) -> None:
    """Remember a patient's e-mail address: their mail is then filed under them."""
    from ccctl.channels.inbox_commands import add_address

    run(lambda: add_address(database_url(ctx), patient_code, address, actor_of(actor)))
    click.echo(f"address added to {patient_code}")


@inbox.command("poll")
@click.pass_context
def inbox_poll(ctx) -> None:
    """Fetch new mail from the IMAP folder once (serve does this every email.poll_seconds)."""
    from ccctl.channels.inbox_commands import poll_email

    settings = settings_of(ctx)
    click.echo(run(lambda: poll_email(settings)))


COMMANDS = (inbox,)
