"""Copying a SQLite home into an empty PostgreSQL database: table by table, in batches that each commit with a
note of how far they got (so a copy that was killed resumes without copying a row twice), then checked row for
row. What a back end builds for itself (the search index) and what only running processes hold (leases) is
left out.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    Engine,
    MetaData,
    Select,
    Table,
    Text,
    bindparam,
    func,
    insert,
    inspect,
    literal,
    select,
    text,
    tuple_,
    update,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError

from broadsheet.errors import ConfigError, StoreError
from broadsheet.store.db import connect, is_transient, migrate, shown_url
from broadsheet.store.schema import metadata
from broadsheet.store.search import compact_index

__all__ = [
    "COPIED_TABLES",
    "DEFAULT_COPY_BATCH",
    "LEFT_OUT",
    "TableCheck",
    "copy_database",
    "copy_source",
    "copy_target",
    "table_digest",
]

DEFAULT_COPY_BATCH = 2_000  # rows a transaction: a killed copy redoes at most this many
# What is not copied, and why (printed by the command).
LEFT_OUT = {
    "leases": "who holds the stories step right now: taken afresh by whichever process runs it next",
    "the search index": "SQLite's own; PostgreSQL indexes each article itself as it is stored",
}
COPIED_TABLES: tuple[Table, ...] = tuple(t for t in metadata.sorted_tables if t.name not in LEFT_OUT)

# How far an interrupted copy got: for each table, the key of the last row committed, and whether the table is
# finished. Created by the copy in the target and dropped once every table has been checked. Its own MetaData:
# it is no part of broadsheet's schema, and must never appear in schema comparisons.
_progress = Table(
    "broadsheet_copy_progress",
    MetaData(),
    Column("table_name", Text, primary_key=True),
    Column("last_key", Text, nullable=False),  # JSON list: the primary key's values, in its columns' order
    Column("done", Boolean, nullable=False),
)
# Held by the copy for as long as it runs (pg_try_advisory_lock), so that two copies never fill one database.
_LOCK_KEY = 0x62726F6164636F70  # "broadcop"

Progress = Callable[[int, int], None]  # (rows in the target, rows to copy in all)


@dataclass(frozen=True, slots=True)
class TableCheck:
    """One table's rows and checksum on each side, after a copy."""

    name: str
    source_rows: int
    target_rows: int
    source_digest: str
    target_digest: str

    @property
    def matches(self) -> bool:
        return self.source_rows == self.target_rows and self.source_digest == self.target_digest


# --- the two databases -----------------------------------------------------------------------------------------


def copy_source(url: str) -> Engine:
    """The home's SQLite database, migrated to the newest schema (so its columns are the target's). ConfigError
    when the home is not on SQLite, StoreError when it has no database yet."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        raise ConfigError(
            f"copy moves a SQLite home to PostgreSQL, but this home's database is already {shown_url(url)}: "
            "to move it to another server use pg_dump and pg_restore, or point --home at the SQLite home"
        )
    database = parsed.database or ""
    if database in ("", ":memory:") or not Path(database).is_file():
        raise StoreError(
            f"there is no database at {database or url}, so nothing to copy: point --home (or BROADSHEET_HOME) "
            "at the home that holds broadsheet.db"
        )
    engine = connect(url)
    try:
        migrate(engine)
    except BaseException:
        engine.dispose()
        raise
    return engine


def copy_target(url: str) -> Engine:
    """The PostgreSQL database at `url`, reached and migrated to the newest schema. ConfigError for a URL that
    is not PostgreSQL's (through psycopg), StoreError when the server cannot be reached."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError(
            "--to is not a database URL: write postgresql+psycopg://USER:PASSWORD@HOST[:PORT]/DATABASE"
        ) from None
    if parsed.get_backend_name() != "postgresql":
        raise ConfigError(
            f"copy moves a home to PostgreSQL, and --to {shown_url(url)} is not a PostgreSQL database: give "
            "an empty one's URL, postgresql+psycopg://USER:PASSWORD@HOST[:PORT]/DATABASE"
        )
    if parsed.get_driver_name() != "psycopg":
        raise ConfigError(
            f"broadsheet reaches PostgreSQL through psycopg, not {parsed.get_driver_name()}: write --to as "
            f"{parsed.set(drivername='postgresql+psycopg').render_as_string(hide_password=True)}"
        )
    engine = connect(url)
    try:
        _reach(engine)
        migrate(engine)
    except BaseException:
        engine.dispose()
        raise
    return engine


