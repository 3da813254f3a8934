"""One convention across the command line: --json on list and show commands, one table style, one way to
write a period (--from/--to, local time unless an offset is given)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from ccctl.cli import main

SHIPPED_FLOWS = Path(__file__).parents[3] / "ivr_flows"


def commands(group: click.Group, prefix: str = ""):
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            yield from commands(command, f"{prefix}{name} ")
        else:
            yield f"{prefix}{name}", command


def test_every_list_and_show_command_has_json():
    shown = {name: command for name, command in commands(main) if name.split()[-1] in ("list", "show", "status")}
    assert {"agents status", "queues list", "fax list", "fax status", "recordings list"} <= set(shown)
    without = {name for name, command in shown.items() if not any("--json" in p.opts for p in command.params)}
    assert without == set()


def test_tables_have_full_word_headers(ccctl):
    assert ccctl("agents", "status").output == "no agents (ccctl agents add)\n"
    ccctl("agents", "add", "ann", "--extension", "1001", "--skills", "cardio:4")
    ccctl("queues", "add", "cardio", "--skills", "cardio:2")
    assert ccctl("agents", "status").output.splitlines()[0].split() == [
        "NAME",
        "EXTENSION",
        "STATUS",
        "STATE",
        "SKILLS",
        "NODE",
    ]
    assert ccctl("queues", "list").output.splitlines()[0].split() == ["NAME", "STRATEGY", "SKILLS"]
    assert json.loads(ccctl("queues", "list", "--json").output)[0]["name"] == "cardio"
    assert json.loads(ccctl("queues", "show", "cardio", "--json").output)["skills"] == {"cardio": 2}


def test_periods_are_written_one_way_everywhere(ccctl):
    for command in (["report", "kpi"], ["tickets", "report"], ["recordings", "list"]):
        result = ccctl(*command, "--from", "last week")
        assert result.exit_code == 1, command
        assert result.output.startswith("ccctl: --from: 'last week' is not a date or time"), command
    result = ccctl("tickets", "report", "--from", "2026-11-24", "--to", "2026-11-23")
    assert (result.exit_code, result.output) == (1, "ccctl: --to 2026-11-23 is not after --from 2026-11-24\n")
    assert ccctl("tickets", "report", "--from", "2026-11-23T08:00+01:00", "--json").exit_code == 0


def test_tickets_inbox_users_and_flows_print_json_and_reads_stay_audited(ccctl, sqlite_url):
    from sqlalchemy import select

    from ccctl.channels.inbox import IncomingMessage, receive
    from ccctl.records.database import in_transaction
    from ccctl.records.models.audit import AuditEntry
    from ccctl.web import user_commands

    assert ccctl("patients", "add", "--code", "P000001", "--given", "Ann", "--phone", "+48601000001").exit_code == 0
    ccctl("tickets", "add", "--category", "complaint", "--text", "Too long a wait", "--patient", "P000001")
    (row,) = json.loads(ccctl("tickets", "list", "--json").output)
    assert (row["id"], row["state"], row["patient"], row["overdue"]) == (1, "new", "P000001", False)
    shown = json.loads(ccctl("tickets", "show", "1", "--json", "--as", "maria").output)
    assert (shown["description"], shown["history"][0]["action"]) == ("Too long a wait", "opened")

    message = IncomingMessage("sms", "+48601000001", body="Please call me P000001")
    item_id = in_transaction(sqlite_url, RuntimeError, lambda session: receive(session, message))
    item = json.loads(ccctl("inbox", "show", str(item_id), "--json", "--as", "maria").output)
    assert (item["patient"], item["channel"], item["body"]) == ("P000001", "sms", "Please call me P000001")

    audited = in_transaction(
        sqlite_url,
        RuntimeError,
        lambda s: s.scalars(select(AuditEntry.action).where(AuditEntry.actor == "maria")).all(),
    )
    assert sorted(audited) == ["inbox show", "ticket show"]

    user_commands.add(sqlite_url, "ann", "supervisor", "Correct horse battery 9", "", "en")
    assert json.loads(ccctl("users", "list", "--json").output) == [
        {"name": "ann", "role": "supervisor", "agent": "", "language": "en", "disabled": False}
    ]

    flows = json.loads(ccctl("flow", "show", "main", "--json", "--flows-dir", str(SHIPPED_FLOWS)).output)
    assert flows[0]["name"] == "main" and not flows[0]["sub_flow"]
    start = flows[0]["nodes"][0]
    assert start["exits"] and all(isinstance(target, str) for target in start["exits"].values())


def test_at_takes_a_time_as_from_does_and_hands_on_local_time(ccctl, monkeypatch):
    import time

    from ccctl.cli.common import LocalTime

    monkeypatch.setenv("TZ", "XXX-2")  # local time is UTC+2 (POSIX TZ, no tz database needed)
    time.tzset()
    try:
        option = click.Option(["--at"])
        assert LocalTime().convert("2026-11-29T23:00+01:00", option, None).isoformat() == "2026-11-30T00:00:00"
        assert LocalTime().convert("2026-11-29T23:00", option, None).isoformat() == "2026-11-29T23:00:00"
    finally:
        monkeypatch.undo()
        time.tzset()
    result = ccctl("flow", "simulate", "main", "--scratch", "--at", "tonight")
    assert (result.exit_code, result.output) == (
        1,
        "ccctl: --at: 'tonight' is not a date or time (use 2026-11-23 or 2026-11-23T08:00)\n",
    )
