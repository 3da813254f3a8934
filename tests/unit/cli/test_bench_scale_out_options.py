"""`ccctl bench scale-out --sessions-per-second`: refused in one line below 1, and the value used is printed
with what each switch's own `status` reported."""

from __future__ import annotations

from click.testing import CliRunner

from ccctl.cli import main
from ccctl.local_site.bench import _bench_module


def test_a_sessions_per_second_below_one_is_refused_naming_the_option(tmp_path):
    result = CliRunner().invoke(
        main, ["bench", "scale-out", "--sessions-per-second", "0", "--freeswitch-home", str(tmp_path)]
    )
    assert (result.exit_code, result.stderr) == (
        1,
        "ccctl: bench scale-out --sessions-per-second: must be at least 1, got 0\n",
    )


def test_the_report_prints_the_sessions_per_second_asked_and_each_switchs_own():
    bench = _bench_module("bench_scale_out")
    topology = {
        "topology": "one switch + one controller",
        "steps": [],
        "highest_rate_without_failure": 0,
        "calls_placed": 0,
        "failures_at_breaking_step": 0,
        "breaking_rate": None,
        "calls_per_controller": {"fs-a": 0},
        "switch_sessions_per_second": {"fs-a": 1000},
    }
    result = {"step_seconds": 3, "rates": [2], "sessions_per_second": 1000, "topologies": [topology]}
    lines = bench.format_result(result).splitlines()
    assert lines[1] == "each switch's sessions-per-second: 1000 (--sessions-per-second)"
    assert "  sessions-per-second (status)   fs-a 1000" in lines
    assert bench.DEFAULT_SESSIONS_PER_SECOND == 1000
