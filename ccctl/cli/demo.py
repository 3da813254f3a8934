"""`ccctl demo` (the contact center on the emulator) and `ccctl bench` (benchmarks, side by side)."""

from __future__ import annotations

import json
import sys

import click

from ccctl.cli.common import CliError, at_option, database_url, patch_gevent, run, settings_of


@click.command()
@click.option("--calls", "calls", type=int, default=0, help="Stop after this many calls (0: until Ctrl-C).")
@click.option(
    "--rate", type=float, default=None, help="New calls per second (Poisson; default: sized to the agents, with peaks)."
)
@click.option("--time-factor", type=float, default=1.0, show_default=True, help="Speed-up of simulated time.")
@click.option("--seed", type=int, default=None, help="Random seed for reproducible caller behaviour.")
@at_option("start_at", "at the start (default: a time inside the hotline's opening hours)")
@click.option(
    "--database",
    default=None,
    metavar="URL",
    help="The demo's database (default: sqlite:///var/ccctl-demo.db, never the database of ccctl serve).",
)
@click.pass_context
def demo(ctx: click.Context, calls, rate, time_factor, seed, start_at, database) -> None:
    """Run the contact center on embedded defaults with the emulator generating calls."""
    patch_gevent()
    from ccctl.local_site.demo import DemoOptions, run_demo

    settings = settings_of(ctx)
    options = DemoOptions(calls, rate, time_factor, seed, start_at, database)
    ok = run(lambda: run_demo(settings, options))
    sys.exit(0 if ok else 1)


@click.group()
def bench() -> None:
    """Benchmarks (bench/); figures go to closing notes, never into tests."""


