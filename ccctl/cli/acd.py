"""`ccctl agents ...`, `ccctl queues ...`, `ccctl transfer` and `ccctl monitor ...`: the ACD by hand.

Implementations are imported inside each command so `ccctl --help` stays fast.
"""

from __future__ import annotations

import click

from ccctl.cli.common import (
    CliError,
    actor_of,
    as_option,
    database_url,
    echo_json,
    echo_table,
    json_option,
    patch_gevent,
    run,
    say_node,
    settings_of,
)
from ccctl.esl.password_policy import check_esl_password


@click.group()
def agents() -> None:
    """ACD agents: add, log in and out, breaks, status; edit, disable, enable, remove."""


@agents.command("add")
@click.argument("name")
@click.option("--extension", required=True, help="The agent's SIP extension (user/<extension>).")
@click.option("--skills", default="", help="Skills with levels 1-10: cardio:5,spanish:2")
@click.option("--contact", default="", help="Dial string of the agent's phone if not user/<extension>@<domain>.")
@click.pass_context
def agents_add(ctx, name, extension, skills, contact) -> None:
    """Add an agent (Logged Out until `ccctl agents login`); the extension must be in freeswitch.agent_extensions."""
    from ccctl.acd.agent_admin import check_extension
    from ccctl.acd.agents import add_agent, parse_skills

    run(lambda: check_extension(extension, settings_of(ctx).freeswitch.agent_extensions))
    run(lambda: add_agent(database_url(ctx), name, extension, parse_skills(skills), contact))
    click.echo(f"agent {name} added (extension {extension})")


def _status_command(command_name: str, status: str, summary: str):
    @agents.command(command_name, help=summary)
    @click.argument("name")
    @click.option("--reason", default="", help="Why (kept with the status change).")
    @click.pass_context
    def command(ctx, name, reason) -> None:
        from ccctl.acd.agents import set_status

        run(lambda: set_status(database_url(ctx), name, status, reason))
        click.echo(f"agent {name}: {status}")

    return command


_status_command("login", "Available", "Log the agent in: Available for calls.")
_status_command("logout", "Logged Out", "Log the agent out.")
_status_command("break", "On Break", "Put the agent On Break (no calls offered).")


@agents.command("passwd")
@click.argument("name")
@click.pass_context
def agents_passwd(ctx, name) -> None:
    """A new SIP password for the agent's phone, shown once; only its digest is kept (then run ccctl fs render).

    The digest goes to freeswitch.agents_credentials and to the database, where Kamailio reads it at once."""
    from ccctl.acd.agents import agent_extension
    from ccctl.acd.sip_credentials import a1_hash, set_agent_password
    from ccctl.acd.sip_digest_store import save_agent_digest

    settings = settings_of(ctx)
    fs = settings.freeswitch
    extension = run(lambda: agent_extension(database_url(ctx), name))
    password = run(lambda: set_agent_password(fs.agents_credentials, extension, fs.domain))
    run(lambda: save_agent_digest(database_url(ctx), extension, fs.domain, a1_hash(extension, fs.domain, password)))
    click.echo(f"agent {name}: extension {extension}@{fs.domain}, new SIP password (shown only now): {password}")
    click.echo(f"its digest is in {fs.agents_credentials}: run ccctl fs render and reload FreeSWITCH's XML")


@agents.command("capacity")
@click.argument("name")
@click.option("--voice", default=None, help="Calls at once: 0 or 1, or default (acd.voice_capacity).")
@click.option("--chat", default=None, help="Chats at once, or default (acd.chat_capacity).")
@click.option("--task", default=None, help="Tasks at once, or default (acd.task_capacity).")
@click.pass_context
def agents_capacity(ctx, name, voice, chat, task) -> None:
    """Show or set how many calls, chats and tasks the agent takes at once (docs/acd.md)."""
    from ccctl.acd.agents import parse_capacity, set_capacity

    given = {"voice": voice, "chat": chat, "task": task}
    changes = run(lambda: {ch: parse_capacity(ch, text) for ch, text in given.items() if text is not None})
    own, chats, tasks = run(lambda: set_capacity(database_url(ctx), name, changes))
    acd = settings_of(ctx).acd
    defaults = {"voice": acd.voice_capacity, "chat": acd.chat_capacity, "task": acd.task_capacity}
    shown = [f"{ch} {defaults[ch]} (setting)" if own[ch] is None else f"{ch} {own[ch]}" for ch in own]
    click.echo(f"agent {name}: {', '.join(shown)}; open now: {chats} chats, {tasks} tasks")


