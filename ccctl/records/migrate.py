"""Schema migrations run from Python: `ccctl db upgrade` and the test fixtures call upgrade().

The Alembic scripts live in sql/ at the top of the source tree; they are found from
this package's location, never from the current directory.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.util import CommandError
from sqlalchemy.exc import DBAPIError

from ccctl.errors import UserError
from ccctl.records.database import DatabaseUrlError, database_problem, make_engine, parse_url, safe_url


class MigrationError(UserError):
    """The schema could not be migrated; str() is one line (no password)."""


def migrations_dir() -> Path:
    """sql/ beside the ccctl package (a source checkout or an editable install)."""
    import ccctl

    package_dir = Path(ccctl.__file__).resolve().parent
    candidate = package_dir.parent / "sql"
    if not (candidate / "env.py").is_file():
        raise MigrationError(
            f"migration scripts not found: no {candidate}/env.py "
            "(run ccctl from its source tree or install it with `pip install -e .`)"
        )
    return candidate


def alembic_config(connection=None) -> Config:
    """An Alembic Config for sql/; env.py runs on `connection` when given (no URL in the config)."""
    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    # our env.py reads the connection from attributes, so no URL (and no '%' escaping) in the config
    config.attributes["connection"] = connection
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at `url` to `revision` (creates the SQLite file and its directory)."""
    try:
        parse_url(url)
    except DatabaseUrlError as exc:
        raise MigrationError(str(exc)) from None
    migrations_dir()  # a missing sql/ is reported before any file or connection is made
    engine = None
    try:
        engine = make_engine(url)
        with engine.begin() as connection:
            command.upgrade(alembic_config(connection), revision)
    except DBAPIError as exc:
        raise MigrationError(f"database {safe_url(url)}: {database_problem(exc)}") from None
    except CommandError as exc:
        raise MigrationError(f"database {safe_url(url)}: {exc}") from None
    except OSError as exc:
        # SQLite: the file's directory cannot be created or written
        raise MigrationError(f"database {safe_url(url)}: {exc.strerror} ({exc.filename})") from None
    finally:
        if engine is not None:
            engine.dispose()


def current_revision(url: str) -> str | None:
    """The revision the database is at (None: never migrated)."""
    from alembic.runtime.migration import MigrationContext

    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    except DBAPIError as exc:
        raise MigrationError(f"database {safe_url(url)}: {database_problem(exc)}") from None
    finally:
        engine.dispose()


def head_revision() -> str:
    """The newest revision among the scripts in sql/ (what `upgrade` brings a database to)."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()
