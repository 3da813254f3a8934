"""`ccctl callbacks ...`: the callers waiting to be called back, and closing one staff called back by hand."""

from __future__ import annotations

from dataclasses import asdict

import click

from ccctl.cli.common import (
    actor_of,
    as_option,
    database_url,
    echo_json,
    format_table,
    format_time,
    json_option,
    run,
)

SOURCE = "cli"


@click.group()
def callbacks() -> None:
    """Callers who asked, while in a queue, to be called back."""


@callbacks.command("list")
@click.option("--queue", help="Only this queue.")
@click.option("--all", "everything", is_flag=True, help="Closed callbacks too (called back, done, cancelled).")
@json_option
@click.pass_context
def callbacks_list(ctx, queue, everything, as_json) -> None:
    """Callbacks, pending first, oldest request first (numbers masked: `callbacks show ID` gives one)."""
    from ccctl.acd.callbacks import list_callbacks

    rows = run(lambda: list_callbacks(database_url(ctx), queue, everything))
    if as_json:
        echo_json([{k: v for k, v in asdict(r).items() if k != "patient"} for r in rows])
        return
    table = [(r.id, format_time(r.requested_at), _due(r), r.queue, r.attempts, _state(r), r.number) for r in rows]
    headers = ("id", "asked", "due", "queue", "attempts", "state", "number")
    click.echo(format_table(headers, table, empty="no callbacks waiting" if not everything else "no callbacks"))


def _due(row) -> str:
    if row.due is None:
        return "-"
    return format_time(row.due) + (" OVERDUE" if row.overdue else "")


def _state(row) -> str:
    """calling <agent>, or the last try's failure beside a pending one, or when the ACD may dial it."""
    if row.agent:
        return f"{row.state} {row.agent}"
    extra = [f"last try {row.last_attempt}"] if row.last_attempt else []
    if row.not_before is not None:
        extra.append(f"from {format_time(row.not_before)}")
    return f"{row.state} ({', '.join(extra)})" if extra else row.state


@callbacks.command("call")
@click.argument("callback_id", type=int)
@click.option("--agent", required=True, help="The agent who talks to the patient (Available and idle).")
@as_option
@click.pass_context
def callbacks_call(ctx, callback_id: int, agent: str, actor) -> None:
    """Call the patient now for one agent: the ACD dials them at once and offers them to that agent alone."""
    from ccctl.acd.click_to_call import call_now

    row = run(lambda: call_now(database_url(ctx), callback_id, agent, actor_of(actor), SOURCE))
    click.echo(f"callback {row.id}: {row.state} for agent {row.agent} (dialled by ccctl serve's ACD)")


@callbacks.command("show")
@click.argument("callback_id", type=int)
@json_option
@as_option
@click.pass_context
def callbacks_show(ctx, callback_id: int, as_json, actor) -> None:
    """One callback with the number to dial and the patient's code (audited)."""
    from ccctl.acd.callbacks import show_callback

    row = run(lambda: show_callback(database_url(ctx), callback_id, actor_of(actor), SOURCE))
    if as_json:
        echo_json(asdict(row))
        return
    click.echo(
        f"callback {row.id}: {_state(row)}, queue {row.queue}, asked {format_time(row.requested_at)}, "
        f"{row.attempts} attempt(s)\ndue:     {_due(row)}\nnumber:  {row.number or '-'}\npatient: {row.patient or '-'}"
    )


@callbacks.command("done")
@click.argument("callback_id", type=int)
@click.option("--note", required=True, help="What came of the call (kept with the queue's events).")
@as_option
@click.pass_context
def callbacks_done(ctx, callback_id: int, note: str, actor) -> None:
    """Mark a callback done: staff called the caller back by hand (the ACD will not dial them)."""
    from ccctl.acd.callbacks import close_callback

    run(lambda: close_callback(database_url(ctx), callback_id, "done", note, actor_of(actor), SOURCE))
    click.echo(f"callback {callback_id} done")


@callbacks.command("cancel")
@click.argument("callback_id", type=int)
@click.option("--note", default="", help="Why (kept with the queue's events).")
@as_option
@click.pass_context
def callbacks_cancel(ctx, callback_id: int, note: str, actor) -> None:
    """Cancel a callback (the ACD will not dial the caller)."""
    from ccctl.acd.callbacks import close_callback

    run(lambda: close_callback(database_url(ctx), callback_id, "cancelled", note, actor_of(actor), SOURCE))
    click.echo(f"callback {callback_id} cancelled")


COMMANDS = (callbacks,)
