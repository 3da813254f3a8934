"""The `ccctl` command line: parse, call into the package, print.

One module per command group, listed here in the order `ccctl --help` shows them. Commands import their
implementation lazily so `ccctl --help` stays instant, and only the commands that run an event loop patch
gevent. A UserError raised anywhere below becomes `ccctl: <one line>` with exit status 1 (common.run).
"""

from __future__ import annotations

import importlib

import click

COMMAND_MODULES = (
    "serve",  # serve, status
    "demo",  # demo, bench
    "deploy",  # fs render, db upgrade
    "calls",  # calls list
    "flow",  # flow check / show / reload / simulate
    "prompts",  # prompts build
    "patients",
    "appointments",  # schedule import / list; appointments list / book / cancel / move / confirm
    "acd",  # agents, queues, transfer, monitor
    "callbacks",  # callbacks list / show / done / cancel
    "retention",  # retention run
    "report",
    "recordings",
    "storage",  # storage keygen / encrypt-existing (media encrypted at rest)
    "inbox",
    "tickets",
    "channels",  # sms, fax
    "kb",  # knowledge base: check / list / show / search / import
    "chat",  # chat list / show / export (web chat transcripts)
    "campaigns",  # campaigns add / list / show / start / pause / stop / report
    "surveys",  # surveys check / report
    "users",
    "web",  # web screenshots (docs/screenshots)
    "api_clients",  # api-clients add / list / revoke (the FHIR API's tokens)
    "fhir",  # fhir pull (the day's appointments from the hospital's FHIR server)
    "hl7",  # hl7 list / show / retry / send
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "-c",
    envvar="CCCTL_CONFIG",
    type=click.Path(dir_okay=False),
    help="Settings file (ccctl.yaml). Environment variables CCCTL_SECTION__KEY override it.",
)
@click.pass_context
def main(ctx: click.Context, config: str | None) -> None:
    """Hospital contact center controller for FreeSWITCH."""
    ctx.ensure_object(dict)
    ctx.obj["config"] = config


for _name in COMMAND_MODULES:
    for _command in importlib.import_module(f"ccctl.cli.{_name}").COMMANDS:
        main.add_command(_command)
