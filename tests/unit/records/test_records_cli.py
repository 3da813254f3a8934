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

    result = run(empty_db_url, "calls", "list", "--from", "2026-11-24T00:00Z", "--json")
    assert [row["uuid"][:8] for row in json.loads(result.output)] == ["00000003"]

    result = run(empty_db_url, "calls", "list", "--to", "2026-11-23T08:02Z", "--limit", "5", "--json")
    assert [row["uuid"][:8] for row in json.loads(result.output)] == ["00000001"]


def _uuids(result) -> list[str]:
    assert result.exit_code == 0, result.output
    return [row["uuid"][:8] for row in json.loads(result.stdout)]


def test_from_and_to_take_a_local_date_or_a_time_with_its_offset(sqlite_url, run, local_zone_utc_plus_2):
    store = CallStore(sqlite_url)  # calls 1 and 2 on Monday 08:01 and 08:02 UTC, call 3 a day later
    store.save_many([call_record(1), call_record(2), call_record(3, at=MONDAY_8AM_UTC + 86400)])
    store.close()

    # a date is local midnight (UTC+2 here: Monday 22:00 UTC), --to a date is that whole local day
    assert _uuids(run(sqlite_url, "calls", "list", "--from", "2026-11-24", "--json")) == ["00000003"]
    assert _uuids(run(sqlite_url, "calls", "list", "--to", "2026-11-23", "--json")) == ["00000002", "00000001"]
    # a time with an offset is that instant: 09:01:30+01:00 is 08:01:30 UTC; --to is not included
    both = ("--from", "2026-11-23T09:01:30+01:00", "--to", "2026-11-23T10:03+02:00")
    assert _uuids(run(sqlite_url, "calls", "list", *both, "--json")) == ["00000002"]
    # a time without one is local: 10:02 here is 08:02 UTC
    assert _uuids(run(sqlite_url, "calls", "list", "--from", "2026-11-23T10:02", "--json")) == ["00000003", "00000002"]

    # the old names still work, with a note on stderr, and are no longer in --help
    old = run(sqlite_url, "calls", "list", "--since", "2026-11-24", "--json")
    assert _uuids(old) == ["00000003"]
    assert old.stderr == "ccctl: --since is deprecated: use --from\n"
    helped = run(sqlite_url, "calls", "list", "--help").output
    assert "--from DATE|TIME" in helped and "--to DATE|TIME" in helped and "--since" not in helped


def test_a_bad_date_is_one_line_naming_the_option(sqlite_url, run):
    result = run(sqlite_url, "calls", "list", "--from", "2026-13-01")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == ("ccctl: --from: '2026-13-01' is not a date or time (use 2026-11-23 or 2026-11-23T08:00)\n")
    result = run(sqlite_url, "calls", "list", "--to", "tomorrow")
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr.startswith("ccctl: --to: 'tomorrow' is not a date or time")
    result = run(sqlite_url, "calls", "list", "--from", "2026-11-24", "--to", "2026-11-23T12:00")
    assert result.stderr == "ccctl: --to 2026-11-23T12:00 is not after --from 2026-11-24\n"


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
