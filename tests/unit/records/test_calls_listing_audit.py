"""`ccctl calls list` (table and JSON) leaves an audit row: who, the filters, how many calls, which patients."""

import json

import pytest
from click.testing import CliRunner
from db_fixtures import call_record
from patient_fixtures import add_patients, member, session_on
from sqlalchemy import select

from ccctl.cli import main
from ccctl.records.audit import default_actor
from ccctl.records.call_listing import ListError, list_calls
from ccctl.records.call_store import CallStore
from ccctl.records.models.audit import AuditEntry


@pytest.fixture
def calls_url(db_url):
    """Calls 1-4 on `main`: 1 and 3 from patient 1, 2 from patient 2, 4 from an unknown caller; 5 on `pediatrics`."""
    add_patients(db_url, member(number="1111", phone="+48111"), member(number="2222", phone="+48222"))
    store = CallStore(db_url)
    store.save_many(
        [
            call_record(1, patient_id=1),
            call_record(2, patient_id=2),
            call_record(3, patient_id=1),
            call_record(4),
            call_record(5, hotline="pediatrics", patient_id=2),
        ]
    )
    store.close()
    return db_url


@pytest.fixture
def ccctl(calls_url, tmp_path, monkeypatch):
    for name in ("CCCTL_CONFIG", "CCCTL_DATABASE__URL"):
        monkeypatch.delenv(name, raising=False)
    settings = tmp_path / "ccctl.yaml"
    settings.write_text(f"database:\n  url: {calls_url}\n")
    return lambda *args: CliRunner().invoke(main, ["-c", str(settings), *args])


def audit_rows(url: str) -> list[tuple]:
    with session_on(url) as session:
        query = select(AuditEntry).order_by(AuditEntry.id)
        return [(e.actor, e.action, e.patient_id, e.source, e.detail) for e in session.scalars(query)]


def calls_rows(url: str) -> list[tuple]:
    return [row for row in audit_rows(url) if row[1] == "calls list"]


def test_json_listing_is_audited_with_the_actor_filter_and_patients(ccctl, calls_url):
    result = ccctl("calls", "list", "--hotline", "main", "--json", "--as", "dr.nowak")
    assert result.exit_code == 0
    rows = json.loads(result.output)
    assert [row["patient_id"] for row in rows] == [None, 1, 2, 1]
    assert calls_rows(calls_url) == [
        ("dr.nowak", "calls list", None, "cli", "hotline main, limit 50: 4 calls, patients 1, 2"),
    ]


def test_table_listing_is_audited_as_the_os_user_by_default(ccctl, calls_url, local_zone_utc_plus_2):
    result = ccctl("calls", "list", "--from", "2026-11-23T08:04Z", "--to", "2026-11-23T08:05Z")
    assert result.exit_code == 0 and len(result.output.splitlines()) == 2  # header and call 4
    assert calls_rows(calls_url) == [
        (
            default_actor(),
            "calls list",
            None,
            "cli",
            "since 2026-11-23T10:04:00+02:00, before 2026-11-23T10:05:00+02:00, limit 50: 1 call, no patients",
        ),
    ]


def test_a_refused_listing_shows_nothing_and_is_not_audited(ccctl, calls_url):
    result = ccctl("calls", "list", "--hotline", "x" * 50_000)
    assert (result.exit_code, result.stderr) == (1, "ccctl: --hotline: longer than 64 characters\n")
    with pytest.raises(ListError, match=r"^--limit: must be between 1 and 10000, got 10001$"):
        list_calls(calls_url, limit=10_001)
    assert calls_rows(calls_url) == []


def test_calls_show_prints_one_call_with_its_node_and_is_audited(db_url, tmp_path, monkeypatch):
    add_patients(db_url, member(number="1111", phone="+48111"))
    store = CallStore(db_url)
    store.save_many([call_record(1, patient_id=1, node="fs-b"), call_record(2)])
    store.close()
    for name in ("CCCTL_CONFIG", "CCCTL_DATABASE__URL"):
        monkeypatch.delenv(name, raising=False)
    settings = tmp_path / "ccctl.yaml"
    settings.write_text(f"database:\n  url: {db_url}\n")
    run = lambda *args: CliRunner().invoke(main, ["-c", str(settings), *args])  # noqa: E731

    shown = run("calls", "show", "00000001", "--as", "dr.nowak")
    assert shown.exit_code == 0, shown.output
    assert "node:             fs-b" in shown.output.splitlines()
    assert "path:             answer > welcome > menu:1" in shown.output
    as_json = json.loads(run("calls", "show", "00000001-0000-4000-8000-000000000000", "--json").output)
    assert (as_json["node"], as_json["patient_id"]) == ("fs-b", 1)
    missing = run("calls", "show", "0000000f")
    assert missing.exit_code != 0 and missing.output.strip().endswith("no call with uuid 0000000f*")
    shows = [row for row in audit_rows(db_url) if row[1] == "calls show"]
    assert shows == [
        ("dr.nowak", "calls show", 1, "cli", "00000001"),
        (default_actor(), "calls show", 1, "cli", "00000001-0000-4000-8000-000000000000"),
    ]
