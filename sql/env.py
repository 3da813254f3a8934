"""Alembic environment for ccctl: runs the migrations in sql/versions against one connection.

`ccctl db upgrade` (ccctl.records.migrate) passes an open connection; the alembic command
line (`alembic -c sql/alembic.ini ...`) uses the URL in CCCTL_DATABASE__URL or alembic.ini.
"""

import os

from alembic import context

from ccctl.records.database import make_engine
from ccctl.records.models.base import Base

config = context.config
target_metadata = Base.metadata


def _configure_and_run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=True,
        # SQLite cannot ALTER most things: later revisions rebuild tables in batch mode
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure_and_run(connection)
        return
    url = os.environ.get("CCCTL_DATABASE__URL") or config.get_main_option("sqlalchemy.url")
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            _configure_and_run(connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("ccctl migrations run online only (ccctl db upgrade)")
run_migrations_online()
