"""Load generation: Poisson traffic through the emulator, and the command-line runner."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

from ccctl.sim.callers import CallerScript, random_script
from ccctl.sim.dialplan import Dialplan
from ccctl.sim.switch import Switch

IVR_ONLY = """<include><context name="default"><extension name="ivr">
  <condition field="destination_number" expression="^7000$">
    <action application="answer"/>
    <action application="play_and_get_digits" data="1 1 2 3000 # say:Choose say:Invalid choice \\d"/>
    <action application="playback" data="say:Goodbye"/>
  </condition></extension></context></include>"""


def test_drive_runs_every_call_to_its_end_and_counts_outcomes():
    switch = Switch(Dialplan.from_xml(IVR_ONLY), time_factor=200, seed=7)
    summary = switch.drive(rate=400, calls=60, profile=lambda rng: random_script(rng, "7000"))
    assert (summary.placed, summary.completed + summary.failed, summary.unfinished) == (60, 60, 0)
    assert summary.failed == 0
    assert sum(summary.hung_up_by.values()) == 60
    assert switch.statistics() == {"started": 60, "completed": 60, "failed": 0, "active": 0}


def test_many_concurrent_calls_in_one_process():
    switch = Switch(Dialplan.from_xml(IVR_ONLY), time_factor=20)
    handles = [switch.place_call(CallerScript(caller=f"1380000{i:04d}", keys=["1"])) for i in range(500)]
    assert switch.active == 500
    outcomes = [h.wait(30) for h in handles]
    assert all(o is not None and o.answered and o.hung_up_by == "dialplan" for o in outcomes)


def test_command_line_reports_calls_the_controller_never_took():
    free = socket.socket()
    free.bind(("127.0.0.1", 0))
    port = free.getsockname()[1]
    free.close()  # nobody listens there: every socket application fails
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "ccctl.sim",
            "--controller",
            f"127.0.0.1:{port}",
            "--esl-port",
            "0",
            "--rate",
            "100",
            "--calls",
            "3",
            "--time-factor",
            "100",
            "--seed",
            "1",
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    assert (report["placed"], report["failed"]) == (3, 3)
    assert {f["reason"] for f in report["failures"]} == {f"could not connect to the controller at 127.0.0.1:{port}"}
