"""`ccctl users ...`: web console users and roles; parse, call ccctl.web.user_commands, print.

Passwords come from a hidden prompt or stdin, never from an argument (it would show in `ps` and shell history).
"""

from __future__ import annotations

import sys

import click

from ccctl.cli.common import database_url, echo_json, json_option, run


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True, err=True)


_stdin_option = click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin.")


@click.group()
def users() -> None:
    """Users of the web console: admin, supervisor, agent."""


@users.command("add")
@click.argument("name")
@click.option("--role", required=True, type=click.Choice(["admin", "supervisor", "agent"]))
@click.option("--agent", default="", help="The ACD agent this user works as (default for an agent: NAME).")
@click.option("--language", default="en", show_default=True, type=click.Choice(["en", "zh", "pl"]))
@_stdin_option
@click.pass_context
def users_add(ctx, name: str, role: str, agent: str, language: str, password_stdin: bool) -> None:
    """Add a user; the password is asked for (twice) unless --password-stdin."""
    from ccctl.web import user_commands

    url = database_url(ctx)
    password = _password(password_stdin)
    user = run(lambda: user_commands.add(url, name, role, password, agent, language))
    click.echo(f"added {user.role} {user.name}" + (f" (agent {user.agent})" if user.agent else ""))


@users.command("passwd")
@click.argument("name")
@_stdin_option
@click.pass_context
def users_passwd(ctx, name: str, password_stdin: bool) -> None:
    """Set a user's password."""
    from ccctl.web import user_commands

    url = database_url(ctx)
    password = _password(password_stdin)
    ended = run(lambda: user_commands.change_password(url, name, password))
    click.echo(f"password changed for {name}")
    if ended:
        click.echo(user_commands.sessions_ended(ended))


@users.command("role")
@click.argument("name")
@click.argument("role", type=click.Choice(["admin", "supervisor", "agent"]))
@click.pass_context
def users_role(ctx, name: str, role: str) -> None:
    """Give a user another role; their open sessions end (give a promoted user a new, longer password too)."""
    from ccctl.web import user_commands

    url = database_url(ctx)
    ended = run(lambda: user_commands.change_role(url, name, role))
    click.echo(f"{name} is now {role}" + (f"; {user_commands.sessions_ended(ended)}" if ended else ""))


@users.command("disable")
@click.argument("name")
@click.pass_context
def users_disable(ctx, name: str) -> None:
    """Refuse a user's logins from now on and end their open sessions."""
    from ccctl.web import user_commands

    url = database_url(ctx)
    ended = run(lambda: user_commands.disable(url, name))
    click.echo(f"disabled {name}" + (f"; {user_commands.sessions_ended(ended)}" if ended else ""))


@users.command("enable")
@click.argument("name")
@click.pass_context
def users_enable(ctx, name: str) -> None:
    """Let a disabled user log in again."""
    from ccctl.web import user_commands

    url = database_url(ctx)
    run(lambda: user_commands.disable(url, name, disabled=False))
    click.echo(f"enabled {name}")


@users.command("logout")
@click.argument("name")
@click.pass_context
def users_logout(ctx, name: str) -> None:
    """End every open console session of a user (a lost badge, a shared computer)."""
    from ccctl.web import user_commands

    url = database_url(ctx)
    click.echo(user_commands.sessions_ended(run(lambda: user_commands.log_out(url, name))))


@users.command("list")
@json_option
@click.pass_context
def users_list(ctx, as_json) -> None:
    """List the console's users."""
    from dataclasses import asdict

    from ccctl.web import user_commands

    url = database_url(ctx)
    found = run(lambda: user_commands.listing(url))
    if as_json:
        echo_json([{k: v for k, v in asdict(u).items() if k != "id"} for u in found])
    else:
        click.echo(user_commands.format_users(found))


COMMANDS = (users,)
