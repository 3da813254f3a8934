"""`ccctl inbox ...` and `ccctl tickets ...`: parse, call ccctl.channels.inbox_commands / ccctl.tickets.commands, print.

Implementations are imported inside each command so `ccctl --help` stays instant.
"""

from __future__ import annotations

from datetime import UTC

import click

from ccctl.cli_common import CliError, _settings


def _actor(actor: str | None) -> str:
    from ccctl.records.audit import default_actor

    return actor or default_actor()


def _as_option(command):
    return click.option("--as", "actor", default=None, help="Who is acting, for the audit log (default: the OS user).")(
        command
    )


def _run(work):
    """Run a command body; the one-line errors of the inbox and tickets become CLI errors."""
    from ccctl.channels.inbox import InboxError
    from ccctl.tickets.service import TicketError

    try:
        return work()
    except (InboxError, TicketError) as exc:
        raise CliError(str(exc)) from None


@click.group()
def inbox() -> None:
    """One inbox of every written message (SMS, e-mail, fax, web, letters), filed by patient."""


@inbox.command("list")
@click.option("--channel", type=click.Choice(["sms", "email", "fax", "web", "voice", "letter"]))
@click.option("--flag", type=click.Choice(["needs-reply", "done", "open"]), help="open: not done.")
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
    click.echo(_run(lambda: list_text(_settings(ctx).database.url, filters, as_json)))


@inbox.command("show")
@click.argument("item_id", type=int)
@_as_option
@click.pass_context
def inbox_show(ctx, item_id: int, actor) -> None:
    """One item in full, with its attachments (audited when filed under a patient)."""
    from ccctl.channels.inbox_commands import show_text

    click.echo(_run(lambda: show_text(_settings(ctx).database.url, item_id, _actor(actor))))


@inbox.command("assign")
@click.argument("item_id", type=int)
@click.argument("user")
@click.pass_context
def inbox_assign(ctx, item_id: int, user: str) -> None:
    """Give an item to a user ('' to take it back)."""
    from ccctl.channels.inbox_commands import assign_item

    _run(lambda: assign_item(_settings(ctx).database.url, item_id, user))
    click.echo(f"item {item_id} assigned to {user or 'nobody'}")


@inbox.command("flag")
@click.argument("item_id", type=int)
@click.argument("flag", type=click.Choice(["needs-reply", "done"]))
@click.pass_context
def inbox_flag(ctx, item_id: int, flag: str) -> None:
    """Flag an item: needs-reply or done."""
    from ccctl.channels.inbox_commands import flag_item

    _run(lambda: flag_item(_settings(ctx).database.url, item_id, flag))
    click.echo(f"item {item_id} flagged {flag}")


@inbox.command("reply")
@click.argument("item_id", type=int)
@click.option("--text", required=True, help="The answer; sent on the item's channel (e-mail or SMS).")
@_as_option
@click.pass_context
def inbox_reply(ctx, item_id: int, text: str, actor) -> None:
    """Answer an item on its own channel; the reply is kept in the item's thread."""
    from ccctl.channels.inbox_commands import reply_item

    settings = _settings(ctx)
    reply_id = _run(lambda: reply_item(settings.database.url, settings, item_id, text, _actor(actor)))
    click.echo(f"reply sent (inbox item {reply_id})")


@inbox.command("file")
@click.argument("item_id", type=int)
@click.option("--patient", "patient_code", required=True, help="Patient code to file the item under.")
@_as_option
@click.pass_context
def inbox_file(ctx, item_id: int, patient_code: str, actor) -> None:
    """File an item under a patient (unmatched senders, wrong matches)."""
    from ccctl.channels.inbox_commands import file_item

    _run(lambda: file_item(_settings(ctx).database.url, item_id, patient_code, _actor(actor)))
    click.echo(f"item {item_id} filed under {patient_code}")


@inbox.command("add-address")
@click.argument("patient_code")
@click.argument("address")
@_as_option
@click.pass_context
def inbox_add_address(ctx, patient_code: str, address: str, actor) -> None:
    """Remember a patient's e-mail address: their mail is then filed under them."""
    from ccctl.channels.inbox_commands import add_address

    _run(lambda: add_address(_settings(ctx).database.url, patient_code, address, _actor(actor)))
    click.echo(f"address added to {patient_code}")


@inbox.command("poll")
@click.pass_context
def inbox_poll(ctx) -> None:
    """Fetch new mail from the IMAP folder once (serve does this every email.poll_seconds)."""
    from ccctl.channels.inbox_commands import poll_email

    settings = _settings(ctx)
    click.echo(_run(lambda: poll_email(settings)))


@click.group()
def tickets() -> None:
    """Complaints and requests from every channel, handled to the end."""


@tickets.command("add")
@click.option("--category", required=True, help="complaint, request, ... (settings inbox.ticket_categories).")
@click.option("--text", "description", required=True, help="What the patient said or wrote.")
@click.option("--patient", "patient_code", help="Patient code.")
@click.option("--source", type=click.Choice(["agent", "letter", "fax", "web", "email", "sms"]), default="agent")
@click.option("--from-item", "item_id", type=int, help="Inbox item the ticket comes from.")
@_as_option
@click.pass_context
def tickets_add(ctx, category, description, patient_code, source, item_id, actor) -> None:
    """Open a ticket (a complaint taken by an agent, a letter typed in, an inbox item)."""
    from ccctl.tickets.commands import NewTicket, add

    new = NewTicket(source, category, description, patient_code, item_id)
    ticket_id = _run(lambda: add(_settings(ctx), new, _actor(actor)))
    click.echo(f"ticket {ticket_id} opened")


