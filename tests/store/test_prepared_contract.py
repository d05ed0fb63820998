"""The SQLAlchemy internals `Prepared` (store/prepared.py) compiles with, so a release that moves them fails here.

test_prepared.py checks that its rows equal SQLAlchemy's; these tests name the internal that changed.
"""

from __future__ import annotations

import inspect
import sqlite3
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy
from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, bindparam, select, union_all
from sqlalchemy.dialects import sqlite
from sqlalchemy.sql import selectable
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import BindParameter
from sqlalchemy.types import TypeEngine

from broadsheet.store import Store
from locked import TEST_LOCK, internal_changed, read_lock

# The SQLAlchemy release whose source the uses below were read against; the lock must pin it (first test).
CHECKED_AGAINST = "2.1.9"
USER = "store/prepared.py (Prepared._compile, Prepared.rows)"
MISSING: Any = object()

sample = Table(
    "sample",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("seen", DateTime),
    Column("name", String),
)
dialect = sqlite.dialect()  # the pysqlite dialect, as Store.open makes it for sqlite:/// addresses


def changed(what: str) -> str:
    return internal_changed("sqlalchemy", CHECKED_AGAINST, USER, what)


def compile_(statement: Any) -> SQLCompiler:
    compiled = statement.compile(dialect=dialect)
    assert isinstance(compiled, SQLCompiler), changed(f"compile() returned a {type(compiled).__name__}")
    return compiled


def test_the_lock_pins_the_sqlalchemy_release_these_internals_were_checked_against() -> None:
    locked = read_lock(TEST_LOCK)["sqlalchemy"].version
    assert locked == CHECKED_AGAINST, (
        f"{TEST_LOCK.name} pins sqlalchemy=={locked}, but {USER} reads SQLAlchemy's compiler internals as "
        f"{CHECKED_AGAINST} has them. Read every use in this file against {locked}'s source, run "
        f"tests/store/test_prepared.py, then set CHECKED_AGAINST = {locked!r}; or keep {CHECKED_AGAINST}: "
        f"make lock LOCK_ARGS='-P sqlalchemy=={CHECKED_AGAINST}'"
    )
    assert sqlalchemy.__version__ == locked, changed(
        f"the installed release reports {sqlalchemy.__version__}"
    )


def test_the_statement_classes_prepared_accepts_are_where_it_imports_them() -> None:
    for name in ("Select", "CompoundSelect"):
        assert inspect.isclass(getattr(selectable, name, None)), changed(
            f"sqlalchemy.sql.selectable.{name} moved"
        )


def test_the_stores_sqlite_connections_take_the_fast_path(tmp_path: Path) -> None:
    # Prepared.rows runs on the DBAPI cursor only for this driver name: under any other, every read would
    # silently take the slow path. (The fast path is SQLite's: other back ends go through SQLAlchemy.)
    store = Store.open(f"sqlite:///{tmp_path / 'b.db'}")
    try:
        assert store.engine.dialect.driver == "pysqlite", changed(
            f"the SQLite dialect's driver is now called {store.engine.dialect.driver!r}, not 'pysqlite'"
        )
        with store.engine.connect() as conn:
            driver = conn.connection.driver_connection
            assert isinstance(driver, sqlite3.Connection), changed(
                f"Connection.connection.driver_connection is a {type(driver).__name__}, not a sqlite3.Connection"
            )
    finally:
        store.close()


def test_positiontup_names_each_placeholder_in_order_repeats_included() -> None:
    statement = select(sample.c.id, sample.c.seen).where(
        sample.c.id == bindparam("id"), sample.c.name != bindparam("name"), sample.c.id != bindparam("id")
    )
    compiled = compile_(statement.limit(5))
    positions = getattr(compiled, "positiontup", MISSING)
    assert positions is not MISSING, changed("SQLCompiler has no `positiontup`")
    assert isinstance(positions, list) and all(isinstance(name, str) for name in positions), changed(
        f"SQLCompiler.positiontup is {positions!r}, not a list of bind names"
    )
    assert positions[:3] == ["id", "name", "id"], changed(
        f"SQLCompiler.positiontup is {positions!r}: it no longer lists the bind names in placeholder order, "
        "each as often as it is used"
    )
    assert isinstance(compiled.string, str) and compiled.string.count("?") == len(positions), changed(
        f"SQLCompiler.string has {compiled.string.count('?')} '?' placeholders for {len(positions)} entries "
        f"in positiontup: {compiled.string!r}"
    )


