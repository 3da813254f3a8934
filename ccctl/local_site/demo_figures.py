"""What `ccctl demo` prints: the live line while it runs and the table at the end.

One vocabulary everywhere: a call's disposition as `ccctl calls list` stores it (docs/freeswitch.md,
section 10), a call still up when the demo ended is "unfinished", and the ACD's own figures are the
ones `ccctl report kpi` computes (reports/kpi.py), labelled as queue figures.
"""

from __future__ import annotations

import datetime as dt
import sys
import time
from collections import Counter
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ccctl.records.database import make_engine
from ccctl.records.models.calls import Call
from ccctl.reports.kpi import KpiReport, compute_kpis

PLAIN_LINE_EVERY_SECONDS = 10.0  # without a terminal, the live line is printed this often
DISPOSITIONS = ("completed", "abandoned", "failed", "callback", "callback-failed", "transferred", "handed-over")


def live_line(
    placed: int, up: int, calls: dict[str, int], cps: float, waiting_for: int | None = None, again: bool = False
) -> str:
    """placed, still up, ended by disposition (the controller's counters: callback and transfers count as
    completed there), and while stopping what the demo waits for."""
    line = (
        f"placed {placed:>6} | up {up:>4} | completed {calls['completed']:>6} | abandoned {calls['abandoned']:>5}"
        f" | failed {calls['failed'] + calls['dropped']:>4} | {cps:5.1f} calls/s"
    )
    if waiting_for is not None:
        line += f" | stopping: waiting for {waiting_for} calls to end (Ctrl-C{' again' if again else ''}: stop now)"
    return line


class Console:
    """The live line, rewritten in place on a terminal, printed every PLAIN_LINE_EVERY_SECONDS otherwise."""

    def __init__(self, out=None) -> None:
        self.out = out or sys.stdout
        self.tty = self.out.isatty()
        self._last_plain = 0.0
        self._width = 0

    def show(self, line: str, force: bool = False) -> None:
        if self.tty:
            self.out.write("\r" + line.ljust(self._width))
            self._width = len(line)
            self.out.flush()
        elif force or time.monotonic() - self._last_plain >= PLAIN_LINE_EVERY_SECONDS:
            print(line, file=self.out, flush=True)
            self._last_plain = time.monotonic()

    def say(self, text: str) -> None:
        """A message on its own line (the live line goes on below it)."""
        if self.tty and self._width:
            self.out.write("\r" + " " * self._width + "\r")
            self._width = 0
        print(text, file=self.out, flush=True)

    def close(self) -> None:
        if self.tty and self._width:
            self.out.write("\n")
            self._width = 0


@dataclass
class RunFigures:
    placed: int
    dispositions: Counter
    unfinished: int
    acd: KpiReport
    emulator_failures: list[str]
    seconds: float


def run_figures(
    url: str, since: dt.datetime, placed_uuids: set[str], unfinished: set[str], emulator_failures: list[str],
    seconds: float,
) -> RunFigures:  # fmt: skip
    """The dispositions of the run's calls as stored, the calls still up at the end, the ACD's KPIs."""
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            rows = session.execute(select(Call.uuid, Call.disposition).where(Call.started_at >= since))
            ended = Counter(d for uuid, d in rows if uuid in placed_uuids and uuid not in unfinished)
            acd = compute_kpis(session, since, dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1))
    finally:
        engine.dispose()
    return RunFigures(len(placed_uuids), ended, len(unfinished), acd, emulator_failures, seconds)


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def final_table(figures: RunFigures) -> str:
    rows: list[tuple[str, object]] = [("calls placed", figures.placed)]
    for disposition in DISPOSITIONS:
        count = figures.dispositions.get(disposition, 0)
        if count or disposition in ("completed", "abandoned", "failed"):
            rows.append((disposition, count))
    rows.append(("unfinished (still up at the end)", figures.unfinished))
    acd = figures.acd
    rows += [
        ("queue: offered", acd.offered),
        ("queue: answered by an agent", acd.answered),
        ("queue: abandoned in queue", acd.abandoned),
        ("queue: average speed of answer (s)", "-" if acd.asa_seconds is None else f"{acd.asa_seconds:.1f}"),
        ("queue: service level", _percent(acd.service_level)),
        ("seconds", f"{figures.seconds:.1f}"),
    ]
    width = max(len(label) for label, _ in rows)
    lines = [f"{label:<{width}}  {value:>8}" for label, value in rows]
    lines.append("(dispositions as `ccctl calls list` shows them; docs/freeswitch.md section 10)")
    for failure in figures.emulator_failures[:5]:
        lines.append(f"  emulator: {failure}")
    return "\n".join(lines)
