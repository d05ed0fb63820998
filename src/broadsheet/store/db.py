"""Opening the database: engine, SQLite pragmas, and migrations to the latest schema.

Only this module knows how a URL becomes a connected, migrated engine; queries live beside it.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from broadsheet.errors import StoreError

__all__ = ["connect", "migrate"]

MIGRATIONS = Path(__file__).parent / "migrations"
WAL_SIZE_LIMIT = 64 * 1024 * 1024


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL: readers never block the crawler's writes; NORMAL sync is durable at every checkpoint in WAL mode
    # and loses no committed transaction on a process crash (only possibly on power loss).
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    # The log of a big write (an import, the search index's merge) shrinks back to this once checkpointed,
    # instead of keeping its largest size on disk while any process has the database open.
    cursor.execute(f"PRAGMA journal_size_limit={WAL_SIZE_LIMIT}")
    cursor.close()


def connect(url: str) -> Engine:
    """An engine for `url`, creating the SQLite file's folder when needed. Does not migrate."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


def _alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def migrate(engine: Engine) -> str:
    """Bring the schema to the newest revision; returns it. Safe to call on every start."""
    config = _alembic_config()
    head = ScriptDirectory.from_config(config).get_current_head()
    try:
        with engine.begin() as connection:
            if MigrationContext.configure(connection).get_current_revision() == head:
                return str(head)
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    except (SQLAlchemyError, sqlite3.Error) as exc:
        raise StoreError(
            f"could not open or migrate the database at {engine.url.render_as_string(hide_password=True)}: "
            f"{exc}. Check that the file is writable and not from a newer broadsheet."
        ) from exc
    return str(head)
