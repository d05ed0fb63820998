"""The job queue on PostgreSQL: Procrastinate's tables, types and functions (`broadsheet worker`, workers/).
Nothing on SQLite, where the pipeline runs in one process and needs no queue.

The SQL is the schema file of the Procrastinate version pyproject.toml pins exactly (PROCRASTINATE below), read
from the installed package, so that Alembic alone brings a database up to date. Moving to a newer Procrastinate
takes a new migration here that runs the package's own migration files between the two versions
(procrastinate/sql/migrations/), in order, and the pin moved with it.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01
"""

from __future__ import annotations

from importlib import metadata, resources

from alembic import op

from broadsheet.errors import StoreError

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

PROCRASTINATE = "3.10.0"


def upgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name != "postgresql":
        return
    installed = metadata.version("procrastinate")
    if installed != PROCRASTINATE:
        raise StoreError(
            f"the job queue's schema is Procrastinate {PROCRASTINATE}'s, but {installed} is installed: install "
            "broadsheet's pinned dependencies (`make run` does) before migrating"
        )
    schema = (resources.files("procrastinate.sql") / "schema.sql").read_text(encoding="utf-8")
    # Many statements with dollar-quoted bodies: sent as they are on the migration's own connection (in its
    # transaction), without parameters, so no placeholder is read in them.
    driver = conn.connection.driver_connection
    assert driver is not None
    driver.execute(schema)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TABLE IF EXISTS procrastinate_events, procrastinate_periodic_defers, procrastinate_jobs, "
               "procrastinate_workers CASCADE")  # fmt: skip
    op.execute(
        "DO $$ DECLARE f regprocedure; BEGIN FOR f IN SELECT oid::regprocedure FROM pg_proc "
        "WHERE proname LIKE 'procrastinate\\_%' LOOP EXECUTE 'DROP FUNCTION ' || f; END LOOP; END $$"
    )
    op.execute("DROP TYPE IF EXISTS procrastinate_job_status, procrastinate_job_event_type, "
               "procrastinate_job_to_defer_v1 CASCADE")  # fmt: skip
