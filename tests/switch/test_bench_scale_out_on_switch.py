"""`ccctl bench scale-out` at its smallest (one step of 2 calls/s for 3 s), so the bench cannot rot: both
topologies start with the switches' sessions-per-second raised, every call is placed and recorded, and
Kamailio's calls land on both switches."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from switch_site import CCCTL, FREESWITCH_HOME, LANE, RTP_SLICE
from test_sip_front_on_switch import KAMAILIO

pytestmark = pytest.mark.skipif(
    not Path(KAMAILIO).exists(), reason="Kamailio not installed (scripts/install.sh --test)"
)


def test_the_scale_out_bench_runs_both_topologies_at_a_tiny_size(tmp_path):
    rtp = f"{16384 + LANE * RTP_SLICE}-{16384 + (LANE + 1) * RTP_SLICE - 1}"  # this lane's RTP ports
    args = ["bench", "scale-out", "--rates", "2", "--step-seconds", "3", "--rtp-ports", rtp, "--json"]
    args += ["--freeswitch-home", str(FREESWITCH_HOME)]
    done = subprocess.run([*CCCTL, *args], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout)
    single, scaled = result["topologies"]
    # the default limit is far above the rates, and each switch's own `status` says it took it
    assert result["sessions_per_second"] == 1000
    assert single["switch_sessions_per_second"] == {"fs-a": 1000}
    assert scaled["switch_sessions_per_second"] == {"fs-a": 1000, "fs-b": 1000}
    for topology in (single, scaled):
        step = topology["steps"][0]
        assert (step["placed"], step["failures"], step["completed_records"]) == (6, 0, 6), step
        assert topology["highest_rate_without_failure"] == 2
    assert single["steps"][0]["calls_per_node"] == {"fs-a": 6}
    # Kamailio spread the calls over both switches, and each switch's calls ran on the controller beside it
    spread = scaled["steps"][0]["calls_per_node"]
    assert set(spread) == {"fs-a", "fs-b"} and sum(spread.values()) == 6, spread
    assert scaled["calls_per_controller"] == spread
    assert set(scaled["steps"][0]["cpu_percent_of_a_core"]) == {
        "switch fs-a",
        "switch fs-b",
        "controller fs-a",
        "controller fs-b",
    }


def test_the_bench_says_in_one_line_when_freeswitch_is_missing(tmp_path):
    done = subprocess.run(
        [*CCCTL, "bench", "scale-out", "--freeswitch-home", str(tmp_path)], capture_output=True, text=True
    )
    assert (done.returncode, done.stderr) == (
        1,
        f"ccctl: bench scale-out: no FreeSWITCH at {tmp_path}/bin/freeswitch (--freeswitch-home)\n",
    )