@tickets.command("list")
@click.option("--state", help="A state, or 'open' (default: every state).")
@click.option("--category")
@click.option("--department")
@click.option("--owner")
@click.option("--patient", "patient_code")
@click.option("--limit", type=int, default=100, show_default=True)
@click.pass_context
def tickets_list(ctx, state, category, department, owner, patient_code, limit) -> None:
    """Tickets, soonest due first."""
    from ccctl.tickets.commands import list_text
    from ccctl.tickets.service import TicketFilter

    filters = TicketFilter(state, category, department, owner, patient_code, None, limit)
    click.echo(_run(lambda: list_text(_settings(ctx).database.url, filters)))


@tickets.command("show")
@click.argument("ticket_id", type=int)
@_as_option
@click.pass_context
def tickets_show(ctx, ticket_id: int, actor) -> None:
    """A ticket with its whole history."""
    from ccctl.tickets.commands import show_text

    click.echo(_run(lambda: show_text(_settings(ctx).database.url, ticket_id, _actor(actor))))


@tickets.command("assign")
@click.argument("ticket_id", type=int)
@click.argument("owner")
@_as_option
@click.pass_context
def tickets_assign(ctx, ticket_id: int, owner: str, actor) -> None:
    """Give a ticket an owner."""
    from ccctl.tickets.commands import assign

    _run(lambda: assign(_settings(ctx).database.url, ticket_id, owner, _actor(actor)))
    click.echo(f"ticket {ticket_id} assigned to {owner}")


@tickets.command("move")
@click.argument("ticket_id", type=int)
@click.argument("state", required=False)
@click.option("--department", help="Hand the ticket to another department.")
@_as_option
@click.pass_context
def tickets_move(ctx, ticket_id: int, state, department, actor) -> None:
    """Move a ticket to a state (in-progress, waiting-for-patient, ...) and/or a department."""
    from ccctl.tickets.commands import move

    _run(lambda: move(_settings(ctx).database.url, ticket_id, state, department, _actor(actor)))
    click.echo(f"ticket {ticket_id} moved")


@tickets.command("resolve")
@click.argument("ticket_id", type=int)
@click.option("--outcome", required=True, help="The answer; sent to the patient on their channel.")
@_as_option
@click.pass_context
def tickets_resolve(ctx, ticket_id: int, outcome: str, actor) -> None:
    """Resolve a ticket and tell the patient the outcome."""
    from ccctl.tickets.commands import resolve

    told = _run(lambda: resolve(_settings(ctx), ticket_id, outcome, _actor(actor)))
    click.echo(f"ticket {ticket_id} resolved; {told}")


@tickets.command("close")
@click.argument("ticket_id", type=int)
@_as_option
@click.pass_context
def tickets_close(ctx, ticket_id: int, actor) -> None:
    """Close a ticket (final)."""
    from ccctl.tickets.commands import close

    _run(lambda: close(_settings(ctx).database.url, ticket_id, _actor(actor)))
    click.echo(f"ticket {ticket_id} closed")


@tickets.command("escalate")
@click.pass_context
def tickets_escalate(ctx) -> None:
    """Escalate open tickets past their due time (serve runs this every inbox.escalate_every_seconds)."""
    from ccctl.tickets.commands import escalate

    ids = _run(lambda: escalate(_settings(ctx)))
    click.echo(f"escalated {len(ids)} ticket(s)" + (": " + ", ".join(map(str, ids)) if ids else ""))


@tickets.command("from-voice")
@_as_option
@click.pass_context
def tickets_from_voice(ctx, actor) -> None:
    """Turn new IVR voice messages into tickets."""
    from ccctl.tickets.commands import from_voice

    ids = _run(lambda: from_voice(_settings(ctx), _actor(actor)))
    click.echo(f"opened {len(ids)} ticket(s)" + (": " + ", ".join(map(str, ids)) if ids else ""))


@tickets.command("report")
@click.option("--since", type=click.DateTime(["%Y-%m-%d", "%Y-%m-%dT%H:%M"]), help="Opened from (UTC).")
@click.option("--until", type=click.DateTime(["%Y-%m-%d", "%Y-%m-%dT%H:%M"]), help="Opened before (UTC).")
@click.option("--json", "output", flag_value="json", help="Print JSON.")
@click.option("--csv", "output", flag_value="csv", help="Print CSV.")
@click.pass_context
def tickets_report(ctx, since, until, output) -> None:
    """Tickets by category and department: opened, closed, escalated, hours to close."""
    from ccctl.tickets.commands import report

    since = since.replace(tzinfo=UTC) if since else None
    until = until.replace(tzinfo=UTC) if until else None
    click.echo(_run(lambda: report(_settings(ctx).database.url, since, until, output or "table")))