@bench.command("calls")
@click.option("--rate", type=float, default=250.0, show_default=True, help="Offered calls per second.")
@click.option("--seconds", type=float, default=20.0, show_default=True, help="Duration of the sustained run.")
@click.option("--concurrent", type=int, default=1000, show_default=True, help="Concurrent calls for the hold test.")
@click.option("--emulators", type=int, default=2, show_default=True, help="Emulator processes sharing the rate.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def bench_calls(ctx, rate: float, seconds: float, concurrent: int, emulators: int, as_json: bool) -> None:
    """Controller throughput, latency, loop lag and memory vs greenswitch, in one run."""
    from ccctl.local_site.bench import run_bench

    result = run_bench("calls", rate=rate, seconds=seconds, concurrent=concurrent, emulators=emulators)
    click.echo(json.dumps(result, indent=2) if as_json else result["text"])


@bench.command("acd")
@click.option("--agents", type=int, default=500, show_default=True)
@click.option("--skills", type=int, default=20, show_default=True)
@click.option("--waiting", type=int, default=200, show_default=True, help="Callers in line.")
@click.option(
    "--events",
    type=int,
    default=300,
    show_default=True,
    help="Routing events, agent freed and caller enqueued in turn.",
)
@click.option(
    "--database",
    default="",
    metavar="URL",
    help="A PostgreSQL server (postgresql://user@host/db) where each side gets a scratch database; default SQLite files.",
)
@click.option(
    "--switch-events",
    type=int,
    default=100,
    show_default=True,
    help="Agents freed with the emulator in the loop (freed -> bridge at the switch); 0 skips it.",
)
@click.option(
    "--mixed", is_flag=True, help="Calls and chats: half the line are chats, agents with capacities per channel."
)
@click.option(
    "--processes",
    default="",
    metavar="N[,N...]",
    help="Routers in this many processes on one PostgreSQL (--database), e.g. 1,2,4: latency and claims/s each.",
)
@click.option("--seconds", type=float, default=10.0, show_default=True, help="Length of each --processes run.")
@click.option("--json", "as_json", is_flag=True)
def bench_acd(
    agents: int,
    skills: int,
    waiting: int,
    events: int,
    database: str,
    switch_events: int,
    mixed: bool,
    processes: str,
    seconds: float,
    as_json: bool,
) -> None:
    """Routing decision latency: ccctl's router vs a mod_callcenter-style 100 ms poller, same database."""
    from ccctl.local_site.bench import run_acd_bench

    try:
        if processes:
            from ccctl.local_site.bench_processes import run_acd_processes_bench

            result = run_acd_processes_bench(database, processes, agents, skills, waiting, seconds)
            click.echo(json.dumps(result, indent=2) if as_json else result["text"])
            return
        result = run_acd_bench(agents, skills, waiting, events, database, switch_events, mixed)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    click.echo(json.dumps(result, indent=2) if as_json else result["text"])


@bench.command("campaigns")
@click.option("--patients", type=int, default=1000, show_default=True)
@click.option("--rate", type=float, default=20.0, show_default=True, help="The campaign's calls per second.")
@click.option("--concurrent", type=int, default=200, show_default=True, help="The campaign's calls at once.")
@click.option("--seconds", type=float, default=30.0, show_default=True, help="Longest run.")
@click.option("--json", "as_json", is_flag=True)
def bench_campaigns(patients: int, rate: float, concurrent: int, seconds: float, as_json: bool) -> None:
    """A reminder campaign on the emulator: calls placed per second vs the configured rate, no one dialled twice."""
    patch_gevent()  # the emulator, the controller and the dialer share this process's event loop
    from ccctl.local_site.bench import run_campaigns_bench

    result = run_campaigns_bench(patients, rate, concurrent, seconds)
    click.echo(json.dumps(result, indent=2) if as_json else result["text"])


@bench.command("kb")
@click.option("--articles", type=int, default=5000, show_default=True, help="Generated articles per language.")
@click.option("--rounds", type=int, default=3, show_default=True, help="Times each test question is searched.")
@click.option("--json", "as_json", is_flag=True)
def bench_kb(articles: int, rounds: int, as_json: bool) -> None:
    """Knowledge-base search latency (p50/p99 per language) on generated articles."""
    from ccctl.local_site.bench import run_kb_bench

    result = run_kb_bench(articles, rounds)
    click.echo(json.dumps(result, indent=2) if as_json else result["text"])


@bench.command("soak")
@click.option("--minutes", type=float, default=10.0, show_default=True, help="How long calls are offered.")
@click.option("--rate", type=float, default=250.0, show_default=True, help="Offered calls per second.")
@click.option("--emulators", type=int, default=2, show_default=True, help="Emulator processes sharing the rate.")
@click.option("--database", "url", default="", help="Where the call records go (default: the settings' database).")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def bench_soak(ctx, minutes: float, rate: float, emulators: int, url: str, as_json: bool) -> None:
    """The controller for minutes with its call records in the database: failures, records, RSS, loop lag."""
    from ccctl.local_site.bench import run_soak_bench

    result = run(lambda: run_soak_bench(url or database_url(ctx), rate, minutes, emulators))
    click.echo(json.dumps(result, indent=2) if as_json else result["text"])


@bench.command("scale-out")
@click.option(
    "--rates",
    default="10,20,40,60,80,100,120,160,200",
    show_default=True,
    metavar="N[,N...]",
    help="SIPp's calls/s, one step each, until the first failed call.",
)
@click.option("--step-seconds", type=float, default=20.0, show_default=True, help="Length of each step.")
@click.option(
    "--freeswitch-home",
    default="/usr/local/freeswitch",
    show_default=True,
    metavar="DIR",
    help="Where FreeSWITCH is installed (bin/freeswitch, lib/freeswitch/mod).",
)
@click.option(
    "--database",
    default="",
    metavar="URL",
    help="A PostgreSQL database for the call records (default: a throwaway server from /usr/lib/postgresql/15/bin).",
)
@click.option(
    "--rtp-ports", default="16384-32767", show_default=True, help="RTP ports, shared out between the switches."
)
@click.option(
    "--sessions-per-second",
    type=int,
    default=1000,
    show_default=True,
    metavar="N",
    help="Each switch's freeswitch.sessions_per_second: high, so the nodes and controllers break first.",
)
@click.option("--json", "as_json", is_flag=True)
def bench_scale_out(rates, step_seconds, freeswitch_home, database, rtp_ports, sessions_per_second, as_json) -> None:
    """Calls/s through Kamailio + 2 FreeSWITCH + 2 controllers vs 1 + 1, SIPp stepping up to the first failure."""
    from ccctl.local_site.bench_scale_out import run_scale_out_bench

    result = run(
        lambda: run_scale_out_bench(rates, step_seconds, freeswitch_home, database, rtp_ports, sessions_per_second)
    )
    click.echo(json.dumps(result, indent=2) if as_json else result["text"])


COMMANDS = (
    demo,
    bench,
)