def test_binds_say_which_values_the_caller_must_give_and_which_the_statement_holds() -> None:
    compiled = compile_(select(sample.c.id).where(sample.c.id == bindparam("id")).limit(5))
    binds = getattr(compiled, "binds", MISSING)
    assert isinstance(binds, dict), changed(f"SQLCompiler.binds is {binds!r}, not a dict of BindParameter")
    assert set(compiled.positiontup or ()) <= set(binds), changed(
        f"SQLCompiler.binds lacks names that positiontup lists: {compiled.positiontup} vs {sorted(binds)}"
    )
    by_caller = binds["id"]
    assert isinstance(by_caller, BindParameter), changed(
        f"SQLCompiler.binds holds {type(by_caller).__name__}"
    )
    assert by_caller.required is True, changed("BindParameter.required is not True for bindparam('id')")
    assert isinstance(by_caller.type, TypeEngine), changed("BindParameter.type is not a TypeEngine")
    limits = [binds[name] for name in compiled.positiontup or () if name != "id"]
    assert any(b.required is False and b.effective_value == 5 for b in limits), changed(
        "the LIMIT's bind parameter no longer has required=False and effective_value=5: "
        + ", ".join(f"{b.key}: required={b.required}, effective_value={b.effective_value!r}" for b in limits)
    )


def test_expanding_and_literal_execute_parameters_are_set_apart() -> None:
    # Prepared refuses these two kinds (rendered at execution time) by looking for them in these sets.
    plain = compile_(select(sample.c.id).where(sample.c.id == bindparam("id")))
    expanding = compile_(select(sample.c.id).where(sample.c.id.in_(bindparam("ids", expanding=True))))
    literal = compile_(select(sample.c.id).where(sample.c.id == bindparam("x", literal_execute=True)))
    for compiled, attribute, expected in [
        (plain, "post_compile_params", False),
        (plain, "literal_execute_params", False),
        (expanding, "post_compile_params", True),
        (literal, "literal_execute_params", True),
    ]:
        value = getattr(compiled, attribute, MISSING)
        assert value is not MISSING, changed(f"SQLCompiler has no `{attribute}`")
        assert bool(value) is expected, changed(
            f"SQLCompiler.{attribute} is {value!r} for {'a' if expected else 'no'} parameter of that kind"
        )


def test_type_processors_are_called_as_the_fast_path_calls_them() -> None:
    parameters = {
        "dialect_impl": ["self", "dialect"],
        "bind_processor": ["self", "dialect"],
        "result_processor": ["self", "dialect", "coltype"],
    }
    for method, expected in parameters.items():
        got = list(inspect.signature(getattr(TypeEngine, method)).parameters)
        assert got == expected, changed(f"TypeEngine.{method} takes {got}, not {expected}")
    impl = DateTime().dialect_impl(dialect)
    to_driver, from_driver = impl.bind_processor(dialect), impl.result_processor(dialect, None)
    assert callable(to_driver) and callable(from_driver), changed(
        "DateTime on SQLite has no bind or result processor: the fast path would hand datetimes to sqlite3 "
        "and return strings"
    )
    moment = datetime(2026, 11, 30, 8, 15, 2, 500)
    stored = to_driver(moment)
    assert isinstance(stored, str) and from_driver(stored) == moment, changed(
        f"DateTime's SQLite processors turn {moment!r} into {stored!r} and back into {from_driver(stored)!r}"
    )


def test_selected_columns_have_a_key_and_a_type_for_selects_and_unions() -> None:
    single = select(sample.c.id, sample.c.seen.label("when"))
    for statement in (single, union_all(single, single)):
        columns = list(statement.selected_columns)
        keys = [getattr(column, "key", MISSING) for column in columns]
        assert keys == ["id", "when"], changed(f"{type(statement).__name__}.selected_columns keys are {keys}")
        types = [type(getattr(column, "type", None)).__name__ for column in columns]
        assert all(isinstance(getattr(column, "type", None), TypeEngine) for column in columns), changed(
            f"{type(statement).__name__}.selected_columns have types {types}"
        )
