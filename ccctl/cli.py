"""The `ccctl` command line: parse, call into the package, print.

Commands import their implementation lazily so `ccctl --help` stays instant and
gevent is patched only by the commands that run a loop.
"""

from __future__ import annotations

import json
import sys

import click

from ccctl.cli_common import CliError, _actor, _as_option, _patch_gevent, _settings


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


@main.command()
@click.pass_context
def serve(ctx: click.Context) -> None:
    """Run the controller: outbound ESL server, inbound ESL client, web/status."""
    _patch_gevent()
    from ccctl.server import run_serve

    settings = _settings(ctx)
    run_serve(settings)


@main.command()
@click.option("--calls", "calls", type=int, default=0, help="Stop after this many calls (0: until Ctrl-C).")
@click.option("--rate", type=float, default=2.0, show_default=True, help="New calls per second (Poisson).")
@click.option("--time-factor", type=float, default=1.0, show_default=True, help="Speed-up of simulated time.")
@click.option("--seed", type=int, default=None, help="Random seed for reproducible caller behaviour.")
@click.option(
    "--at",
    "start_at",
    type=click.DateTime(["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]),
    default=None,
    help="Local time the flows see at the start, e.g. 2026-11-29T23:00 for out of hours (default: now).",
)
@click.pass_context
def demo(ctx: click.Context, calls: int, rate: float, time_factor: float, seed: int | None, start_at) -> None:
    """Run the contact center on embedded defaults with the emulator generating calls."""
    _patch_gevent()
    from ccctl.demo import run_demo

    settings = _settings(ctx)
    ok = run_demo(settings, calls=calls, rate=rate, time_factor=time_factor, seed=seed, start_at=start_at)
    sys.exit(0 if ok else 1)


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@click.pass_context
def status(ctx: click.Context, as_json: bool) -> None:
    """Ask a running `ccctl serve` for channels, greenlets and the ESL connection state."""
    from ccctl.status_client import StatusUnavailable, fetch_status, format_status

    settings = _settings(ctx)
    try:
        data = fetch_status(settings)
    except StatusUnavailable as exc:
        raise CliError(str(exc)) from None
    click.echo(json.dumps(data, indent=2) if as_json else format_status(data))


@main.group()
def fs() -> None:
    """FreeSWITCH configuration."""


@fs.command("render")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False), help="Target directory.")
@click.pass_context
def fs_render(ctx: click.Context, out_dir: str) -> None:
    """Render fs_conf/ and dialplan/ templates into a FreeSWITCH conf directory."""
    from ccctl.fs_render import RenderError, render_all

    settings = _settings(ctx)
    try:
        written = render_all(settings, out_dir)
    except RenderError as exc:
        raise CliError(str(exc)) from None
    for path in written:
        click.echo(path)


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
@click.pass_context
def db_upgrade(ctx: click.Context, revision: str) -> None:
    """Create or migrate the database schema (Alembic)."""
    from ccctl.records.migrate import MigrationError, upgrade

    settings = _settings(ctx)
    try:
        upgrade(settings.database.url, revision)
    except MigrationError as exc:
        raise CliError(str(exc)) from None
    click.echo(f"database at revision {revision}")


@main.group()
def calls() -> None:
    """Call records."""


