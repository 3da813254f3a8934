"""An after-hours caller asks the shipped main flow to be called back (`ccctl flow simulate`): the callback is
on the worklist with the hotline's next opening and its deadline, and no router dials it while closed."""

from __future__ import annotations

import datetime as dt
import json

from test_flow_cli import ccctl, write_config

from ccctl.acd.agents import add_agent, add_queue, parse_skills, set_status
from ccctl.acd.engine import AcdEngine
from ccctl.config import AcdSettings
from ccctl.records.migrate import upgrade

SUNDAY_NIGHT = "2026-11-29T23:00"  # closed until Monday 08:00: nine hours


def test_an_after_hours_caller_presses_1_and_waits_on_the_worklist_until_opening(tmp_path):
    config = write_config(tmp_path)
    url = f"sqlite:///{tmp_path / 'ccctl.db'}"
    upgrade(url)
    add_queue(url, "operator", "longest-idle-agent", {"operator": 1}, {})
    add_agent(url, "olga", "1001", parse_skills("operator"))
    set_status(url, "olga", "Available")
    # English, "call me back", confirm the number calling, then a short message
    run = ccctl(config, "flow", "simulate", "main", "--keys", "1,1,1", "--at", SUNDAY_NIGHT, "--json")
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    assert result["path"][-3:] == ["after_hours_callback", "after_hours_callback:filed", "goodbye"]
    assert {"kind": "tts", "text": "Thank you. Your call back is booked and one of our staff will call you."} in (
        result["prompts"]
    )

    listed = ccctl(config, "callbacks", "list", "--json")
    (row,) = json.loads(listed.stdout)
    assert (row["queue"], row["state"], row["number"], row["overdue"]) == ("operator", "pending", "********001", False)
    asked, opening, due = (dt.datetime.fromisoformat(row[key]) for key in ("requested_at", "not_before", "due"))
    # the flow's time to Monday 08:00 from its clock when the caller confirmed (the call took a minute at most)
    assert dt.timedelta(hours=8, minutes=59) <= opening - asked <= dt.timedelta(hours=9)
    assert due - opening == dt.timedelta(hours=4)  # callbacks.deadline_hours
    assert "OVERDUE" not in ccctl(config, "callbacks", "list").stdout

    now = [opening - dt.timedelta(minutes=1)]
    acd = AcdEngine(url, AcdSettings(), clock=lambda: now[0])
    try:
        assert acd.route_once() == []  # closed: olga is free, yet the patient is not called
        now[0] = opening + dt.timedelta(minutes=1)
        assert [a.agents[0].name for a in acd.route_once()] == ["olga"]
    finally:
        acd.stop()
