"""Call records on a real PostgreSQL 15: JSONB, session time zones, concurrent writers, lost connections."""

import gevent
import pytest
from db_fixtures import MONDAY_8AM_UTC, call_record
from sqlalchemy import text

from ccctl.records.call_listing import list_calls
from ccctl.records.call_store import CallStore
from ccctl.records.database import make_engine

pytestmark = pytest.mark.postgres


def scalar(url: str, sql: str):
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return connection.execute(text(sql)).scalar()
    finally:
        engine.dispose()


def test_path_and_custom_fields_are_jsonb(postgres_url):
    store = CallStore(postgres_url)
    store.save(call_record(1, path=["answer", "menu:2"]))
    store.close()
    assert scalar(postgres_url, "SELECT pg_typeof(path)::text FROM calls") == "jsonb"
    assert scalar(postgres_url, "SELECT path->>1 FROM calls") == "menu:2"
    assert scalar(
        postgres_url, "SELECT data_type FROM information_schema.columns WHERE column_name = 'custom_fields'"
    ) == ("jsonb")


def test_session_time_zone_does_not_change_instants(postgres_url):
    # a server or role configured in Tokyo time must not shift what is stored or listed
    tokyo_url = postgres_url + "?options=-c%20timezone%3DAsia/Tokyo"
    assert scalar(tokyo_url, "SHOW timezone") == "Asia/Tokyo"
    store = CallStore(tokyo_url)
    store.save_many([call_record(1), call_record(2, at=MONDAY_8AM_UTC + 3600)])
    store.close()
    assert scalar(postgres_url, "SELECT started_at AT TIME ZONE 'UTC' FROM calls ORDER BY id LIMIT 1").isoformat() == (
        "2026-11-23T08:01:00"
    )
    rows = list_calls(tokyo_url, since="2026-11-23T18:00+09:00")
    assert [row["started_at"] for row in rows] == ["2026-11-23T09:00:00+00:00"]


def test_two_controllers_share_one_database(postgres_url):
    first, second = CallStore(postgres_url), CallStore(postgres_url)

    def save_range(store: CallStore, numbers: range) -> None:
        for n in numbers:
            store.save(call_record(n))
            gevent.sleep(0)

    gevent.joinall(
        [gevent.spawn(save_range, first, range(0, 400)), gevent.spawn(save_range, second, range(400, 800))],
        raise_error=True,
    )
    first.close()
    second.close()
    assert scalar(postgres_url, "SELECT count(DISTINCT uuid) FROM calls") == 800


def test_store_reconnects_after_its_connections_are_killed(postgres_url):
    store = CallStore(postgres_url)
    store.save(call_record(1))
    store.flush()
    # what a PostgreSQL restart or failover does to the pooled connection
    killed = scalar(
        postgres_url,
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
        "WHERE datname = current_database() AND pid <> pg_backend_pid()",
    )
    assert killed >= 1
    store.save(call_record(2))
    store.close(timeout=10)
    assert scalar(postgres_url, "SELECT count(*) FROM calls") == 2