@calls.command("list")
@click.option("--since", help="Start time, ISO (2026-11-23 or 2026-11-23T08:00).")
@click.option("--until", help="End time, ISO.")
@click.option("--hotline", help="Hotline name.")
@click.option("--disposition", help="completed, abandoned, failed, ...")
@click.option("--limit", type=int, default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_context
def calls_list(ctx, since, until, hotline, disposition, limit, as_json) -> None:
    """List call records, newest first."""
    from ccctl.records.call_listing import ListError, format_calls, list_calls

    settings = _settings(ctx)
    try:
        rows = list_calls(
            settings.database.url, since=since, until=until, hotline=hotline, disposition=disposition, limit=limit
        )
    except ListError as exc:
        raise CliError(str(exc)) from None
    click.echo(json.dumps(rows, indent=2, default=str) if as_json else format_calls(rows))


@main.group()
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
    from ccctl.bench_runner import run_bench

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
@click.option("--json", "as_json", is_flag=True)
def bench_acd(
    agents: int, skills: int, waiting: int, events: int, database: str, switch_events: int, as_json: bool
) -> None:
    """Routing decision latency: ccctl's router vs a mod_callcenter-style 100 ms poller, same database."""
    from ccctl.bench_runner import run_acd_bench

    try:
        result = run_acd_bench(agents, skills, waiting, events, database, switch_events)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    click.echo(json.dumps(result, indent=2) if as_json else result["text"])


@main.group()
def flow() -> None:
    """IVR call flows (ivr_flows/): check, show, reload, simulate."""


def _flow_dirs(ctx: click.Context, flows_dir: str | None, prompts_dir: str | None) -> tuple[str, str | None]:
    if flows_dir:
        return flows_dir, prompts_dir
    return _settings(ctx).flows_dir, prompts_dir


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
    from ccctl.ivr.remote_reload import ReloadFailed, request_reload
    from ccctl.status_client import StatusUnavailable

    try:
        outcome = request_reload(_settings(ctx), wait_seconds)
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
@click.option(
    "--at",
    "at",
    type=click.DateTime(["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]),
    default=None,
    help="Local time the flow sees, e.g. 2026-11-29T23:00 (default: now).",
)
@click.option("--message-seconds", type=float, default=10.0, show_default=True, help="How long the caller talks.")
@click.option("--scratch", is_flag=True, help="A throwaway SQLite with the demo members, not database.url.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@click.pass_context
def flow_simulate(ctx, hotline: str, keys: str, caller: str, at, message_seconds: float, scratch: bool, as_json):
    """Run one call through the emulator and print its path, prompts, keys and result."""
    _patch_gevent()
    from ccctl.ivr.simulate import SimulationError, SimulationRequest, format_simulation, simulate_call

    request = SimulationRequest(hotline, keys, caller, at, message_seconds, scratch)
    try:
        result = simulate_call(_settings(ctx), request)
    except SimulationError as exc:
        raise CliError(str(exc)) from None
    click.echo(json.dumps(result.as_json(), indent=2, ensure_ascii=False) if as_json else format_simulation(result))


@main.group()
def patients() -> None:
    """Patient records: members (member number + PIN) and non-members, custom fields per specialty."""


def _fields_dir_option(command):
    return click.option(
        "--fields-dir",
        type=click.Path(file_okay=False),
        help="Custom field definitions (default: ./patient_fields, else the shipped ones).",
    )(command)


def _patients_call(work):
    """Run a ccctl.records.patient_commands call; its one-line errors become CLI errors."""
    from ccctl.records.patients import PatientError
    from ccctl.records.pins import PinFormatError

    try:
        return work()
    except (PatientError, PinFormatError) as exc:
        raise CliError(str(exc)) from None


@patients.command("add")
@click.option("--code", help="Patient code (default: the next P000123).")
@click.option("--given", default="", help="Given name.")
@click.option("--family", default="", help="Family name.")
@click.option("--phone", "phones", multiple=True, help="Phone number (repeatable).")
@click.option("--member-number", help="Makes the patient a member (4 to 16 digits).")
@click.option("--specialty", default="", help="Specialty whose custom fields apply (patient_fields/NAME.yaml).")
@click.option("--language", default="", help="Prompt language (en, zh, pl, ...).")
@click.option("--field", "fields", multiple=True, help="Custom field NAME=VALUE (repeatable).")
@_fields_dir_option
@_as_option
@click.pass_context
def patients_add(ctx, code, given, family, phones, member_number, specialty, language, fields, fields_dir, actor):
    """Add a patient; prints its code."""
    from ccctl.records import patient_commands
    from ccctl.records.patients import PatientData

    custom = {}
    for item in fields:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise CliError("--field: expected NAME=VALUE")
        custom[name.strip()] = value
    data = PatientData(given, family, list(phones), code, member_number, specialty, language, custom)
    url = _settings(ctx).database.url
    click.echo(_patients_call(lambda: patient_commands.add(url, data, fields_dir, _actor(actor))))


@patients.command("show")
@click.argument("code")
@click.option("--sensitive", is_flag=True, help="Also print fields marked sensitive.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@_fields_dir_option
@_as_option
@click.pass_context
def patients_show(ctx, code: str, sensitive: bool, as_json: bool, fields_dir, actor) -> None:
    """Print one patient's record (never the PIN hash); the read goes to the audit log."""
    from ccctl.records import patient_commands

    url = _settings(ctx).database.url
    specialties = _patients_call(lambda: patient_commands.specialties_from(fields_dir))
    record = _patients_call(lambda: patient_commands.show(url, code, _actor(actor), sensitive))
    if as_json:
        click.echo(json.dumps(patient_commands.record_json(record, specialties, sensitive), indent=2))
    else:
        click.echo(patient_commands.format_record(record, specialties, sensitive))


@patients.command("set-pin")
@click.argument("code")
@click.option("--pin-stdin", is_flag=True, help="Read the PIN from the first line of standard input.")
@_as_option
@click.pass_context
def patients_set_pin(ctx, code: str, pin_stdin: bool, actor) -> None:
    """Set a member's PIN (4-8 digits) from a hidden prompt, never from an argument."""
    from ccctl.records import patient_commands

    url = _settings(ctx).database.url
    if pin_stdin:
        pin = sys.stdin.readline().strip()
    else:
        pin = click.prompt("PIN", hide_input=True, confirmation_prompt=True, err=True).strip()
    _patients_call(lambda: patient_commands.set_pin(url, code, pin, _actor(actor)))
    click.echo(f"PIN set for {code}")


@patients.command("unlock")
@click.argument("code")
@_as_option
@click.pass_context
def patients_unlock(ctx, code: str, actor) -> None:
    """End a member's PIN lock-out and reset the count of wrong PINs."""
    from ccctl.records import patient_commands

    url = _settings(ctx).database.url
    was_locked = _patients_call(lambda: patient_commands.unlock(url, code, _actor(actor)))
    click.echo(f"unlocked {code}" if was_locked else f"{code} was not locked; wrong PINs reset")


@patients.command("list")
@click.option("--member/--non-member", default=None, help="Only members, or only non-members.")
@click.option("--specialty", help="Only this specialty.")
@click.option("--search", help="Part of a name or code, or a whole phone or member number.")
@click.option("--limit", type=int, default=100, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON (sensitive fields left out) instead of a table.")
@_fields_dir_option
@_as_option
@click.pass_context
def patients_list(ctx, member, specialty, search, limit: int, as_json: bool, fields_dir, actor) -> None:
    """List patients by code."""
    from ccctl.records import patient_commands
    from ccctl.records.patients import PatientFilter

    url = _settings(ctx).database.url
    filters = PatientFilter(member=member, specialty=specialty, search=search, limit=limit)
    specialties = _patients_call(lambda: patient_commands.specialties_from(fields_dir))
    records = _patients_call(lambda: patient_commands.list_records(url, filters, _actor(actor)))
    if as_json:
        click.echo(json.dumps([patient_commands.record_json(r, specialties) for r in records], indent=2))
    else:
        click.echo(patient_commands.format_records(records))


@patients.command("import")
@click.argument("file", type=click.Path(dir_okay=False))
@_fields_dir_option
@_as_option
@click.pass_context
def patients_import(ctx, file: str, fields_dir, actor) -> None:
    """Import patients from CSV: all rows or none; every bad row as FILE:LINE: reason."""
    from ccctl.records import patient_commands
    from ccctl.records.patient_import import ImportFailed

    url = _settings(ctx).database.url
    try:
        codes = _patients_call(lambda: patient_commands.import_csv(url, file, fields_dir, _actor(actor)))
    except ImportFailed as exc:
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        raise CliError(str(exc)) from None
    click.echo(f"imported {len(codes)} {'patient' if len(codes) == 1 else 'patients'} from {file}")


# --- command groups of later features, each in its own module (append one line each) ---
from ccctl.cli_inbox import inbox, tickets  # noqa: E402

main.add_command(inbox)
main.add_command(tickets)
from ccctl.cli_web import users  # noqa: E402

main.add_command(users)

from ccctl.cli_recordings import monitor, recordings  # noqa: E402

main.add_command(recordings)
main.add_command(monitor)

from ccctl.cli_acd import agents, queues, report, transfer  # noqa: E402

main.add_command(agents)
main.add_command(transfer)
main.add_command(queues)
main.add_command(report)

from ccctl.cli_channels import fax, sms  # noqa: E402

main.add_command(sms)
main.add_command(fax)

if __name__ == "__main__":  # pragma: no cover
    main()
