"""`ccctl db upgrade` and `ccctl calls list` end to end through the click CLI."""

import json

import pytest
from click.testing import CliRunner
from db_fixtures import MONDAY_8AM_UTC, call_record

from ccctl.cli import main
from ccctl.records.call_store import CallStore


@pytest.fixture
def run(tmp_path, monkeypatch):
    """Run `ccctl -c <settings with this database> ARGS...`; returns click's Result."""
    for name in ("CCCTL_CONFIG", "CCCTL_DATABASE__URL"):
        monkeypatch.delenv(name, raising=False)

    def run_ccctl(url: str, *args: str):
        settings = tmp_path / "ccctl.yaml"
        settings.write_text(f"database:\n  url: {url}\n")
        return CliRunner().invoke(main, ["-c", str(settings), *args])

    return run_ccctl


def test_upgrade_then_save_then_list(empty_db_url, run, local_zone_utc_plus_2):
    result = run(empty_db_url, "db", "upgrade")
    assert (result.exit_code, result.output) == (0, "database at revision head\n")

    store = CallStore(empty_db_url)
    store.save_many(
        [
            call_record(1),
            call_record(2, hotline="pediatrics", disposition="abandoned", answered_at=None),
            call_record(3, at=MONDAY_8AM_UTC + 86400),
        ]
    )
    store.close()

    result = run(empty_db_url, "calls", "list", "--json")
    assert result.exit_code == 0
    rows = json.loads(result.output)
    assert [row["uuid"][:8] for row in rows] == ["00000003", "00000002", "00000001"]
    assert rows[2]["started_at"] == "2026-11-23T08:01:00+00:00"
    assert rows[2]["path"] == ["answer", "welcome", "menu:1"]

    result = run(empty_db_url, "calls", "list")
    lines = result.output.splitlines()
    assert result.exit_code == 0 and len(lines) == 4
    assert lines[0].split() == ["UUID", "STARTED", "HOTLINE", "CALLER", "DISPOSITION", "DURATION", "PATH"]
    # local time (UTC+2 here) in the table
    assert lines[2] == (
        "00000002  2026-11-23 10:02:00  pediatrics  +33612340002  abandoned    1:06      answer > welcome > menu:1"
    )

    result = run(empty_db_url, "calls", "list", "--hotline", "pediatrics", "--disposition", "abandoned", "--json")
    assert [row["uuid"][:8] for row in json.loads(result.output)] == ["00000002"]

    result = run(empty_db_url, "calls", "list", "--since", "2026-11-24T00:00Z", "--json")
    assert [row["uuid"][:8] for row in json.loads(result.output)] == ["00000003"]

    result = run(empty_db_url, "calls", "list", "--until", "2026-11-23T08:02Z", "--limit", "5", "--json")
    assert [row["uuid"][:8] for row in json.loads(result.output)] == ["00000001"]


def test_bad_since_is_one_line_and_fails(sqlite_url, run):
    result = run(sqlite_url, "calls", "list", "--since", "2026-13-01")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == (
        "ccctl: --since: '2026-13-01' is not a date or time (use 2026-11-23 or 2026-11-23T08:00)\n"
    )


def test_listing_before_upgrade_says_what_to_do(tmp_path, run):
    url = f"sqlite:///{tmp_path / 'var' / 'ccctl.db'}"
    result = run(url, "calls", "list")
    assert result.exit_code == 1
    assert (
        result.stderr == f"ccctl: database {url}: no such file {tmp_path}/var/ccctl.db (run `ccctl db upgrade` first)\n"
    )


def test_upgrade_of_unreachable_database_is_one_line_and_fails(run):
    result = run("postgresql://cc:s3cret@127.0.0.1:1/cc", "db", "upgrade")
    assert result.exit_code == 1
    assert result.stderr.startswith("ccctl: database postgresql://cc:***@127.0.0.1:1/cc: ")
    assert result.stderr.count("\n") == 1 and "s3cret" not in result.stderr


def test_empty_listing(sqlite_url, run):
    result = run(sqlite_url, "calls", "list")
    assert (result.exit_code, result.output) == (0, "no calls\n")