def _skills(skills: dict) -> str:
    return ",".join(f"{k}:{v}" for k, v in sorted(skills.items()))


@agents.command("status")
@json_option
@click.pass_context
def agents_status(ctx, as_json) -> None:
    """Every agent with status, state, skills and the switch node their phone is registered through."""
    from ccctl.acd.agents import list_agents

    rows = run(lambda: list_agents(database_url(ctx)))
    if as_json:
        echo_json([row.__dict__ for row in rows])
        return
    table = [(r.name, r.extension, r.status, r.state, _skills(r.skills), r.node or "-") for r in rows]
    echo_table(("name", "extension", "status", "state", "skills", "node"), table, empty="no agents (ccctl agents add)")


@click.group()
def queues() -> None:
    """ACD queues: add (or replace), edit, list, show, remove."""


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
    run(lambda: add_queue(database_url(ctx), name, strategy, parse_skills(skills), settings))
    click.echo(f"queue {name} saved ({strategy})")


def _rules(ctx) -> dict:
    from sqlalchemy.orm import Session

    from ccctl.acd.store import load_queues
    from ccctl.records.database import make_engine

    engine = make_engine(database_url(ctx))
    try:
        with Session(engine) as session:
            return run(lambda: load_queues(session))
    finally:
        engine.dispose()


@queues.command("list")
@json_option
@click.pass_context
def queues_list(ctx, as_json) -> None:
    """Every queue with its strategy and required skills."""
    queues = sorted(_rules(ctx).items())
    if as_json:
        echo_json([{"name": name, **rules.__dict__} for name, rules in queues])
        return
    table = [(name, rules.strategy, _skills(rules.skills)) for name, rules in queues]
    echo_table(("name", "strategy", "skills"), table, empty="no queues (ccctl queues add)")


@queues.command("show")
@click.argument("name")
@json_option
@click.pass_context
def queues_show(ctx, name, as_json) -> None:
    """Every setting of one queue."""
    rules = _rules(ctx).get(name)
    if rules is None:
        raise CliError(f"no queue named {name!r} (ccctl queues list)")
    if as_json:
        echo_json({"name": name, **rules.__dict__})
        return
    for key, value in rules.__dict__.items():
        click.echo(f"{key:<24} {'-' if value in ('', {}) else value}")


# -- changing and retiring agents and queues (ccctl.acd.agent_admin), each audited ------------


def _changed(what: str, changed: list[str]) -> str:
    return f"{what}: {', '.join(changed)} changed" if changed else f"{what}: nothing to change"


@agents.command("edit")
@click.argument("name")
@click.option("--name", "new_name", default=None, help="A new name.")
@click.option("--extension", default=None, help="A new SIP extension (inside freeswitch.agent_extensions).")
@click.option("--skills", default=None, help="The agent's skills, replacing the old: cardio:5,spanish:2")
@click.option("--contact", default=None, help="Dial string of the agent's phone ('' = user/<extension>).")
@as_option
@click.pass_context
def agents_edit(ctx, name, new_name, extension, skills, contact, actor) -> None:
    """Change an agent's name, extension, skills or phone; what is not given stays."""
    from ccctl.acd.agent_admin import check_extension, edit_agent
    from ccctl.acd.agents import parse_skills

    if extension is not None:
        run(lambda: check_extension(extension, settings_of(ctx).freeswitch.agent_extensions))
    parsed = None if skills is None else run(lambda: parse_skills(skills))
    changes = {"new_name": new_name, "extension": extension, "skills": parsed, "contact": contact}
    changed = run(lambda: edit_agent(database_url(ctx), name, actor_of(actor), "cli", **changes))
    click.echo(_changed(f"agent {new_name or name}", changed))


