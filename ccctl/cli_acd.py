"""`ccctl agents ...`, `ccctl queues ...` and `ccctl report kpi`: parse, call ccctl.acd / ccctl.reports, print.

Implementations are imported inside each command so `ccctl --help` stays fast.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import click


class CliError(click.ClickException):
    """One clear line on stderr and exit status 1 (as ccctl.cli's; not imported: `python -m ccctl.cli` imports us)."""

    def show(self, file=None) -> None:
        click.echo(f"ccctl: {self.format_message()}", err=True)


def _url(ctx: click.Context) -> str:
    from ccctl.cli_common import _settings

    return _settings(ctx).database.url


def _acd_call(work):
    from ccctl.acd.agents import AgentError
    from ccctl.acd.queue_rules import QueueRulesError

    try:
        return work()
    except (AgentError, QueueRulesError) as exc:
        raise CliError(str(exc)) from None


@click.group()
def agents() -> None:
    """ACD agents: add, log in and out, breaks, status."""


@agents.command("add")
@click.argument("name")
@click.option("--extension", required=True, help="The agent's SIP extension (user/<extension>).")
@click.option("--skills", default="", help="Skills with levels 1-10: cardio:5,spanish:2")
@click.option("--contact", default="", help="Dial string of the agent's phone if not user/<extension>@<domain>.")
@click.pass_context
def agents_add(ctx, name, extension, skills, contact) -> None:
    """Add an agent (Logged Out until `ccctl agents login`)."""
    from ccctl.acd.agents import add_agent, parse_skills

    _acd_call(lambda: add_agent(_url(ctx), name, extension, parse_skills(skills), contact))
    click.echo(f"agent {name} added (extension {extension})")


def _status_command(command_name: str, status: str, summary: str):
    @agents.command(command_name, help=summary)
    @click.argument("name")
    @click.option("--reason", default="", help="Why (kept with the status change).")
    @click.pass_context
    def command(ctx, name, reason) -> None:
        from ccctl.acd.agents import set_status

        _acd_call(lambda: set_status(_url(ctx), name, status, reason))
        click.echo(f"agent {name}: {status}")

    return command


_status_command("login", "Available", "Log the agent in: Available for calls.")
_status_command("logout", "Logged Out", "Log the agent out.")
_status_command("break", "On Break", "Put the agent On Break (no calls offered).")


@agents.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_context
def agents_status(ctx, as_json) -> None:
    """Every agent with status, state and skills."""
    from ccctl.acd.agents import list_agents

    rows = _acd_call(lambda: list_agents(_url(ctx)))
    if as_json:
        click.echo(json.dumps([row.__dict__ for row in rows], indent=2))
        return
    click.echo(f"{'NAME':<16} {'EXT':<8} {'STATUS':<11} {'STATE':<9} SKILLS")
    for row in rows:
        skills = ",".join(f"{k}:{v}" for k, v in sorted(row.skills.items())) or "-"
        click.echo(f"{row.name:<16} {row.extension:<8} {row.status:<11} {row.state:<9} {skills}")


@click.group()
def queues() -> None:
    """ACD queues: add (or replace), list, show."""


@queues.command("add")
@click.argument("name")
@click.option("--strategy", default="longest-idle-agent", show_default=True)
@click.option("--skills", default="", help="Required skills with minimum levels: cardio:3,spanish")
@click.option("--set", "values", multiple=True, metavar="KEY=VALUE", help="A queue setting (see docs/acd.md).")
@click.pass_context
def queues_add(ctx, name, strategy, skills, values) -> None:
    """Add or replace a queue, e.g. --set max_wait_seconds=300 --set overflow_action=callback."""
    from ccctl.acd.agents import add_queue, parse_skills

    settings = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep:
            raise CliError(f"--set {item!r}: write KEY=VALUE")
        settings[key.strip()] = value.strip()
    _acd_call(lambda: add_queue(_url(ctx), name, strategy, parse_skills(skills), settings))
    click.echo(f"queue {name} saved ({strategy})")


def _rules(ctx) -> dict:
    from sqlalchemy.orm import Session

    from ccctl.acd.store import load_queues
    from ccctl.records.database import make_engine

    engine = make_engine(_url(ctx))
    try:
        with Session(engine) as session:
            return _acd_call(lambda: load_queues(session))
    finally:
        engine.dispose()


@queues.command("list")
@click.pass_context
def queues_list(ctx) -> None:
    """Every queue with its strategy and required skills."""
    click.echo(f"{'NAME':<16} {'STRATEGY':<28} SKILLS")
    for name, rules in sorted(_rules(ctx).items()):
        skills = ",".join(f"{k}:{v}" for k, v in sorted(rules.skills.items())) or "-"
        click.echo(f"{name:<16} {rules.strategy:<28} {skills}")


@queues.command("show")
@click.argument("name")
@click.pass_context
def queues_show(ctx, name) -> None:
    """Every setting of one queue."""
    rules = _rules(ctx).get(name)
    if rules is None:
        raise CliError(f"no queue named {name!r} (ccctl queues list)")
    for key, value in rules.__dict__.items():
        click.echo(f"{key:<24} {'-' if value in ('', {}) else value}")


@click.group()
def report() -> None:
    """Reports: contact-center KPIs."""


def _day_or_time(text: str, option: str, end: bool) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise CliError(f"{option} {text!r}: write a date (2026-11-23) or a time (2026-11-23T08:00)") from None
    if len(text) == 10 and end:
        value += timedelta(days=1)  # --to a date means that whole day
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@report.command("kpi")
@click.option("--from", "since", required=True, help="Start date or time, ISO, UTC unless it has an offset.")
@click.option("--to", "until", required=True, help="End date (that whole day) or time, ISO.")
@click.option("--queue", default="", help="One queue (default: all).")
@click.option("--fcr-days", type=int, default=7, show_default=True, help="First-call resolution window.")
@click.option("--json", "fmt", flag_value="json", help="Print JSON.")
@click.option("--csv", "fmt", flag_value="csv", help="Print CSV.")
@click.pass_context
def report_kpi(ctx, since, until, queue, fcr_days, fmt) -> None:
    """Offered, answered, abandoned, ASA, service level, AHT, callback rate, FCR, occupancy."""
    from sqlalchemy.orm import Session

    from ccctl.records.database import make_engine
    from ccctl.reports.kpi import compute_kpis, format_kpis

    start, end = _day_or_time(since, "--from", False), _day_or_time(until, "--to", True)
    if end <= start:
        raise CliError(f"--to {until} is not after --from {since}")
    engine = make_engine(_url(ctx))
    try:
        with Session(engine) as session:
            kpis = _acd_call(lambda: compute_kpis(session, start, end, queue, fcr_days))
    finally:
        engine.dispose()
    click.echo(format_kpis(kpis, fmt or "text"))


@click.command("transfer")
@click.argument("agent")
@click.option("--to-agent", default="", help="Another agent (name or extension); they must be free.")
@click.option("--to-queue", default="", help="A queue: the caller waits there with their first arrival time.")
@click.option("--warm", is_flag=True, help="Consult --to-agent first (the caller is on hold), then --complete.")
@click.option("--complete", "finish", flag_value="complete", help="Warm transfer: hand the caller over now.")
@click.option("--cancel", "finish", flag_value="cancel", help="Warm transfer: back to the caller, no hand-over.")
@click.pass_context
def transfer(ctx, agent, to_agent, to_queue, warm, finish) -> None:
    """Transfer AGENT's live queued call: blind to another agent or a queue, or warm (consult first)."""
    from ccctl.cli_common import _patch_gevent, _settings

    if finish and (to_agent or to_queue or warm):
        raise CliError("--complete / --cancel end a warm transfer under way: give no target with them")
    # the inbound ESL client reads in a greenlet: an unpatched socket blocks the command for good
    _patch_gevent()
    from ccctl.acd.transfer import TransferError, transfer_call

    try:
        result = transfer_call(_settings(ctx), agent, to_agent, to_queue, warm, finish or "")
    except TransferError as exc:
        raise CliError(str(exc)) from None
    messages = {
        "blind": f"call of {result.from_agent} transferred to {result.target}; {result.from_agent} is off the call",
        "warm": f"{result.from_agent} is consulting {result.target}; the caller is on hold "
        f"(ccctl transfer {result.from_agent} --complete | --cancel)",
        "complete": f"caller handed over to {result.target}; {result.from_agent} is off the call",
        "cancel": f"transfer to {result.target} cancelled; {result.from_agent} is back with the caller",
    }
    click.echo(messages[result.kind])
