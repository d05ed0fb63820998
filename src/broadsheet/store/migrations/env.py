"""Alembic environment: runs migrations on the connection broadsheet hands it (see store/db.py)."""

from __future__ import annotations

from alembic import context

from broadsheet.store.schema import include_name, metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only when someone runs the alembic CLI by hand
    raise SystemExit("run migrations with `broadsheet init` (it passes the database connection)")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=True,  # SQLite alters tables by copying them
    compare_type=True,
    include_name=include_name,  # the FTS5 tables are raw SQL, not metadata
)
with context.begin_transaction():
    context.run_migrations()