def _reach(engine: Engine) -> None:
    """One connection, to turn an unreachable server into a message that says so."""
    try:
        with engine.connect():
            pass
    except DBAPIError as exc:
        raise StoreError(
            f"could not reach PostgreSQL at {_shown(engine)}: {_reason(exc)}. "
            "Check that the server runs, that host, port, user and password are right, and that the database "
            "exists (createdb NAME makes an empty one)"
        ) from exc


# --- copying --------------------------------------------------------------------------------------------------


def copy_database(
    source: Engine,
    target: Engine,
    *,
    resume: bool = False,
    batch_size: int = DEFAULT_COPY_BATCH,
    progress: Progress | None = None,
    on_table: Callable[[str, int], None] | None = None,
) -> list[TableCheck]:
    """Copy every table of COPIED_TABLES from `source` into the empty, migrated `target` (or, with `resume`,
    finish a copy into it that was interrupted), set its sequences past the copied ids and check each table.
    `on_table(name, rows copied now)` is told as each table is finished. The progress note is dropped when
    every table matches; a mismatch leaves it, so the target never passes for a finished copy."""
    try:
        return _copy_all(
            source, target, resume=resume, batch_size=batch_size, progress=progress, on_table=on_table
        )
    except DBAPIError as exc:
        if not is_transient(exc) or isinstance(exc.orig, sqlite3.Error):
            raise
        raise StoreError(
            f"the connection to {_shown(target)} was lost ({_reason(exc)}); every batch committed is kept: "
            "run the same command with --resume once the server is back"
        ) from exc


def _copy_all(
    source: Engine,
    target: Engine,
    *,
    resume: bool,
    batch_size: int,
    progress: Progress | None,
    on_table: Callable[[str, int], None] | None,
) -> list[TableCheck]:
    with _copy_lock(target):
        _prepare(target, resume=resume)
        total = sum(_count(source, table) for table in COPIED_TABLES)
        done = sum(_count(target, table) for table in COPIED_TABLES)

        def advance(rows: int) -> None:
            nonlocal done
            done += rows
            if progress is not None:
                progress(done, total)

        advance(0)
        for table in COPIED_TABLES:
            copied = _copy_table(source, target, table, batch_size=batch_size, advance=advance)
            if on_table is not None:
                on_table(table.name, copied)
        _set_sequences(target)
        checks = [_check(source, target, table) for table in COPIED_TABLES]
        if all(check.matches for check in checks):
            with target.begin() as conn:
                _progress.drop(conn)
            _settle(target)
    return checks


def _settle(target: Engine) -> None:
    """After the bulk copy: the search index's pending entries merged, and every table's planner statistics
    made. Until autovacuum gets round to it, PostgreSQL would plan reads as if the tables were empty."""
    compact_index(target, above=0)
    with target.begin() as conn:
        conn.execute(text("ANALYZE"))


@contextmanager
def _copy_lock(target: Engine) -> Iterator[None]:
    with target.connect() as conn:
        if not conn.execute(select(func.pg_try_advisory_lock(_LOCK_KEY))).scalar_one():
            raise StoreError(
                f"another copy into {_shown(target)} is running: wait for it to end (or stop it, then add "
                "--resume)"
            )
        conn.commit()
        try:
            yield
        finally:
            try:
                conn.execute(select(func.pg_advisory_unlock(_LOCK_KEY)))
                conn.commit()
            except DBAPIError:
                pass  # the connection is lost, and the server let go of its lock with it


