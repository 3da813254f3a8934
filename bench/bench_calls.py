"""`ccctl bench calls`: ccctl's controller against greenswitch's, driven by the same emulator, in one run.

Each controller runs in its own process; the FreeSWITCH emulator (python -m ccctl.sim) runs in
another and measures, identically for both, how long the controller takes to send its next
command after each CHANNEL_EXECUTE_COMPLETE. Phase 1 offers Poisson traffic at `rate` for
`seconds`; phase 2 holds `concurrent` calls up at once and reads the controller's memory.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
CONTROLLERS = {
    "ccctl": ROOT / "bench" / "ccctl_app.py",
    "greenswitch": ROOT / "bench" / "greenswitch_app.py",
}
SAMPLE_SECONDS = 0.25
HOLD_TIME_FACTOR = 0.05  # prompts play 20x slower: calls stay up while the hold phase counts them


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_listening(port: int, proc: subprocess.Popen, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"controller exited with {proc.returncode} before listening")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"controller not listening on {port} after {seconds:g} s")


class ControllerProcess:
    """One controller under test: started, sampled with psutil, stopped with SIGTERM for its stats."""

    def __init__(self, name: str, extra_args: list[str] | None = None) -> None:
        self.name = name
        self.port = _free_port()
        self.stats_file = Path(tempfile.mkstemp(prefix=f"bench-{name}-", suffix=".json")[1])
        command = [
            sys.executable,
            str(CONTROLLERS[name]),
            "--port",
            str(self.port),
            "--stats-file",
            str(self.stats_file),
            *(extra_args or []),
        ]
        # a file, not a pipe nobody reads: a controller logging more than a pipe holds would block
        self.log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=self.log)
        _wait_listening(self.port, self.proc)
        self.ps = psutil.Process(self.proc.pid)
        time.sleep(0.5)
        self.baseline_rss = self.ps.memory_info().rss

    def cpu_seconds(self) -> float:
        times = self.ps.cpu_times()
        return times.user + times.system

    def connections(self) -> int:
        return sum(1 for c in self.ps.net_connections("tcp") if c.laddr.port == self.port and c.raddr)

    def stop(self) -> dict:
        self.proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and not self.stats_file.stat().st_size:
            time.sleep(0.05)
        self.proc.kill()
        self.proc.wait()
        text = self.stats_file.read_text()
        self.stats_file.unlink()
        return json.loads(text) if text else {}


def _emulator(port: int, args: list[str]) -> subprocess.Popen:
    command = [sys.executable, "-m", "ccctl.sim", "--controller", f"127.0.0.1:{port}", "--esl-port", "0"]
    command += ["--did", "7000", "--json", *args]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    # files, not pipes read only at the end: a summary listing many failed calls, or warnings about
    # them, would fill a pipe and the emulator would stall writing it
    out, log = tempfile.TemporaryFile(mode="w+"), tempfile.TemporaryFile(mode="w+")
    proc = subprocess.Popen(command, cwd=ROOT, stdout=out, stderr=log, env=env, text=True)
    proc.files = (out, log)  # type: ignore[attr-defined]
    return proc


def emulator_summary(shard: subprocess.Popen) -> dict:
    """The emulator's JSON summary (it has ended), or RuntimeError with the end of what it logged."""
    shard.wait()
    out, log = shard.files
    out.seek(0)
    try:
        return json.loads(out.read())
    except json.JSONDecodeError:
        log.seek(0)
        raise RuntimeError(f"emulator gave no summary: {log.read().strip()[-300:]}") from None


def _merge(summaries: list[dict], seconds: float) -> dict:
    """One view of several emulator shards: counts add up, the reaction p99 is the worst shard's."""
    placed = sum(s["placed"] for s in summaries)
    return {
        "placed": placed,
        "completed": sum(s["completed"] for s in summaries),
        "failed": sum(s["failed"] + s["unfinished"] for s in summaries),
        "offered_cps": round(placed / seconds, 1),
        "peak_active": sum(s["peak_active"] for s in summaries),
        "reaction_p50_ms": statistics.median(s["controller_reaction_ms"]["p50"] for s in summaries),
        "reaction_p99_ms": max(s["controller_reaction_ms"]["p99"] for s in summaries),
    }


def sustained(name: str, rate: float, seconds: float, time_factor: float, emulators: int) -> dict:
    """Poisson arrivals at `rate` for `seconds` from `emulators` processes: completion, reaction, lag, CPU."""
    controller = ControllerProcess(name)
    cpu_before = controller.cpu_seconds()
    args = ["--rate", str(rate / emulators), "--seconds", str(seconds), "--time-factor", str(time_factor)]
    shards = [_emulator(controller.port, [*args, "--seed", str(index + 1)]) for index in range(emulators)]
    peak_rss = controller.baseline_rss
    while any(shard.poll() is None for shard in shards):
        peak_rss = max(peak_rss, controller.ps.memory_info().rss)
        time.sleep(SAMPLE_SECONDS)
    cpu = controller.cpu_seconds() - cpu_before
    try:
        summaries = [emulator_summary(shard) for shard in shards]
    except RuntimeError:
        controller.stop()
        raise
    stats = controller.stop()
    merged = _merge(summaries, seconds)
    return {
        **merged,
        "loop_lag_p99_ms": round(stats.get("loop_lag_p99_ms", 0.0), 2),
        "cpu_ms_per_call": round(cpu * 1000 / max(merged["placed"], 1), 2),
        "controller_cores": round(cpu / max(seconds, 1e-9), 2),
        "peak_rss_mb": round(peak_rss / 2**20, 1),
        "controller": stats,
    }


def hold(name: str, concurrent: int) -> dict:
    """`concurrent` calls up at once (slow prompts): resident memory per call."""
    controller = ControllerProcess(name)
    ramp = max(concurrent / 200.0, 1.0)
    emulator = _emulator(
        controller.port,
        [
            "--rate",
            str(concurrent / ramp),
            "--calls",
            str(concurrent),
            "--time-factor",
            str(HOLD_TIME_FACTOR),
            "--seed",
            "1",
        ],
    )
    up, rss, deadline = 0, controller.baseline_rss, time.monotonic() + ramp + 60
    while emulator.poll() is None and time.monotonic() < deadline:
        up = controller.connections()
        rss = controller.ps.memory_info().rss
        if up >= concurrent:
            break
        time.sleep(SAMPLE_SECONDS)
    emulator.kill()
    emulator.communicate()
    stats = controller.stop()
    per_call = (rss - controller.baseline_rss) / up if up else 0.0
    return {
        "calls_up": up,
        "rss_mb": round(rss / 2**20, 1),
        "kb_per_call": round(per_call / 1024, 1),
        "loop_lag_p99_ms": round(stats.get("loop_lag_p99_ms", 0.0), 2),
    }


def run(
    rate: float = 250.0, seconds: float = 20.0, concurrent: int = 1000, time_factor: float = 20.0, emulators: int = 2
) -> dict:
    results = {}
    for name in CONTROLLERS:
        results[name] = {
            "sustained": sustained(name, rate, seconds, time_factor, emulators),
            "hold": hold(name, concurrent),
        }
    from bench import event_parse

    results["event_parse"] = event_parse.run()
    return results
