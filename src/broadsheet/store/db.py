"""Opening the database: engine, SQLite pragmas, and migrations to the latest schema.

Only this module knows how a URL becomes a connected, migrated engine; queries live beside it.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, Table, create_engine, event, inspect, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, IntegrityError, SQLAlchemyError

from broadsheet.errors import StoreError

if TYPE_CHECKING:  # Alembic loads only when a migration is due (`migrate`)
    from alembic.config import Config

__all__ = [
    "DEFAULT_THREADS",
    "connect",
    "database_bytes",
    "dialect_insert",
    "is_conflict",
    "is_transient",
    "migrate",
    "shown_url",
]

MIGRATIONS = Path(__file__).parent / "migrations"
WAL_SIZE_LIMIT = 64 * 1024 * 1024

# Sizing a database server's connection pool (see connect()).
DEFAULT_THREADS = 4  # the default of the `server_threads` setting
# Threads of a process, besides the server's page threads, that may each use the store at the same moment:
# the event loop (the crawler's ingestion, async pages), the crawl pass's step thread, a background step (the
# optional LLM's rewrites) and an admin job (an OPML import).
OTHER_THREADS = 4
OVERFLOW = 4
POOL_TIMEOUT = 30  # seconds a thread waits for a connection when all are lent, before it fails
CONNECT_TIMEOUT = 10  # seconds to reach the database server


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


def connect(url: str, *, threads: int = DEFAULT_THREADS) -> Engine:
    """An engine for `url`, creating the SQLite file's folder when needed. Does not migrate. `threads`: the
    server's page threads in this process (setting `server_threads`), which size a database server's pool."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    # A database server's pool. Every store call takes one connection and gives it back before it returns
    # (none is held across an await), so a process never needs more at once than it has threads using the
    # store: the server's page threads plus OTHER_THREADS. That many are kept once opened (they are opened
    # only when that many threads do use the store at once, so a CLI command opens one or two), each saving
    # a connect (a new server process, several ms) per call; OVERFLOW more are lent for a burst beyond
    # that and closed when returned. Bounded this way, `serve --workers N` takes at most N + 1 times
    # (threads + OTHER_THREADS + OVERFLOW) of the server's max_connections (100 by default): 12 a process
    # with the defaults, where SQLAlchemy's own default pool would let each take 15 whatever its threads.
    # pool_pre_ping replaces a connection the server or the network dropped while it sat in the pool.
    options: dict[str, Any] = {
        "pool_pre_ping": True,
        "pool_size": threads + OTHER_THREADS,
        "max_overflow": OVERFLOW,
        "pool_timeout": POOL_TIMEOUT,
    }
    if parsed.get_driver_name() in ("psycopg", "psycopg2") and "connect_timeout" not in parsed.query:
        # libpq waits for an unreachable server as long as TCP does (minutes): fail in seconds instead.
        options["connect_args"] = {"connect_timeout": CONNECT_TIMEOUT}
    return create_engine(url, **options)


# SQLSTATEs after which the same transaction, run again, may well succeed: serialisation failure, deadlock,
# and the connection lost (the server restarted, the network dropped it, an administrator ended it).
_RETRY_STATES = frozenset({"40001", "40P01", "57P01", "57P02", "57P03", "08000", "08003", "08006", "08001"})


def dialect_insert(bind: Engine | Connection | str, table: Table) -> Any:
    """An INSERT into `table` with the back end's ON CONFLICT clauses (`on_conflict_do_nothing`,
    `on_conflict_do_update`): PostgreSQL's and SQLite's are the same in SQLAlchemy but for the import. `bind`
    is where it will run, or that back end's dialect name."""
    name = bind if isinstance(bind, str) else bind.dialect.name
    return (postgresql if name == "postgresql" else sqlite).insert(table)


def is_transient(exc: BaseException) -> bool:
    """Whether `exc`, raised by a transaction, says to run it again rather than that it is wrong: a
    serialisation failure or deadlock on a database server, a connection it lost (SQLAlchemy then has
    already thrown the connection away, so the next try takes a fresh one), SQLite busy past its timeout."""
    if not isinstance(exc, DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    state = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
    if state is not None:
        return state in _RETRY_STATES
    message = str(exc.orig)
    return isinstance(exc.orig, sqlite3.OperationalError) and ("locked" in message or "busy" in message)


def is_conflict(exc: BaseException) -> bool:
    """Whether `exc` is a unique constraint met: another process stored the same thing first."""
    return isinstance(exc, IntegrityError)


def shown_url(url: str) -> str:
    """`url` fit to print: any password in it masked."""
    return make_url(url).render_as_string(hide_password=True)


def database_bytes(engine: Engine) -> int | None:
    """The database's size on disk: the SQLite file's, or what the server reports; None when unknown (an
    in-memory database, a file not created yet)."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            return int(conn.execute(text("SELECT pg_database_size(current_database())")).scalar_one())
    database = engine.url.database or ""
    if engine.dialect.name != "sqlite" or database in ("", ":memory:") or not Path(database).exists():
        return None
    return Path(database).stat().st_size


def _alembic_config() -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head_revision() -> str:
    """The newest migration's revision, from the file names alone: the migrations are numbered files, each
    revision its number ("0020_user_email.py" is "0020", down from "0019"). A test checks this against
    Alembic's own graph."""
    return max(
        path.name.split("_", 1)[0] for path in (MIGRATIONS / "versions").glob("[0-9][0-9][0-9][0-9]_*.py")
    )


def _current_revision(connection: Connection) -> str | None:
    if not inspect(connection).has_table("alembic_version"):
        return None
    return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def migrate(engine: Engine) -> str:
    """Bring the schema to the newest revision; returns it. Safe to call on every start: a database already at
    the newest revision costs one look, without loading Alembic (a third of a second at every start)."""
    head = head_revision()
    try:
        with engine.begin() as connection:
            if _current_revision(connection) == head:
                return head
            from alembic import command

            config = _alembic_config()
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    except (SQLAlchemyError, sqlite3.Error) as exc:
        raise StoreError(
            f"could not open or migrate the database at {engine.url.render_as_string(hide_password=True)}: "
            f"{exc}. Check that the file is writable and not from a newer broadsheet."
        ) from exc
    return head