def _prepare(target: Engine, *, resume: bool) -> None:
    """Refuse a target holding data that no interrupted copy left; note that a copy has begun."""
    with target.begin() as conn:
        interrupted = inspect(conn).has_table(_progress.name)
        holding = [table.name for table in COPIED_TABLES if _has_rows(conn, table)]
        if interrupted and not resume:
            raise StoreError(
                f"a copy into {_shown(target)} was interrupted: add --resume to finish it, or copy into "
                "another, empty database"
            )
        if holding and not interrupted:
            raise StoreError(
                f"{_shown(target)} already holds data ({', '.join(holding)}): broadsheet copies only into an "
                "empty database, so create one (createdb NAME) and give its URL; --resume continues only a "
                "copy into this database that was interrupted, and none was"
            )
        _progress.create(conn, checkfirst=True)


def _copy_table(
    source: Engine, target: Engine, table: Table, *, batch_size: int, advance: Callable[[int], None]
) -> int:
    """Copy `table`'s rows after the last key committed, a batch a transaction; returns the rows copied."""
    key, done = _resumed(target, table)
    if done:
        return 0
    copied = 0
    deferred = _self_references(table)
    while True:
        with source.connect() as conn:
            rows = [dict(row) for row in conn.execute(_batch(table, key, batch_size)).mappings()]
        if not rows:
            break
        key = [rows[-1][column.name] for column in table.primary_key.columns]
        for row in rows:
            for column, own_key in deferred:
                if row[column.name] is not None and row[column.name] >= row[own_key.name]:
                    row[column.name] = None  # not stored yet: set by _fill_self_references
        with target.begin() as conn:
            _insert(conn, table, rows)
            _note(conn, table, key, done=False)
        copied += len(rows)
        advance(len(rows))
    _fill_self_references(source, target, table, batch_size)
    with target.begin() as conn:
        _note(conn, table, key or [], done=True)
    return copied


def _batch(table: Table, after: Sequence[Any] | None, size: int) -> Select[Any]:
    """The next `size` rows of `table` in primary key order, after the key `after` (from the first if None)."""
    columns = list(table.primary_key.columns)
    query = select(table).order_by(*columns).limit(size)
    if after is None:
        return query
    if len(columns) == 1:
        return query.where(columns[0] > after[0])
    return query.where(
        tuple_(*columns) > tuple_(*(literal(v, c.type) for v, c in zip(after, columns, strict=True)))
    )


