"""`ccctl flow check|show|reload|simulate`: the YAML call flows."""

from __future__ import annotations

import click

from ccctl.cli.common import CliError, at_option, echo_json, json_option, patch_gevent, run, settings_of


@click.group()
def flow() -> None:
    """IVR call flows (ivr_flows/): check, show, reload, simulate."""


def _flow_dirs(ctx: click.Context, flows_dir: str | None, prompts_dir: str | None) -> tuple[str, str | None]:
    if flows_dir:
        return flows_dir, prompts_dir
    settings = settings_of(ctx)
    return settings.flows_dir, prompts_dir or settings.prompts_dir or None


def _knowledge(ctx: click.Context):
    """The knowledge base kb nodes are checked against (settings kb.dir)."""
    from ccctl.kb.knowledge import KnowledgeBase

    return KnowledgeBase.from_settings(settings_of(ctx))


def _known_queues(ctx: click.Context):
    """The queues queue nodes are checked against: the database's, or the demo seed's when it has none."""
    from ccctl.acd.agents import queue_names
    from ccctl.acd.demo_seed import DEMO_SKILLS
    from ccctl.ivr.nodes.base import KnownQueues

    names = queue_names(settings_of(ctx).database.url)
    if names:
        return KnownQueues(frozenset(names), "the database")
    return KnownQueues(frozenset(DEMO_SKILLS), "the demo seed (the database has no queues)")


def _flows_failed(errors) -> CliError:
    """Each flow error on its own line, then one summary; nothing was loaded or reloaded."""
    from ccctl.ivr.registry import count_errors

    for error in errors:
        click.echo(str(error))
    return CliError(f"{count_errors(len(errors))} in flows (ccctl flow check)")


@flow.command("check")
@click.argument("targets", nargs=-1)
@click.option("--flows-dir", type=click.Path(file_okay=False), help="Flows directory (default: settings flows_dir).")
@click.option("--prompts-dir", type=click.Path(file_okay=False), help="Recorded prompts (default: FLOWS_DIR/prompts).")
@click.pass_context
def flow_check(ctx: click.Context, targets: tuple[str, ...], flows_dir: str | None, prompts_dir: str | None) -> None:
    """Check flow files or hotlines (default: every flow); each error as file:line: node 'x': message."""
    from ccctl.ivr.registry import check_flows

    flows_dir, prompts_dir = _flow_dirs(ctx, flows_dir, prompts_dir)
    report = check_flows(flows_dir, prompts_dir, targets, kb=_knowledge(ctx), queues=_known_queues(ctx))
    if report.errors:
        raise _flows_failed(report.errors)
    click.echo(f"{report.flow_count} {'flow' if report.flow_count == 1 else 'flows'} OK")
    _note_unvoiced(ctx, flows_dir, prompts_dir)


def _note_unvoiced(ctx: click.Context, flows_dir: str, prompts_dir: str | None) -> None:
    """On stderr: languages whose texts would be read by flite, which has English voices only."""
    from pathlib import Path

    from ccctl.ivr.prompt_audio import unvoiced
    from ccctl.ivr.prompts import FLITE_ENGINE, language_voice, load_prompt_sets

    fs = settings_of(ctx).freeswitch
    sets, _ = load_prompt_sets(Path(flows_dir), Path(prompts_dir or Path(flows_dir) / "prompts"))
    # espeak-ng speaks each language in its own voice; only a set that names flite has its texts read as English
    missing = {
        language: len(unvoiced(prompt_set))
        for language, prompt_set in sorted(sets.items())
        if language != "en" and language_voice(language, fs.tts_engine, fs.tts_voice, prompt_set)[0] == FLITE_ENGINE
    }
    counts = ", ".join(f"{count} in {language}" for language, count in missing.items() if count)
    if counts:
        click.echo(
            f"note: prompt texts with no audio file ({counts}) would be read by flite's English voice: "
            "run ccctl prompts build",
            err=True,
        )


@flow.command("show")
@click.argument("hotline")
@click.option("--flows-dir", type=click.Path(file_okay=False), help="Flows directory (default: settings flows_dir).")
@click.option("--prompts-dir", type=click.Path(file_okay=False), help="Recorded prompts (default: FLOWS_DIR/prompts).")
@json_option
@click.pass_context
def flow_show(ctx: click.Context, hotline: str, flows_dir: str | None, prompts_dir: str | None, as_json: bool) -> None:
    """Print a hotline's flow as a tree of nodes."""
    from ccctl.ivr.errors import FlowCheckFailed
    from ccctl.ivr.flow_tree import flow_data, format_flow
    from ccctl.ivr.registry import FlowRegistry, UnknownHotline

    flows_dir, prompts_dir = _flow_dirs(ctx, flows_dir, prompts_dir)
    try:
        registry = FlowRegistry(flows_dir, prompts_dir, kb=_knowledge(ctx))
        if as_json:
            echo_json(flow_data(registry.get(hotline)))
        else:
            click.echo(format_flow(registry.get(hotline)))
    except FlowCheckFailed as exc:
        raise _flows_failed(exc.errors) from None
    except UnknownHotline as exc:
        raise CliError(str(exc)) from None


@flow.command("reload")
@click.option("--wait", "wait_seconds", type=float, default=15.0, show_default=True, help="Seconds to wait.")
@click.pass_context
def flow_reload(ctx: click.Context, wait_seconds: float) -> None:
    """Make the running `ccctl serve` check and swap in the flows (SIGHUP); calls in progress keep theirs."""
    from ccctl.ivr.registry import count_errors
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
            f"reload refused ({count_errors(outcome.error_count)}); ccctl serve keeps flows generation "
            f"{outcome.generation}"
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
    from ccctl.ivr.errors import FlowCheckFailed
    from ccctl.local_site.simulate import SimulationRequest, format_simulation, simulate_call

    request = SimulationRequest(hotline, keys, caller, at, message_seconds, scratch)
    settings = settings_of(ctx)

    def work():
        try:
            return simulate_call(settings, request)
        except FlowCheckFailed as exc:
            raise _flows_failed(exc.errors) from None

    result = run(work)
    if as_json:
        echo_json(result.as_json())
    else:
        click.echo(format_simulation(result))


COMMANDS = (flow,)
