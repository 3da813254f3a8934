"""Run the whole test suite in parallel lanes: the README's test command and CI's.

The real-switch tier spends most of its time waiting on calls in real time (rings, prompts, timeouts), so
its files run side by side with each other and with the CPU-bound tiers. Each job is one pytest process with
its own temporary folder; a lane number tells the switch tests which slice of RTP and SIPp ports is theirs
(tests/switch/switch_site.py). Plain `python -m pytest` still runs everything in one process.

    .venv/bin/python scripts/run_tests.py [--lanes N] [pytest options...]
"""

from __future__ import annotations

import argparse
import os
import queue
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# the longest jobs first, so no lane is left with one at the end
NON_SWITCH = ["tests/integration", "tests/unit", "tests/browser"]
SUMMARY = re.compile(r"^=+ (.*(passed|failed|skipped|error|deselected|no tests ran).*) =+$", re.MULTILINE)


def jobs() -> list[list[str]]:
    switch_files = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "tests" / "switch").glob("test_*.py"))
    return [*([tier] for tier in NON_SWITCH), *([path] for path in switch_files)]


def run_lane(lane: int, lanes: int, work: queue.Queue, extra: list[str], scratch: Path, results: list) -> None:
    # not CCCTL_*: ccctl reads every CCCTL_ variable as a setting
    env = {**os.environ, "CC_TEST_LANE": str(lane), "CC_TEST_LANES": str(lanes)}
    while True:
        try:
            number, paths = work.get_nowait()
        except queue.Empty:
            return
        basetemp = scratch / f"job-{number}"
        started = time.monotonic()
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "--basetemp", str(basetemp), *extra, *paths],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
        )
        output = result.stdout + result.stderr
        found = SUMMARY.findall(output)
        summary = found[-1][0] if found else f"exit {result.returncode}"
        line = f"[lane {lane}] {' '.join(paths)}: {summary} ({time.monotonic() - started:.0f} s)"
        print(line, flush=True)
        results.append((paths, result.returncode, output))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lanes", type=int, default=4, help="pytest processes at once (default 4)")
    args, extra = parser.parse_known_args()
    work: queue.Queue = queue.Queue()
    for number, paths in enumerate(jobs()):
        work.put((number, paths))
    results: list = []
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="ccctl-tests-") as scratch:
        threads = [
            threading.Thread(target=run_lane, args=(lane, args.lanes, work, extra, Path(scratch), results))
            for lane in range(args.lanes)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    # pytest exits 5 when a job collected nothing (a tier whose tests were all deselected): not a failure
    failed = [(paths, output) for paths, code, output in results if code not in (0, 5)]
    for paths, output in failed:
        print(f"\n{'=' * 30} {' '.join(paths)} {'=' * 30}\n{output[-20000:]}", flush=True)
    # what was skipped and why (pytest -ra), once per reason: a clone without the switch says so here
    skipped = sorted({line for _, _, output in results for line in output.splitlines() if line.startswith("SKIPPED")})
    if skipped:
        print("\n" + "\n".join(skipped), flush=True)
    total = time.monotonic() - started
    counts: dict[str, int] = {}
    for _, _, output in results:
        found = SUMMARY.findall(output)
        for count, word in re.findall(
            r"(\d+) (passed|failed|skipped|deselected|xfailed|xpassed|errors?)", found[-1][0] if found else ""
        ):
            counts[word] = counts.get(word, 0) + int(count)
    figures = ", ".join(f"{n} {word}" for word, n in sorted(counts.items()))
    print(f"\n{len(results)} jobs in {args.lanes} lanes: {figures or 'nothing ran'} in {total:.0f} s", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
