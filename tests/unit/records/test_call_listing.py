"""list_calls / format_calls: filters, newest first, local times in, UTC out, one-line errors."""

from datetime import UTC, datetime

import pytest
from db_fixtures import MONDAY_8AM_UTC, call_record

from ccctl.records.call_listing import ListError, format_calls, list_calls, parse_time
from ccctl.records.call_store import CallStore

HOUR = 3600.0


@pytest.fixture
def calls_url(db_url):
    """Five calls: 06:00, 07:30, 08:00 (abandoned), 09:00 on `pediatrics`, and Tuesday 10:00 UTC."""
    store = CallStore(db_url)
    store.save_many(
        [
            call_record(1, at=MONDAY_8AM_UTC - 2 * HOUR),
            call_record(2, at=MONDAY_8AM_UTC - 0.5 * HOUR),
            call_record(3, at=MONDAY_8AM_UTC, disposition="abandoned", answered_at=None),
            call_record(4, at=MONDAY_8AM_UTC + HOUR, hotline="pediatrics", node="fs-b"),
            call_record(5, at=MONDAY_8AM_UTC + 26 * HOUR, path=[]),
        ]
    )
    store.close()
    return db_url


def numbers(rows: list[dict]) -> list[int]:
    return [int(row["uuid"][:8]) for row in rows]


def test_newest_first_with_every_field(calls_url):
    rows = list_calls(calls_url)
    assert numbers(rows) == [5, 4, 3, 2, 1]
    assert rows[1] == {
        "uuid": "00000004-0000-4000-8000-000000000000",
        "hotline": "pediatrics",
        "caller_number": "+33612340004",
        "destination": "7000",
        "started_at": "2026-11-23T09:00:00+00:00",
        "answered_at": "2026-11-23T09:00:01+00:00",
        "ended_at": "2026-11-23T09:01:05.500000+00:00",
        "duration_seconds": 65.5,
        "disposition": "completed",
        "hangup_cause": "NORMAL_CLEARING",
        "path": ["answer", "welcome", "menu:1"],
        "patient_id": None,
        "error": "",
        "node": "fs-b",
    }


def test_filters_combine(calls_url):
    assert numbers(list_calls(calls_url, hotline="pediatrics")) == [4]
    assert numbers(list_calls(calls_url, disposition="abandoned")) == [3]
    assert numbers(list_calls(calls_url, hotline="main", disposition="completed")) == [5, 2, 1]
    assert numbers(list_calls(calls_url, limit=2)) == [5, 4]


def test_since_and_until_with_explicit_zones(calls_url):
    assert numbers(list_calls(calls_url, since="2026-11-23T07:30Z", until="2026-11-23T09:00+00:00")) == [3, 2]
    # the same instants written in UTC+2
    assert numbers(list_calls(calls_url, since="2026-11-23T09:30+02:00", until="2026-11-23T11:00+02:00")) == [3, 2]
    assert numbers(list_calls(calls_url, since=datetime(2026, 11, 24, tzinfo=UTC))) == [5]


def test_times_without_zone_are_local(calls_url, local_zone_utc_plus_2):
    # 10:00 local is 08:00 UTC
    assert numbers(list_calls(calls_url, since="2026-11-23T10:00")) == [5, 4, 3]
    # a bare --until date includes that whole (local) day
    assert numbers(list_calls(calls_url, since="2026-11-23", until="2026-11-23")) == [4, 3, 2, 1]
    assert numbers(list_calls(calls_url, until="2026-11-22")) == []


@pytest.mark.parametrize(("argument", "option"), [("since", "--from"), ("until", "--to")])
@pytest.mark.parametrize("value", ["2026-13-01", "yesterday", "2026-11-23T25:00"])
def test_bad_time_names_the_option_and_value(argument, option, value, sqlite_url):
    with pytest.raises(ListError) as err:
        list_calls(sqlite_url, **{argument: value})
    assert str(err.value).startswith(f"{option}: '{value}' is not a date or time (use 2026-11-23")


def test_parse_time_of_a_bare_date_is_local_midnight(local_zone_utc_plus_2):
    assert parse_time("--since", "2026-11-23") == datetime(2026, 11, 22, 22, 0, tzinfo=UTC)
    assert parse_time("--until", "2026-11-23", end_of_day=True) == datetime(2026, 11, 23, 22, 0, tzinfo=UTC)
    assert parse_time("--since", None) is None


def test_bad_limit(sqlite_url):
    with pytest.raises(ListError, match=r"^--limit: must be between 1 and 10000, got 0$"):
        list_calls(sqlite_url, limit=0)


def test_missing_sqlite_file_is_not_created(tmp_path):
    url = f"sqlite:///{tmp_path / 'var' / 'ccctl.db'}"
    with pytest.raises(ListError) as err:
        list_calls(url)
    assert str(err.value) == f"database {url}: no such file {tmp_path}/var/ccctl.db (run `ccctl db upgrade` first)"
    assert not (tmp_path / "var").exists()


def test_database_without_schema_says_to_upgrade(empty_postgres_url):
    with pytest.raises(ListError) as err:
        list_calls(empty_postgres_url)
    assert str(err.value).endswith('relation "calls" does not exist (run `ccctl db upgrade` first)')


def test_table_is_aligned_with_local_times(calls_url, local_zone_utc_plus_2):
    table = format_calls(list_calls(calls_url, limit=3)).splitlines()
    assert table == [
        "UUID      STARTED              HOTLINE     CALLER        DISPOSITION  DURATION  PATH",
        "00000005  2026-11-24 12:00:00  main        +33612340005  completed    1:06",
        "00000004  2026-11-23 11:00:00  pediatrics  +33612340004  completed    1:06      answer > welcome > menu:1",
        "00000003  2026-11-23 10:00:00  main        +33612340003  abandoned    1:06      answer > welcome > menu:1",
    ]


def test_table_shortens_long_paths_and_shows_unknown_durations():
    row = {
        "uuid": "abcdef12-3456",
        "started_at": "2026-11-23T08:00:00+00:00",
        "hotline": "main",
        "caller_number": "+331",
        "disposition": "failed",
        "duration_seconds": None,
        "path": [f"step{n}" for n in range(30)],
    }
    (line,) = format_calls([row]).splitlines()[1:]
    assert " -  " in line
    # cut to 60 characters, the … saying there is more (--json has it whole)
    assert line.endswith("  step0 > step1 > step2 > step3 > step4 > step5 > step6 > ste…")


def test_hours_long_call_duration():
    row = {
        "uuid": "abcdef12",
        "started_at": "2026-11-23T08:00:00+00:00",
        "hotline": "main",
        "caller_number": "+331",
        "disposition": "completed",
        "duration_seconds": 3725.4,
        "path": [],
    }
    assert "1:02:05" in format_calls([row])


def test_no_calls():
    assert format_calls([]) == "no calls"
