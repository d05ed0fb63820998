from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from broadsheet.store import Store
from broadsheet.store.db import _alembic_config, connect, head_revision, migrate
from broadsheet.store.schema import include_name, metadata
from postgres import PostgresCluster


def test_migrations_create_exactly_the_declared_schema(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'b.db'}")
    with store.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_name": include_name})
        diff = compare_metadata(context, metadata)
    assert diff == []


def test_database_uses_wal_with_a_size_limit_and_foreign_keys(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'b.db'}")
    with store.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA journal_size_limit")).scalar() == 64 * 1024 * 1024
    assert {"sources", "articles", "article_urls"} <= set(inspect(store.engine).get_table_names())


def test_opening_twice_is_idempotent(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'b.db'}"
    Store.open(url).close()
    store = Store.open(url)
    with store.engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0020"


def test_the_head_read_from_the_file_names_is_alembics_and_an_up_to_date_store_opens_without_alembic(
    tmp_path: Path,
) -> None:
    assert head_revision() == ScriptDirectory.from_config(_alembic_config()).get_current_head() == "0020"
    url = f"sqlite:///{tmp_path / 'b.db'}"
    Store.open(url).close()  # made and migrated here
    probe = (
        "import sys; from broadsheet.store import Store; "
        f"Store.open({url!r}).close(); print('alembic' in sys.modules)"
    )
    ran = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert ran.stdout.strip() == "False", ran.stderr


def test_the_job_queue_schema_comes_and_goes_with_migration_0012_on_postgresql(
    postgres: PostgresCluster,
) -> None:
    url = postgres.database(migrated=False)
    engine = connect(url)
    try:
        assert migrate(engine) == "0020"
        with engine.connect() as conn:
            tables = set(
                conn.execute(
                    text("SELECT tablename FROM pg_tables WHERE tablename LIKE 'procrastinate%'")
                ).scalars()
            )
            assert tables == {"procrastinate_jobs", "procrastinate_workers", "procrastinate_events",
                              "procrastinate_periodic_defers"}  # fmt: skip
        config = _alembic_config()
        with engine.begin() as conn:
            config.attributes["connection"] = conn
            command.downgrade(config, "0011")
        with engine.connect() as conn:
            left = conn.execute(
                text("SELECT (SELECT count(*) FROM pg_class WHERE relname LIKE 'procrastinate%') + "
                     "(SELECT count(*) FROM pg_proc WHERE proname LIKE 'procrastinate%') + "
                     "(SELECT count(*) FROM pg_type WHERE typname LIKE 'procrastinate%')")
            ).scalar_one()  # fmt: skip
            assert left == 0
        assert migrate(engine) == "0020"  # and up again
    finally:
        engine.dispose()
        postgres.drop(url)


def test_sqlite_gets_no_job_queue(tmp_path: Path) -> None:
    engine = connect(f"sqlite:///{tmp_path / 'b.db'}")
    migrate(engine)
    with engine.connect() as conn:
        names = conn.execute(text("SELECT name FROM sqlite_master WHERE name LIKE 'procrastinate%'")).all()
    assert names == []


# Each migration of this series with the tables it creates: downgraded to the one before, they are gone, and
# upgraded again the schema is as declared.
ADDED_TABLES = {
    "0015": {"users", "user_sessions", "user_tokens", "comments", "comment_revisions", "comment_reports",
             "comment_votes"},
    "0016": {"follows", "bookmarks", "reads"},
    "0017": {"folders", "subscriptions", "entry_states"},
    "0018": {"websub", "websub_pushes"},
    "0019": {"entry_labels"},
}  # fmt: skip


@pytest.mark.parametrize("revision", sorted(ADDED_TABLES))
def test_a_migrations_tables_come_and_go_with_it(database_url: str, revision: str) -> None:
    tables = ADDED_TABLES[revision]
    engine = connect(database_url)
    try:
        newest = migrate(engine)
        config = _alembic_config()
        with engine.begin() as conn:
            config.attributes["connection"] = conn
            command.downgrade(config, f"{int(revision) - 1:04d}")
        assert not tables & set(inspect(engine).get_table_names())
        assert migrate(engine) == newest  # and up again, as declared
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"include_name": include_name})
            assert compare_metadata(context, metadata) == []
        assert set(inspect(engine).get_table_names()) >= tables
    finally:
        engine.dispose()
