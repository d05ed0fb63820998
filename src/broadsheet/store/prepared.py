"""Statements for the hottest reads, compiled once per database kind and, on SQLite, run on the driver's cursor.

SQLAlchemy's work for each execution (an execution context, parameter processing, a result object and its Row
objects: about 25 µs) costs more than SQLite takes to answer an index lookup, and the article page, which most
readers land on and few caches hold, runs four to seven of them. A `Prepared` statement is compiled by
SQLAlchemy once, so the SQL sent is exactly what SQLAlchemy would send; on SQLite it then goes to the DBAPI
cursor, with the bind values and result columns passed through the columns' own type processors (the same
conversions SQLAlchemy applies), and rows come back as named tuples. With any other driver it is an ordinary
`Connection.execute`: on a database server the round trip dominates, not Python. Errors on the fast path are
the driver's own (sqlite3.Error), not SQLAlchemy's wrappers.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Dialect
from sqlalchemy.sql.selectable import CompoundSelect, Select

__all__ = ["Prepared"]

Processor = Callable[[Any], Any] | None
_REQUIRED = object()


@dataclass(frozen=True, slots=True)
class _Compiled:
    sql: str
    # Per placeholder, in order: the parameter's name, its value when the caller gives none (_REQUIRED when
    # the caller must), and its bind processor.
    binds: tuple[tuple[str, Any, Processor], ...]
    row: type[tuple[Any, ...]]  # a namedtuple class with the statement's column names (its _make builds rows)
    results: tuple[Processor, ...]
    converts: bool  # any result processor at all


class Prepared:
    """`statement` (a SELECT with named bind parameters, none of them expanding) ready to run many times."""

    def __init__(self, statement: Select[Any] | CompoundSelect[Any]) -> None:
        self.statement = statement
        self._sqlite: _Compiled | None = None
        self._checked = False  # that the statement has no expanding parameter, for the other drivers

    def rows(self, conn: Connection, params: Mapping[str, Any]) -> Sequence[Any]:
        """All rows for `params`, each with the columns as attributes."""
        if conn.dialect.driver != "pysqlite":
            if not self._checked:  # the same contract on every back end, though only SQLite's path needs it
                self._plain(self.statement.compile(dialect=conn.dialect))
                self._checked = True
            return conn.execute(self.statement, dict(params)).all()
        compiled = self._sqlite or self._compile(conn.dialect)
        args = []
        for name, default, process in compiled.binds:
            value = params[name] if default is _REQUIRED else params.get(name, default)
            args.append(process(value) if process is not None and value is not None else value)
        driver = conn.connection.driver_connection
        assert driver is not None
        cursor = driver.execute(compiled.sql, args)
        try:
            fetched = cursor.fetchall()
        finally:
            cursor.close()
        row: Any = compiled.row
        if not compiled.converts:
            return [row._make(values) for values in fetched]
        processors = compiled.results
        return [
            row._make([(p(v) if p and v is not None else v) for p, v in zip(processors, values, strict=True)])
            for values in fetched
        ]

    def first(self, conn: Connection, params: Mapping[str, Any]) -> Any | None:
        found = self.rows(conn, params)
        return found[0] if found else None

    @staticmethod
    def _plain(compiled: Any) -> None:
        if (
            compiled.post_compile_params
            or compiled.literal_execute_params
            or (compiled.positional and compiled.positiontup is None)
        ):
            raise TypeError("Prepared takes statements with plain positional parameters (no expanding IN)")

    def _compile(self, dialect: Dialect) -> _Compiled:
        # positiontup, binds, post_compile_params and literal_execute_params are SQLCompiler internals:
        # tests/store/test_prepared_contract.py holds them to the SQLAlchemy release the lock files pin.
        compiled = self.statement.compile(dialect=dialect)
        self._plain(compiled)
        assert compiled.positiontup is not None  # SQLite's placeholders are positional
        binds: list[tuple[str, Any, Processor]] = []
        for name in compiled.positiontup:
            bind = compiled.binds[name]
            process = bind.type.dialect_impl(dialect).bind_processor(dialect)
            # A value written into the statement (a LIMIT, a literal) unless the caller gives another.
            binds.append((name, _REQUIRED if bind.required else bind.effective_value, process))
        columns = list(self.statement.selected_columns)
        results = tuple(
            column.type.dialect_impl(dialect).result_processor(dialect, None) for column in columns
        )
        self._sqlite = _Compiled(
            sql=compiled.string,
            binds=tuple(binds),
            row=namedtuple("Row", [column.key for column in columns]),  # type: ignore[misc]
            results=results,
            converts=any(results),
        )
        return self._sqlite
