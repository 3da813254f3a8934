"""`ccctl api-clients ...`: the hospital systems allowed to use the FHIR API; parse, call
ccctl.patients.fhir.clients, print. A token is printed once, at `add`; only its hash is kept.
"""

from __future__ import annotations

from dataclasses import asdict

import click

from ccctl.cli.common import database_url, echo_json, echo_table, format_time, json_option, run


@click.group("api-clients")
def api_clients() -> None:
    """Systems that use the FHIR API (/fhir/r4) with a bearer token."""


@api_clients.command("add")
@click.argument("name")
@click.option("--scope", default="read", show_default=True, help="read, write or read,write.")
@click.pass_context
def api_clients_add(ctx, name: str, scope: str) -> None:
    """Add a client and print its token (once: keep it in the client system's secrets)."""
    from ccctl.patients.fhir import clients

    url = database_url(ctx)
    token = run(lambda: clients.add(url, name, scope))
    click.echo(f"added API client {name} ({scope.replace(',', ', ')}); its token, shown only now:", err=True)
    click.echo(token)


@api_clients.command("list")
@json_option
@click.pass_context
def api_clients_list(ctx, as_json: bool) -> None:
    """List the clients, their scopes and when each last used its token."""
    from ccctl.patients.fhir import clients

    url = database_url(ctx)
    found = run(lambda: clients.listing(url))
    if as_json:
        echo_json([asdict(client) for client in found])
        return
    rows = [
        (c.name, ",".join(c.scopes), format_time(c.created_at), format_time(c.last_used_at), format_time(c.revoked_at))
        for c in found
    ]
    echo_table(("name", "scopes", "added", "last used", "revoked"), rows, empty="no API clients")


@api_clients.command("revoke")
@click.argument("name")
@click.pass_context
def api_clients_revoke(ctx, name: str) -> None:
    """Refuse the client's token from now on (add it again for a new one)."""
    from ccctl.patients.fhir import clients

    url = database_url(ctx)
    changed = run(lambda: clients.revoke(url, name))
    click.echo(f"revoked API client {name}" if changed else f"API client {name} was already revoked")


COMMANDS = (api_clients,)