def _insert(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    try:
        conn.execute(insert(table), rows)
    except DBAPIError as exc:
        if is_transient(exc):
            raise
        first, last = rows[0], rows[-1]
        keys = [c.name for c in table.primary_key.columns]
        span = f"{[first[k] for k in keys]} to {[last[k] for k in keys]}"
        raise StoreError(
            f"PostgreSQL refused rows of {table.name} (keys {span}): {_reason(exc)}. If the home was "
            "written to during the copy (a crawler, a server), stop it and copy again into a new, empty database"
        ) from exc


def _resumed(target: Engine, table: Table) -> tuple[list[Any] | None, bool]:
    """The key of the last row of `table` committed to the target (None before the first), and whether the
    table is finished."""
    with target.connect() as conn:
        row = conn.execute(
            select(_progress.c.last_key, _progress.c.done).where(_progress.c.table_name == table.name)
        ).first()
    if row is None:
        return None, False
    return json.loads(row.last_key), bool(row.done)


def _note(conn: Connection, table: Table, key: Sequence[Any], *, done: bool) -> None:
    values = {"table_name": table.name, "last_key": json.dumps(list(key)), "done": done}
    statement = postgresql.insert(_progress).values(**values)
    conn.execute(
        statement.on_conflict_do_update(
            index_elements=["table_name"], set_={"last_key": values["last_key"], "done": done}
        )
    )


def _self_references(table: Table) -> list[tuple[Column[Any], Column[Any]]]:
    """(column, the primary key it refers to) for each foreign key of `table` into its own rows (a copy's
    original, a merged story's successor). A reference to a row later in key order is stored afterwards."""
    pairs = []
    for fk in table.foreign_keys:
        if fk.column.table is table:
            assert list(table.primary_key.columns) == [fk.column], "self-references name the one-column key"
            pairs.append((table.c[fk.parent.name], fk.column))
    return pairs


def _fill_self_references(source: Engine, target: Engine, table: Table, batch_size: int) -> None:
    """Set the references `_copy_table` left empty, now that every row they may name is stored. Safe to run
    again: each is set to the source's value."""
    for column, key in _self_references(table):
        with source.connect() as conn:
            pairs = conn.execute(select(key, column).where(column >= key)).all()
        statement = update(table).where(key == bindparam("_key")).values({column.name: bindparam("_value")})
        for start in range(0, len(pairs), batch_size):
            chunk = pairs[start : start + batch_size]
            with target.begin() as conn:
                conn.execute(statement, [{"_key": k, "_value": v} for k, v in chunk])


def _set_sequences(target: Engine) -> None:
    """Each id sequence moved past the largest id copied, so the next row stored gets a new id."""
    with target.begin() as conn:
        for table in COPIED_TABLES:
            columns = list(table.primary_key.columns)
            if len(columns) != 1:
                continue
            sequence = conn.execute(
                select(func.pg_get_serial_sequence(table.name, columns[0].name))
            ).scalar_one()
            if sequence is None:
                continue
            top = conn.execute(select(func.max(columns[0]))).scalar_one()
            # is_called false: the next value handed out is this one itself, 1 in an empty table
            conn.execute(
                text("SELECT setval(CAST(:sequence AS regclass), :value, :called)"),
                {"sequence": sequence, "value": top or 1, "called": top is not None},
            )


# --- checking -------------------------------------------------------------------------------------------------


def _check(source: Engine, target: Engine, table: Table) -> TableCheck:
    source_rows, source_digest = table_digest(source, table)
    target_rows, target_digest = table_digest(target, table)
    return TableCheck(table.name, source_rows, target_rows, source_digest, target_digest)


def table_digest(engine: Engine, table: Table) -> tuple[int, str]:
    """`table`'s row count, and a checksum of its rows that is the same on SQLite and PostgreSQL for the same
    rows: each row's SHA-256 (over its values made plain, see _plain), added up modulo 2**256. A sum does not
    depend on the order rows come in, so text keys need no collation common to both back ends; a row missing,
    doubled or different changes it."""
    total = rows = 0
    with engine.connect() as conn:
        for row in conn.execution_options(yield_per=DEFAULT_COPY_BATCH).execute(select(table)):
            encoded = json.dumps([_plain(value) for value in row], separators=(",", ":")).encode()
            total += int.from_bytes(hashlib.sha256(encoded).digest(), "big")
            rows += 1
    return rows, f"{total % 2**256:064x}"


def _plain(value: object) -> object:
    """A value as JSON can hold it, the same from either back end. Text is hashed as it is stored (JSON
    columns too: both back ends keep them as text, so the exact string is what must arrive)."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    if isinstance(value, float):
        return repr(value)  # the shortest string that reads back as the same double
    return value


# --- small helpers ----------------------------------------------------------------------------------------------


def _count(engine: Engine, table: Table) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def _has_rows(conn: Connection, table: Table) -> bool:
    return conn.execute(select(literal(1)).select_from(table).limit(1)).first() is not None


def _reason(exc: DBAPIError) -> str:
    """The driver's own first line: what the server said, without SQLAlchemy's statement and parameters."""
    said = str(exc.orig if exc.orig is not None else exc).strip()
    return said.splitlines()[0] if said else type(exc).__name__


def _shown(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=True)
