"""`ccctl bench soak`: ccctl's controller for minutes at a steady rate, its call records in a real database.

The controller (bench/ccctl_app.py with --database) runs the welcome flow and writes every call
through its call store; emulator processes offer Poisson traffic. What a soak must show: no failed
call, a record for every call placed (none left in progress), memory flat (RSS at start and end),
and the event loop's lag p99.
"""

from __future__ import annotations

import json
import signal
import time

from sqlalchemy import func, select

from bench.bench_calls import SAMPLE_SECONDS, ControllerProcess, _emulator, _merge, emulator_summary
from ccctl.callflow import IN_PROGRESS
from ccctl.records.database import make_engine, safe_url
from ccctl.records.migrate import upgrade
from ccctl.records.models.calls import Call

EXIT_SECONDS = 120.0  # the controller's call store writes its backlog before the process ends


def _call_rows(url: str) -> dict[str, int]:
    """Rows of the calls table by disposition (in-progress: a call never completed)."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(select(Call.disposition, func.count()).group_by(Call.disposition))
            return {disposition: count for disposition, count in rows}
    finally:
        engine.dispose()


def _stop_and_wait(controller: ControllerProcess) -> dict:
    controller.proc.send_signal(signal.SIGTERM)
    try:
        controller.proc.wait(EXIT_SECONDS)
    except Exception:
        controller.proc.kill()
        controller.proc.wait()
    text = controller.stats_file.read_text()
    controller.stats_file.unlink()
    return json.loads(text) if text else {}


def run(
    database: str, rate: float = 250.0, minutes: float = 10.0, emulators: int = 2, time_factor: float = 20.0
) -> dict:
    upgrade(database)
    before = _call_rows(database)
    seconds = minutes * 60.0
    controller = ControllerProcess("ccctl", extra_args=["--database", database])
    rss_start = controller.ps.memory_info().rss
    cpu_before = controller.cpu_seconds()
    args = ["--rate", str(rate / emulators), "--seconds", str(seconds), "--time-factor", str(time_factor)]
    shards = [_emulator(controller.port, [*args, "--seed", str(index + 1)]) for index in range(emulators)]
    peak_rss = rss_start
    while any(shard.poll() is None for shard in shards):
        peak_rss = max(peak_rss, controller.ps.memory_info().rss)
        time.sleep(SAMPLE_SECONDS)
    rss_end = controller.ps.memory_info().rss
    cpu = controller.cpu_seconds() - cpu_before
    try:
        summaries = [emulator_summary(shard) for shard in shards]
    except RuntimeError:
        _stop_and_wait(controller)
        raise
    stats = _stop_and_wait(controller)
    controller.log.seek(0)
    warnings = [line for line in controller.log.read().decode(errors="replace").splitlines() if "WARNING" in line
                or "ERROR" in line or "Error" in line]  # fmt: skip
    merged = _merge(summaries, seconds)
    after = _call_rows(database)
    added = {disposition: count - before.get(disposition, 0) for disposition, count in after.items()}
    records = sum(added.values())
    result = {
        "database": safe_url(database),
        "minutes": minutes,
        "rate": rate,
        **merged,
        "failed_records": sum(added.get(d, 0) for d in ("failed", "dropped", "interrupted")),
        "call_records": records,
        "records_missing": max(merged["placed"] - records, 0),
        "refused": stats.get("refused", 0),
        "records_in_progress": added.get(IN_PROGRESS, 0),
        "rss_start_mb": round(rss_start / 2**20, 1),
        "rss_end_mb": round(rss_end / 2**20, 1),
        "peak_rss_mb": round(peak_rss / 2**20, 1),
        "loop_lag_p99_ms": round(stats.get("loop_lag_p99_ms", 0.0), 2),
        "controller_cores": round(cpu / max(seconds, 1e-9), 2),
        "controller_warnings": len(warnings),
        "controller_last_warnings": warnings[-3:],
    }
    result["text"] = format_soak(result)
    return result


ROWS = [
    ("calls placed", "placed"),
    ("completed", "completed"),
    ("failed or unfinished (switch)", "failed"),
    ("records failed, dropped, interrupted", "failed_records"),
    ("call records written", "call_records"),
    ("calls without a record", "records_missing"),
    ("of them refused (over esl.max_calls)", "refused"),
    ("records left in progress", "records_in_progress"),
    ("offered calls/s", "offered_cps"),
    ("RSS MB at start", "rss_start_mb"),
    ("RSS MB at end", "rss_end_mb"),
    ("peak RSS MB", "peak_rss_mb"),
    ("event-loop lag p99 ms", "loop_lag_p99_ms"),
    ("reaction p99 ms (worst emulator)", "reaction_p99_ms"),
    ("controller CPU, cores", "controller_cores"),
    ("controller log lines: warnings, errors", "controller_warnings"),
]


def format_soak(result: dict) -> str:
    width = 36
    lines = [f"soak: {result['rate']:g} calls/s for {result['minutes']:g} min, records in {result['database']}"]
    lines += [f"{label:<{width}} {result[key]:>12}" for label, key in ROWS]
    lines += [f"  {line[:160]}" for line in result["controller_last_warnings"]]
    return "\n".join(lines)