def _retire_command(command_name: str, summary: str, done: str):
    @agents.command(command_name, help=summary)
    @click.argument("name")
    @as_option
    @click.pass_context
    def command(ctx, name, actor) -> None:
        from ccctl.acd import agent_admin

        work = getattr(agent_admin, f"{command_name}_agent")
        run(lambda: work(database_url(ctx), name, actor_of(actor), "cli"))
        click.echo(f"agent {name} {done}")

    return command


_retire_command("disable", "A departing agent: logged out, no calls, refused at login until enabled.", "disabled")
_retire_command("enable", "Let a disabled agent log in again (Logged Out until they do).", "enabled (logged out)")
_retire_command("remove", "Delete an agent and their skills (not while on a call); their past events stay.", "removed")


@queues.command("edit")
@click.argument("name")
@click.option("--strategy", default=None, help="A new routing strategy.")
@click.option("--skills", default=None, help="The required skills, replacing the old: cardio:3,spanish")
@click.option("--set", "values", multiple=True, metavar="KEY=VALUE", help="A queue setting (see docs/acd.md).")
@as_option
@click.pass_context
def queues_edit(ctx, name, strategy, skills, values, actor) -> None:
    """Change some of a queue's settings, keeping the others (`queues add` replaces them all)."""
    from ccctl.acd.agent_admin import edit_queue
    from ccctl.acd.agents import parse_skills

    settings = _settings_of(values)
    parsed = None if skills is None else run(lambda: parse_skills(skills))
    changes = {"strategy": strategy, "skills": parsed, "settings": settings}
    changed = run(lambda: edit_queue(database_url(ctx), name, actor_of(actor), "cli", **changes))
    click.echo(_changed(f"queue {name}", changed))


@queues.command("remove")
@click.argument("name")
@as_option
@click.pass_context
def queues_remove(ctx, name, actor) -> None:
    """Delete a queue; refused while callers wait in it. Flows that name it fail `ccctl flow check`."""
    from ccctl.acd.agent_admin import remove_queue

    run(lambda: remove_queue(database_url(ctx), name, actor_of(actor), "cli"))
    click.echo(f"queue {name} removed")


def _settings_of(values: tuple[str, ...]) -> dict[str, str]:
    settings = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep:
            raise CliError(f"--set {item!r}: write KEY=VALUE")
        settings[key.strip()] = value.strip()
    return settings


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

    if finish and (to_agent or to_queue or warm):
        raise CliError("--complete / --cancel end a warm transfer under way: give no target with them")
    # the inbound ESL client reads in a greenlet: an unpatched socket blocks the command for good
    patch_gevent()
    from ccctl.acd.transfer import TransferError, transfer_call

    settings = settings_of(ctx)
    run(lambda: check_esl_password(settings))
    try:
        result = transfer_call(settings, agent, to_agent, to_queue, warm, finish or "", announce=say_node)
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


@click.group()
def monitor() -> None:
    """Supervisors join an agent's live call: listen, whisper (agent hears you), barge (both hear you)."""


def _monitor(ctx: click.Context, mode: str, agent: str, supervisor: str, dtmf: bool) -> None:
    # the inbound ESL client reads in a greenlet: an unpatched socket blocks the command for good
    patch_gevent()
    from ccctl.acd.monitor import MonitorError, monitor_call

    settings = settings_of(ctx)
    run(lambda: check_esl_password(settings))
    try:
        result = monitor_call(settings, mode, agent, supervisor, dtmf, announce=say_node)
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


COMMANDS = (
    agents,
    queues,
    transfer,
    monitor,
)
