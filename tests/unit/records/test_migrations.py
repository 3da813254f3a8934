"""Migrations: `upgrade` builds the schema the models describe, on SQLite and PostgreSQL."""

import socket

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import MetaData, String, inspect

from ccctl.records.database import make_engine
from ccctl.records.migrate import MigrationError, current_revision, head_revision, upgrade
from ccctl.records.models.base import Base

TABLES = {
    "patients",
    "patient_phones",
    "calls",
    "agents",
    "skills",
    "agent_skills",
    "queues",
    "queue_skills",
    "audit_log",
}


def schema_differences(url: str, metadata: MetaData) -> list:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            return compare_metadata(context, metadata)
    finally:
        engine.dispose()


def test_upgrade_creates_every_table_and_records_the_revision(empty_db_url):
    upgrade(empty_db_url)
    engine = make_engine(empty_db_url)
    try:
        tables = set(inspect(engine).get_table_names())
        call_indexes = {index["name"] for index in inspect(engine).get_indexes("calls")}
    finally:
        engine.dispose()
    assert TABLES <= tables
    assert {"ix_calls_started_at", "ix_calls_hotline", "ix_calls_disposition"} <= call_indexes
    assert current_revision(empty_db_url) == head_revision()


def test_upgrade_twice_changes_nothing(db_url):
    upgrade(db_url)
    assert current_revision(db_url) == head_revision()


def test_models_and_migrations_agree(db_url):
    assert schema_differences(db_url, Base.metadata) == []


def test_the_agreement_check_sees_a_changed_model(db_url):
    changed = MetaData(naming_convention=Base.metadata.naming_convention)
    for table in Base.metadata.tables.values():
        table.to_metadata(changed)
    changed.tables["calls"].c.hotline.type = String(99)
    changed.tables["agents"].c.name.nullable = True
    kinds = {diff[0][0] if isinstance(diff, list) else diff[0] for diff in schema_differences(db_url, changed)}
    assert "modify_nullable" in kinds
    # SQLite reports declared VARCHAR lengths too, so both databases see the type change
    assert "modify_type" in kinds


def test_sqlite_directory_is_created(tmp_path):
    url = f"sqlite:///{tmp_path / 'var' / 'deeper' / 'ccctl.db'}"
    upgrade(url)
    assert (tmp_path / "var" / "deeper" / "ccctl.db").is_file()


def test_sqlite_journal_is_wal_with_foreign_keys(sqlite_url):
    engine = make_engine(sqlite_url)
    try:
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 5000
    finally:
        engine.dispose()


def test_upgrade_does_not_depend_on_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    upgrade("sqlite:///relative/ccctl.db")
    assert (tmp_path / "relative" / "ccctl.db").is_file()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("not a url", "database url starting 'not a url' is not a URL (use sqlite:///var/ccctl.db or"),
        ("oracle+nodriver://u@h/db", "database url oracle+nodriver://u@h/db: unknown database kind 'oracle+nodriver'"),
    ],
)
def test_bad_url_is_one_line(url, message):
    with pytest.raises(MigrationError) as err:
        upgrade(url)
    assert str(err.value).startswith(message)
    assert "\n" not in str(err.value)


def test_unreachable_postgres_is_one_line_without_the_password():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        unused_tcp_port = sock.getsockname()[1]  # nothing listens once the socket is closed
    with pytest.raises(MigrationError) as err:
        upgrade(f"postgresql://cc:s3cret@127.0.0.1:{unused_tcp_port}/cc")
    text = str(err.value)
    assert text.startswith(f"database postgresql://cc:***@127.0.0.1:{unused_tcp_port}/cc: ")
    assert "refused" in text
    assert "s3cret" not in text and "\n" not in text


def test_sqlite_directory_that_cannot_be_made_is_one_line(tmp_path):
    (tmp_path / "var").write_text("a file where the directory should be")
    with pytest.raises(MigrationError) as err:
        upgrade(f"sqlite:///{tmp_path / 'var' / 'ccctl.db'}")
    assert str(err.value) == f"database sqlite:///{tmp_path}/var/ccctl.db: File exists ({tmp_path}/var)"


def test_unknown_revision_is_one_line(sqlite_url):
    with pytest.raises(MigrationError, match="Can't locate revision identified by 'abc'") as err:
        upgrade(sqlite_url, "abc")
    assert "\n" not in str(err.value)
