"""`ccctl bench soak` on a tiny load: every call placed has its record in the database, none left in progress."""

from __future__ import annotations

import json
import subprocess
import sys


def test_bench_soak_writes_a_record_for_every_call(sqlite_url, tmp_path):
    command = [sys.executable, "-m", "ccctl.cli", "bench", "soak", "--minutes", "0.05", "--rate", "20"]
    run = subprocess.run(
        [*command, "--database", sqlite_url, "--json"], capture_output=True, text=True, timeout=180, cwd=tmp_path
    )
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    assert result["placed"] > 20 and result["failed"] == 0 and result["failed_records"] == 0
    assert result["call_records"] == result["placed"]
    assert result["records_missing"] == 0 and result["records_in_progress"] == 0
    assert result["rss_start_mb"] > 0 and result["rss_end_mb"] > 0 and result["loop_lag_p99_ms"] > 0
    assert "calls without a record" in result["text"]
