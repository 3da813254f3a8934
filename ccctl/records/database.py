"""Engines from a database URL: SQLite (WAL, busy timeout, foreign keys) or PostgreSQL.

Every part of ccctl that talks SQL gets its engine here, so the SQLite pragmas and
the one-line connection errors are the same for `ccctl serve`, the CLI and the tests.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, ExceptionContext, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, OperationalError
from sqlalchemy.orm import Session

from ccctl.errors import UserError

T = TypeVar("T")

# A writer holding the SQLite lock (a batch of call records) commits in milliseconds;
# readers and other writers wait this long before "database is locked".
SQLITE_BUSY_TIMEOUT_MS = 5000
PG_CONNECT_TIMEOUT_S = 10


class DatabaseUrlError(UserError, ValueError):
    """The database URL cannot be used; str() is one line that hides the password."""


def parse_url(url: str | URL) -> URL:
    """The URL as SQLAlchemy's URL object, or DatabaseUrlError naming what is wrong."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        # the text itself may hold a password: show only its scheme
        scheme = str(url).split(":", 1)[0]
        raise DatabaseUrlError(
            f"database url starting {scheme!r} is not a URL (use sqlite:///var/ccctl.db or postgresql://user@host/db)"
        ) from None
    try:
        parsed.get_dialect()
    except NoSuchModuleError:
        raise DatabaseUrlError(
            f"database url {safe_url(parsed)}: unknown database kind {parsed.drivername!r} (use sqlite or postgresql)"
        ) from None
    return parsed


def safe_url(url: str | URL) -> str:
    """The URL for messages and logs: password replaced by ***."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<not a URL>"


def sqlite_file(url: str | URL) -> Path | None:
    """The file of a SQLite URL (None for other databases and in-memory ones)."""
    parsed = parse_url(url)
    database = parsed.database or ""
    if parsed.get_backend_name() != "sqlite" or database in ("", ":memory:") or database.startswith("file:"):
        return None
    return Path(database).expanduser()


def ensure_sqlite_directory(url: str | URL) -> None:
    """Create the parent directory of a SQLite file (sqlite:///var/ccctl.db needs var/)."""
    path = sqlite_file(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)


def _set_sqlite_pragmas(dbapi_connection, _connection_record) -> None:
    cursor = dbapi_connection.cursor()
    try:
        # WAL: the listing CLI and web pages read while `ccctl serve` writes
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        # with WAL, NORMAL loses at most the last transactions on power loss, never corrupts
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()


def _first_line_of_errors(context: ExceptionContext) -> None:
    """Cut database errors to their first line, in the driver's exception and in SQLAlchemy's.

    psycopg2 puts the values into the statement before sending it, so PostgreSQL's message goes on
    with "LINE 1: ... WHERE name = 'Kowalska'" and DETAIL lines repeat a key's value: a traceback in
    a log would carry them even with the parameters hidden.
    """
    for exc in (context.original_exception, context.sqlalchemy_exception):
        if exc is not None and len(exc.args) == 1 and isinstance(exc.args[0], str) and "\n" in exc.args[0].strip():
            exc.args = (exc.args[0].strip().splitlines()[0],)


def make_engine(url: str | URL, *, echo: bool = False) -> Engine:
    """An engine for the URL; SQLite files get their directory and pragmas.

    Connections may be used from gevent's threadpool (native threads), so SQLite's
    same-thread check is off; the pool hands a connection to one thread at a time.
    Parameters are hidden from every error and log line the engine makes: they are
    names, phones and search texts, and a traceback in a log must not carry them
    (PostgreSQL's errors are also cut to their first line, see _first_line_of_errors).
    """
    parsed = parse_url(url)
    if parsed.get_backend_name() == "sqlite":
        ensure_sqlite_directory(parsed)
        engine = create_engine(
            parsed,
            echo=echo,
            hide_parameters=True,
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
        )
        event.listen(engine, "connect", _set_sqlite_pragmas)
        return engine
    # a silent (firewalled) host would otherwise hold `ccctl db upgrade` for minutes
    connect_args = {} if "connect_timeout" in parsed.query else {"connect_timeout": PG_CONNECT_TIMEOUT_S}
    # pre-ping: `ccctl serve` lives for weeks and PostgreSQL restarts under it
    engine = create_engine(parsed, echo=echo, hide_parameters=True, pool_pre_ping=True, connect_args=connect_args)
    event.listen(engine, "handle_error", _first_line_of_errors)
    return engine


def database_problem(exc: BaseException) -> str:
    """First line of the database's own error: no SQL, no parameters (they may hold patient data)."""
    orig = getattr(exc, "orig", None)
    if orig is None:
        # SQLAlchemy's own message repeats the statement and its parameters
        return type(exc).__name__
    text = str(orig).strip().splitlines()
    return text[0] if text else type(orig).__name__


def is_outage(exc: BaseException) -> bool:
    """A database that is there but busy or away for now (locked, restarting, unreachable), not a wrong query.

    SQLite says "database is locked" (or busy) past its busy timeout; PostgreSQL's driver raises
    OperationalError for a refused or dropped connection and a server shutting down or starting.
    A missing table is an OperationalError in SQLite too, and is no outage: waiting would not mend it.
    """
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    if not isinstance(exc, OperationalError):
        return False
    problem = database_problem(exc).lower()
    if "sqlite" in type(exc.orig).__module__:
        return "locked" in problem or "busy" in problem
    return True


@contextmanager
def command_engine(url: str, error: type[Exception]) -> Iterator[Engine]:
    """An engine for one ccctl command over an existing schema.

    Every database problem becomes `error` with one line (no password, no row data);
    a missing SQLite file is refused rather than created empty.
    """
    try:
        file = sqlite_file(url)
    except DatabaseUrlError as exc:
        raise error(str(exc)) from None
    if file is not None and not file.exists():
        raise error(f"database {safe_url(url)}: no such file {file} (run `ccctl db upgrade` first)")
    engine = make_engine(url)
    try:
        yield engine
    except DBAPIError as exc:
        problem = database_problem(exc)
        hint = " (run `ccctl db upgrade` first)" if "no such" in problem or "does not exist" in problem else ""
        raise error(f"database {safe_url(url)}: {problem}{hint}") from None
    finally:
        engine.dispose()


def in_transaction(url: str, error: type[Exception], work: Callable[[Session], T]) -> T:
    """Run `work(session)` in one transaction on `url`; database problems raise `error` (see command_engine)."""
    with command_engine(url, error) as engine, Session(engine, expire_on_commit=False) as session, session.begin():
        return work(session)
