"""One convention across the command line: --json on list and show commands, one table style, one way to
write a period (--from/--to, local time unless an offset is given)."""

from __future__ import annotations

import json

import click

from ccctl.cli import main

# list and show commands whose text comes from a package that does not hand the CLI its rows yet
WITHOUT_JSON_YET = {"tickets list", "tickets show", "inbox show", "users list", "flow show"}


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
    assert without == WITHOUT_JSON_YET


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
