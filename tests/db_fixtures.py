"""Database fixtures (a pytest plugin): migrated SQLite files and a real throwaway PostgreSQL 15.

sqlite_url / postgres_url / db_url (both, ids "sqlite" and "postgres") give a migrated
database with empty tables per test; empty_sqlite_url / empty_postgres_url / empty_db_url an empty one;
call_record(n) builds the CallRecord of test call number n.
The PostgreSQL server starts once per session through pytest-postgresql's executor. As root
(CI containers) pg_ctl runs as the `postgres` system user, since PostgreSQL refuses root.
"""

from __future__ import annotations

import itertools
import os
import pwd
import shutil
import socket
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import psycopg.sql
import pytest
from pytest_postgresql.executors import PostgreSQLExecutor
from pytest_postgresql.janitor import DatabaseJanitor

from ccctl.callflow import CallRecord
from ccctl.records.migrate import upgrade

PG_BIN_DIR = os.environ.get("CC_TEST_PG_BIN", "/usr/lib/postgresql/15/bin")
PG_SYSTEM_USER = "postgres"  # who runs the server when the tests run as root
PG_SUPERUSER = "postgres"  # the database role created by initdb
TEMPLATE_DB = "ccctl_template"

_database_numbers = itertools.count(1)

# 2026-11-23 08:00:00 UTC, a Monday morning
MONDAY_8AM_UTC = datetime(2026, 11, 23, 8, 0, tzinfo=UTC).timestamp()


def call_record(n: int, *, at: float | None = None, **changes) -> CallRecord:
    """Call number n: started n minutes after MONDAY_8AM_UTC, answered after 1 s, 65.5 s long."""
    started = MONDAY_8AM_UTC + 60 * n if at is None else at
    fields = dict(
        uuid=f"{n:08d}-0000-4000-8000-000000000000",
        hotline="main",
        caller_number=f"+3361234{n:04d}",
        destination="7000",
        started_at=started,
        answered_at=started + 1.0,
        ended_at=started + 65.5,
        disposition="completed",
        hangup_cause="NORMAL_CLEARING",
        path=["answer", "welcome", "menu:1"],
    )
    fields.update(changes)
    return CallRecord(**fields)


@dataclass
class PostgresServer:
    host: str
    port: int
    base_dir: Path

    def url(self, dbname: str) -> str:
        return f"postgresql+psycopg2://{PG_SUPERUSER}@{self.host}:{self.port}/{dbname}"

    def janitor(self, dbname: str, template: str | None = None) -> DatabaseJanitor:
        return DatabaseJanitor(
            user=PG_SUPERUSER, host=self.host, port=self.port, dbname=dbname, template_dbname=template
        )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests on PostgreSQL carry the `postgres` marker (select them with -m postgres)."""
    for item in items:
        fixtures = getattr(item, "fixturenames", ())
        callspec = getattr(item, "callspec", None)
        on_postgres = {"postgres_url", "empty_postgres_url"} & set(fixtures)
        if "db_url" in fixtures or "empty_db_url" in fixtures:
            on_postgres = on_postgres or (callspec is not None and callspec.id.startswith("postgres"))
        if on_postgres:
            item.add_marker(pytest.mark.postgres)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _pg_ctl_command(base_dir: Path) -> str:
    """pg_ctl itself, or as root a wrapper running it as the postgres system user."""
    pg_ctl = Path(PG_BIN_DIR) / "pg_ctl"
    if not (pg_ctl.is_file() and (Path(PG_BIN_DIR) / "initdb").is_file()):
        pytest.fail(
            f"PostgreSQL server binaries not found: no pg_ctl/initdb in {PG_BIN_DIR} "
            "(install postgresql-15, or set CC_TEST_PG_BIN to the directory holding pg_ctl)",
            pytrace=False,
        )
    if os.geteuid() != 0:
        return str(pg_ctl)
    try:
        system_user = pwd.getpwnam(PG_SYSTEM_USER)
    except KeyError:
        pytest.fail(f"running as root and there is no {PG_SYSTEM_USER!r} user to run PostgreSQL", pytrace=False)
    runuser = shutil.which("runuser") or "/usr/sbin/runuser"
    wrapper = base_dir / "pg_ctl-as-postgres"
    # cd: pg_ctl/initdb fail when the caller's working directory is not readable by postgres
    wrapper.write_text(f'#!/bin/sh\ncd "{base_dir}" || exit 1\nexec {runuser} -u {PG_SYSTEM_USER} -- {pg_ctl} "$@"\n')
    wrapper.chmod(0o755)
    os.chown(base_dir, system_user.pw_uid, system_user.pw_gid)
    return str(wrapper)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One PostgreSQL 15 server for the session: trust auth, a free TCP port, its own socket dir."""
    base_dir = Path(tempfile.mkdtemp(prefix="ccctl-pg-"))
    try:
        executable = _pg_ctl_command(base_dir)
        port = _free_port()
        executor = PostgreSQLExecutor(
            executable=executable,
            host="127.0.0.1",
            port=port,
            datadir=str(base_dir / "data"),
            unixsocketdir=str(base_dir),
            logfile=str(base_dir / "postgresql.log"),
            startparams="-w",
            dbname=TEMPLATE_DB,
            user=PG_SUPERUSER,
            # tests need no durability: skip fsync for speed
            postgres_options="-c fsync=off -c full_page_writes=off -c synchronous_commit=off",
        )
        try:
            executor.start()
        except Exception as exc:
            log = base_dir / "postgresql.log"
            detail = log.read_text(errors="replace")[-2000:] if log.exists() else "(no server log)"
            pytest.fail(f"PostgreSQL did not start ({exc}); server log:\n{detail}", pytrace=False)
        server = PostgresServer(host="127.0.0.1", port=port, base_dir=base_dir)
        try:
            server.janitor(TEMPLATE_DB).init()
            upgrade(server.url(TEMPLATE_DB))
            yield server
        finally:
            executor.stop()
    finally:
        shutil.rmtree(base_dir, ignore_errors=True)


