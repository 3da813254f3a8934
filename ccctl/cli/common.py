"""What every `ccctl` command module shares: settings, the --as option, `run` (the one place where a
UserError becomes `ccctl: <message>` on stderr with exit status 1), and one convention for what people
type and read: --from/--to (ISO date or time, local unless it carries an offset, shown with its zone),
--json on every list and show command, one table style (full-word headers), durations as h:mm:ss.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar

import click

from ccctl.config import Settings, load_settings
from ccctl.errors import UserError

T = TypeVar("T")


class CliError(click.ClickException):
    """One clear line on stderr and exit status 1."""

    def show(self, file=None) -> None:
        click.echo(f"ccctl: {self.format_message()}", err=True)


def run(work: Callable[[], T]) -> T:
    """Run a command's work; its UserError (one line naming what and where) becomes a CLI error."""
    try:
        return work()
    except UserError as exc:
        raise CliError(str(exc)) from None


def settings_of(ctx: click.Context) -> Settings:
    return run(lambda: load_settings(ctx.obj.get("config")))


def database_url(ctx: click.Context) -> str:
    return settings_of(ctx).database.url


def patch_gevent() -> None:
    """Only the commands that run an event loop patch the standard library."""
    from gevent import monkey

    if not monkey.is_module_patched("socket"):
        monkey.patch_all()


def say_connecting(settings: Settings) -> None:
    """Before a command waits on the switch: where it is going, on stderr (stdout stays the result)."""
    where = f"{settings.esl.inbound_host}:{settings.esl.inbound_port}"
    click.echo(f"ccctl: connecting to FreeSWITCH's event socket at {where} ...", err=True)


def say_node(node) -> None:
    """Before a command-line tool tries a switch node (ccctl.config.EslNode): which one, on stderr."""
    click.echo(f"ccctl: connecting to FreeSWITCH node {node.name} at {node.host}:{node.port} ...", err=True)


class LocalTime(click.ParamType):
    """A time as --from takes it (local unless it has an offset), handed on as naive local time."""

    name = "TIME"

    def convert(self, value, param, ctx):
        if isinstance(value, datetime):
            return value
        moment = parse_time(f"--{param.name}" if param else "--at", value)
        return None if moment is None else moment.astimezone().replace(tzinfo=None)


def at_option(dest: str, what: str):
    """--at: the local time the flows see (their time-of-day branches), e.g. 2026-11-29T23:00."""
    return click.option(
        "--at",
        dest,
        type=LocalTime(),
        default=None,
        help=f"Local time the flows see {what}, e.g. 2026-11-29T23:00 or with an offset (default: now).",
    )


def as_option(command):
    who = "Who is asking, for the audit log (default: the OS user)."
    return click.option("--as", "actor", default=None, help=who)(command)


def actor_of(actor: str | None) -> str:
    from ccctl.records.audit import default_actor

    return actor or default_actor()


@dataclass(frozen=True)
class Period:
    """[start, end) as aware datetimes; None: open on that side."""

    start: datetime | None
    end: datetime | None


def period_options(command):
    """--from / --to: a date (2026-11-23; --to means that whole day) or a time (2026-11-23T08:00)."""
    zone = "local time unless it has an offset (2026-11-23T08:00+01:00)"
    options = [
        click.option("--from", "since", metavar="DATE|TIME", help=f"Start: a date or a time, ISO, {zone}."),
        click.option("--to", "until", metavar="DATE|TIME", help="End: a date (that whole day) or a time, ISO."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def parse_time(option: str, text: str | None, end: bool = False) -> datetime | None:
    """An aware datetime from --from/--to text; a bare date is its midnight (the next one for --to)."""
    from ccctl.records.call_listing import parse_time as parse

    return run(lambda: parse(option, text, end_of_day=end))


def parse_period(since: str | None, until: str | None, default_today: bool = False) -> Period:
    """--from/--to as a Period; with default_today, a missing --from is today and a missing --to the end of
    the --from day (a report "for 2026-11-23" is that day)."""
    start, end = parse_time("--from", since), parse_time("--to", until, end=True)
    if default_today:
        if start is None and end is not None:
            raise CliError("--to needs --from too")
        if start is None:
            start = datetime.combine(date.today(), datetime.min.time()).astimezone()
        if end is None:
            end = datetime.combine(start.date() + timedelta(days=1), datetime.min.time()).astimezone()
    if start is not None and end is not None and end <= start:
        raise CliError(f"--to {until} is not after --from {since}")
    return Period(start, end)


def format_time(value: datetime | None, seconds: bool = False) -> str:
    """Local time with its offset, e.g. 2026-11-23 09:00+01:00 (a naive value is UTC, as stored)."""
    if value is None:
        return "-"
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone().isoformat(sep=" ", timespec="seconds" if seconds else "minutes")


def format_duration(seconds: float | None) -> str:
    """A duration as m:ss or h:mm:ss (0:15, 3:10, 1:02:05); '-' when there is none."""
    if seconds is None:
        return "-"
    total = round(seconds)
    hours, rest = divmod(abs(total), 3600)
    minutes, secs = divmod(rest, 60)
    sign = "-" if total < 0 else ""
    return f"{sign}{hours}:{minutes:02d}:{secs:02d}" if hours else f"{sign}{minutes}:{secs:02d}"


def format_percent(ratio: float | None) -> str:
    """A rate (0.1234) as a percentage (12.3%); '-' when there is none."""
    return "-" if ratio is None else f"{ratio * 100:.1f}%"


def json_option(command):
    return click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")(command)


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def echo_json(data: Any) -> None:
    """Indented JSON on stdout; times as ISO 8601 with their offset."""
    click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=_json_value))


def format_table(headers: Sequence[str], rows: Iterable[Sequence[Any]], empty: str = "") -> str:
    """The one table style: upper-case full-word headers, columns two spaces apart, numbers right-aligned,
    '-' for nothing. `empty`: the line printed instead when there are no rows (default: the headers alone)."""
    cells = [["-" if v is None or v == "" else str(v) for v in row] for row in rows]
    if not cells and empty:
        return empty
    head = [h.upper() for h in headers]
    widths = [max([len(h)] + [len(row[i]) for row in cells]) for i, h in enumerate(head)]
    numeric = [bool(cells) and all(_is_number(row[i]) for row in cells) for i in range(len(head))]
    lines = []
    for row in [head, *cells]:
        parts = [v.rjust(w) if num else v.ljust(w) for v, w, num in zip(row, widths, numeric, strict=True)]
        lines.append("  ".join(parts).rstrip())
    return "\n".join(lines)


def _is_number(text: str) -> bool:
    return text == "-" or text.rstrip("%").replace(".", "", 1).replace(":", "").lstrip("-").isdigit()


def echo_table(headers: Sequence[str], rows: Iterable[Sequence[Any]], empty: str = "") -> None:
    click.echo(format_table(headers, rows, empty))
