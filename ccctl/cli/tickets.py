"""`ccctl tickets ...`: complaints and requests, each closed in a tracked loop."""

from __future__ import annotations

import click

from ccctl.cli.common import (
    actor_of,
    as_option,
    database_url,
    echo_json,
    json_option,
    parse_period,
    period_options,
    run,
    settings_of,
)


@click.group()
def tickets() -> None:
    """Complaints and requests from every channel, handled to the end."""


@tickets.command("add")
@click.option("--category", required=True, help="complaint, request, ... (settings inbox.ticket_categories).")
@click.option("--text", "description", required=True, help="What the patient said or wrote.")
@click.option("--patient", "patient_code", help="Patient code.")
@click.option("--source", type=click.Choice(["agent", "letter", "fax", "web", "email", "sms"]), default="agent")
@click.option("--from-item", "item_id", type=int, help="Inbox item the ticket comes from.")
@as_option
@click.pass_context
def tickets_add(ctx, category, description, patient_code, source, item_id, actor) -> None:
    """Open a ticket (a complaint taken by an agent, a letter typed in, an inbox item)."""
    from ccctl.tickets.commands import NewTicket, add

    new = NewTicket(source, category, description, patient_code, item_id)
    ticket_id = run(lambda: add(settings_of(ctx), new, actor_of(actor)))
    click.echo(f"ticket {ticket_id} opened")


@tickets.command("list")
@click.option("--state", help="A state, or 'open' (default: every state).")
@click.option("--category")
@click.option("--department")
@click.option("--owner")
@click.option("--patient", "patient_code")
@click.option("--limit", type=int, default=100, show_default=True)
@json_option
@click.pass_context
def tickets_list(ctx, state, category, department, owner, patient_code, limit, as_json) -> None:
    """Tickets, soonest due first."""
    from ccctl.tickets.commands import list_rows, list_text
    from ccctl.tickets.service import TicketFilter

    filters = TicketFilter(state, category, department, owner, patient_code, None, limit)
    if as_json:
        echo_json(run(lambda: list_rows(database_url(ctx), filters)))
    else:
        click.echo(run(lambda: list_text(database_url(ctx), filters)))


@tickets.command("show")
@click.argument("ticket_id", type=int)
@as_option
@json_option
@click.pass_context
def tickets_show(ctx, ticket_id: int, actor, as_json) -> None:
    """A ticket with its whole history (audited when it is a patient's)."""
    from ccctl.tickets.commands import show_data, show_text

    if as_json:
        echo_json(run(lambda: show_data(database_url(ctx), ticket_id, actor_of(actor))))
    else:
        click.echo(run(lambda: show_text(database_url(ctx), ticket_id, actor_of(actor))))


@tickets.command("assign")
@click.argument("ticket_id", type=int)
@click.argument("owner")
@as_option
@click.pass_context
def tickets_assign(ctx, ticket_id: int, owner: str, actor) -> None:
    """Give a ticket an owner."""
    from ccctl.tickets.commands import assign

    run(lambda: assign(database_url(ctx), ticket_id, owner, actor_of(actor)))
    click.echo(f"ticket {ticket_id} assigned to {owner}")


@tickets.command("move")
@click.argument("ticket_id", type=int)
@click.argument("state", required=False)
@click.option("--department", help="Hand the ticket to another department.")
@as_option
@click.pass_context
def tickets_move(ctx, ticket_id: int, state, department, actor) -> None:
    """Move a ticket to a state (in-progress, waiting-for-patient, ...) and/or a department."""
    from ccctl.tickets.commands import move

    run(lambda: move(database_url(ctx), ticket_id, state, department, actor_of(actor)))
    click.echo(f"ticket {ticket_id} moved")


@tickets.command("resolve")
@click.argument("ticket_id", type=int)
@click.option("--outcome", required=True, help="The answer; sent to the patient on their channel.")
@as_option
@click.pass_context
def tickets_resolve(ctx, ticket_id: int, outcome: str, actor) -> None:
    """Resolve a ticket and tell the patient the outcome."""
    from ccctl.tickets.commands import resolve

    told = run(lambda: resolve(settings_of(ctx), ticket_id, outcome, actor_of(actor)))
    click.echo(f"ticket {ticket_id} resolved; {told}")


@tickets.command("close")
@click.argument("ticket_id", type=int)
@as_option
@click.pass_context
def tickets_close(ctx, ticket_id: int, actor) -> None:
    """Close a ticket (final)."""
    from ccctl.tickets.commands import close

    run(lambda: close(database_url(ctx), ticket_id, actor_of(actor)))
    click.echo(f"ticket {ticket_id} closed")


@tickets.command("escalate")
@click.pass_context
def tickets_escalate(ctx) -> None:
    """Escalate open tickets past their due time (serve runs this every inbox.escalate_every_seconds)."""
    from ccctl.tickets.commands import escalate

    ids = run(lambda: escalate(settings_of(ctx)))
    click.echo(f"escalated {len(ids)} ticket(s)" + (": " + ", ".join(map(str, ids)) if ids else ""))


@tickets.command("from-voice")
@as_option
@click.pass_context
def tickets_from_voice(ctx, actor) -> None:
    """File new IVR voice messages in the inbox (serve does it too); `tickets add --from-item` makes one a ticket."""
    from ccctl.tickets.commands import from_voice

    ids = run(lambda: from_voice(settings_of(ctx), actor_of(actor)))
    click.echo(
        f"filed {len(ids)} voice message(s) in the inbox" + (": items " + ", ".join(map(str, ids)) if ids else "")
    )


@tickets.command("report")
@period_options
@click.option("--json", "output", flag_value="json", help="Print JSON.")
@click.option("--csv", "output", flag_value="csv", help="Print CSV.")
@click.pass_context
def tickets_report(ctx, since, until, output) -> None:
    """Tickets opened in the period (default: all), by category and department: opened, closed, escalated,
    hours to close."""
    from ccctl.tickets.commands import report

    period = parse_period(since, until)
    click.echo(run(lambda: report(database_url(ctx), period.start, period.end, output or "table")))


COMMANDS = (tickets,)
