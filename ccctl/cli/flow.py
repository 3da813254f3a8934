"""`ccctl flow check|show|reload|simulate`: the YAML call flows."""

from __future__ import annotations

import json

import click

from ccctl.cli.common import CliError, at_option, patch_gevent, settings_of


@click.group()
def flow() -> None:
    """IVR call flows (ivr_flows/): check, show, reload, simulate."""


def _flow_dirs(ctx: click.Context, flows_dir: str | None, prompts_dir: str | None) -> tuple[str, str | None]:
    if flows_dir:
        return flows_dir, prompts_dir
    return settings_of(ctx).flows_dir, prompts_dir


@flow.command("check")
@click.argument("targets", nargs=-1)
@click.option("--flows-dir", type=click.Path(file_okay=False), help="Flows directory (default: settings flows_dir).")
@click.option("--prompts-dir", type=click.Path(file_okay=False), help="Recorded prompts (default: FLOWS_DIR/prompts).")
@click.pass_context
def flow_check(ctx: click.Context, targets: tuple[str, ...], flows_dir: str | None, prompts_dir: str | None) -> None:
    """Check flow files or hotlines (default: every flow); each error as file:line: node 'x': message."""
    from ccctl.ivr.registry import check_flows

    flows_dir, prompts_dir = _flow_dirs(ctx, flows_dir, prompts_dir)
    report = check_flows(flows_dir, prompts_dir, targets)
    for error in report.errors:
        click.echo(str(error))
    if report.errors:
        count = len(report.errors)
        raise CliError(f"{count} {'error' if count == 1 else 'errors'} in flows")
    click.echo(f"{report.flow_count} {'flow' if report.flow_count == 1 else 'flows'} OK")


@flow.command("show")
@click.argument("hotline")
@click.option("--flows-dir", type=click.Path(file_okay=False), help="Flows directory (default: settings flows_dir).")
@click.option("--prompts-dir", type=click.Path(file_okay=False), help="Recorded prompts (default: FLOWS_DIR/prompts).")
@click.pass_context
def flow_show(ctx: click.Context, hotline: str, flows_dir: str | None, prompts_dir: str | None) -> None:
    """Print a hotline's flow as a tree of nodes."""
    from ccctl.ivr.errors import FlowCheckFailed
    from ccctl.ivr.flow_tree import format_flow
    from ccctl.ivr.registry import FlowRegistry, UnknownHotline

    flows_dir, prompts_dir = _flow_dirs(ctx, flows_dir, prompts_dir)
    try:
        registry = FlowRegistry(flows_dir, prompts_dir)
        click.echo(format_flow(registry.get(hotline)))
    except FlowCheckFailed as exc:
        for error in exc.errors:
            click.echo(str(error))
        raise CliError(f"flows do not pass the check ({len(exc.errors)} problems); see above") from None
    except UnknownHotline as exc:
        raise CliError(str(exc)) from None


@flow.command("reload")
@click.option("--wait", "wait_seconds", type=float, default=15.0, show_default=True, help="Seconds to wait.")
@click.pass_context
def flow_reload(ctx: click.Context, wait_seconds: float) -> None:
    """Make the running `ccctl serve` check and swap in the flows (SIGHUP); calls in progress keep theirs."""
    from ccctl.serve.client import ReloadFailed, StatusUnavailable, request_reload

    try:
        outcome = request_reload(settings_of(ctx), wait_seconds)
    except (StatusUnavailable, ReloadFailed) as exc:
        raise CliError(str(exc)) from None
    if not outcome.ok:
        for error in outcome.errors:
            click.echo(error)
        if outcome.error_count > len(outcome.errors):
            click.echo(f"... and {outcome.error_count - len(outcome.errors)} more (see the serve log)")
        raise CliError(
            f"reload refused ({outcome.error_count} errors); ccctl serve keeps flows generation {outcome.generation}"
        )
    click.echo(f"flows generation {outcome.generation} running in pid {outcome.pid}: {', '.join(outcome.hotlines)}")


@flow.command("simulate")
@click.argument("hotline")
@click.option("--keys", default="", help="Keys per prompt that asks for input, comma-separated; empty: silence.")
@click.option("--caller", default="13800000001", show_default=True, help="The caller's number (ANI).")
@at_option("at", "during the call")
@click.option("--message-seconds", type=float, default=10.0, show_default=True, help="How long the caller talks.")
@click.option("--scratch", is_flag=True, help="A throwaway SQLite with the demo members, not database.url.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@click.pass_context
def flow_simulate(ctx, hotline: str, keys: str, caller: str, at, message_seconds: float, scratch: bool, as_json):
    """Run one call through the emulator and print its path, prompts, keys and result."""
    patch_gevent()
    from ccctl.local_site.simulate import SimulationError, SimulationRequest, format_simulation, simulate_call

    request = SimulationRequest(hotline, keys, caller, at, message_seconds, scratch)
    try:
        result = simulate_call(settings_of(ctx), request)
    except SimulationError as exc:
        raise CliError(str(exc)) from None
    click.echo(json.dumps(result.as_json(), indent=2, ensure_ascii=False) if as_json else format_simulation(result))


COMMANDS = (flow,)