def _postgres_database(server: PostgresServer, migrated: bool) -> Iterator[str]:
    # a copy of the migrated template is much faster than running the migrations per test
    dbname = f"ccctl_test_{next(_database_numbers)}"
    janitor = server.janitor(dbname, template=TEMPLATE_DB if migrated else None)
    janitor.init()
    try:
        yield server.url(dbname)
    finally:
        janitor.drop()


@pytest.fixture(scope="module")
def _postgres_module_database(postgres_server: PostgresServer) -> Iterator[str]:
    yield from _postgres_database(postgres_server, migrated=True)


def _empty_all_tables(server: PostgresServer, url: str) -> None:
    dbname = url.rsplit("/", 1)[1]
    with psycopg.connect(host=server.host, port=server.port, user=PG_SUPERUSER, dbname=dbname) as connection:
        # a test that left a transaction open would otherwise make TRUNCATE wait forever
        connection.execute("SET lock_timeout = '5s'")
        tables = [
            row[0]
            for row in connection.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'"
            )
        ]
        if tables:
            names = psycopg.sql.SQL(", ").join(psycopg.sql.Identifier(table) for table in tables)
            connection.execute(psycopg.sql.SQL("TRUNCATE {} RESTART IDENTITY CASCADE").format(names))


@pytest.fixture
def postgres_url(postgres_server: PostgresServer, _postgres_module_database: str) -> str:
    """URL of a migrated PostgreSQL database with empty tables.

    One database per test module (CREATE DATABASE takes ~0.3 s), its tables emptied
    before each test (a few ms); the schema is shared within the module.
    """
    _empty_all_tables(postgres_server, _postgres_module_database)
    return _postgres_module_database


@pytest.fixture
def empty_postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    """URL of a fresh PostgreSQL database with no tables."""
    yield from _postgres_database(postgres_server, migrated=False)


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "ccctl.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture
def sqlite_url(_sqlite_template: Path, tmp_path: Path) -> str:
    """URL of a fresh, migrated SQLite file (a copy of one migrated once per session)."""
    path = tmp_path / "ccctl.db"
    shutil.copyfile(_sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def empty_sqlite_url(tmp_path: Path) -> str:
    """URL of a SQLite file that does not exist yet, in a directory that does not exist yet."""
    return f"sqlite:///{tmp_path / 'var' / 'ccctl.db'}"


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest) -> str:
    """A migrated database, once on SQLite and once on PostgreSQL."""
    return request.getfixturevalue(f"{request.param}_url")


@pytest.fixture(params=["sqlite", "postgres"])
def empty_db_url(request: pytest.FixtureRequest) -> str:
    """An empty database (no schema), once on SQLite and once on PostgreSQL."""
    return request.getfixturevalue(f"empty_{request.param}_url")
