"""Reader apps: each reader's subscriptions and folders, read state, and the Fever key of an app password.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from broadsheet.store.schema import UTCDateTime

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

# Ids as migration 0013 left every other id: BIGINT on PostgreSQL, INTEGER on SQLite. Spelled out here rather
# than imported, so that this migration keeps creating what it always created.
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _fk(table: str, column: str, target: str, ondelete: str = "CASCADE") -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=f"fk_{table}_{column}_{target}", ondelete=ondelete
    )


def upgrade() -> None:
    op.create_table(
        "folders",
        sa.Column("id", ID, nullable=False),
        sa.Column("user_id", ID, nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("story_id", ID, nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        _fk("folders", "user_id", "users"),
        sa.PrimaryKeyConstraint("id", name="pk_folders"),
        sa.UniqueConstraint("user_id", "name", name="uq_folders_user_id_name"),
    )
    op.create_table(
        "subscriptions",
        sa.Column("user_id", ID, nullable=False),
        sa.Column("source_id", ID, nullable=False),
        sa.Column("folder_id", ID, nullable=True),
        sa.Column("title", sa.Text(), server_default="", nullable=False),
        sa.Column("read_upto", ID, server_default="0", nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        _fk("subscriptions", "user_id", "users"),
        _fk("subscriptions", "source_id", "sources"),
        _fk("subscriptions", "folder_id", "folders", "SET NULL"),
        sa.PrimaryKeyConstraint("user_id", "source_id", name="pk_subscriptions"),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_subscriptions_source_id", "subscriptions", ["source_id"])
    op.create_index("ix_subscriptions_folder_id", "subscriptions", ["folder_id"])
    op.create_table(
        "entry_states",
        sa.Column("user_id", ID, nullable=False),
        sa.Column("article_id", ID, nullable=False),
        sa.Column("read", sa.Boolean(), nullable=False),
        sa.Column("changed_at", UTCDateTime(), nullable=False),
        _fk("entry_states", "user_id", "users"),
        _fk("entry_states", "article_id", "articles"),
        sa.PrimaryKeyConstraint("user_id", "article_id", name="pk_entry_states"),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_entry_states_article_id", "entry_states", ["article_id"])
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("library_at", UTCDateTime(), nullable=True))
    with op.batch_alter_table("user_tokens") as batch:
        batch.add_column(sa.Column("fever_hash", sa.String(length=64), nullable=True))
        batch.create_unique_constraint("uq_user_tokens_fever_hash", ["fever_hash"])


def downgrade() -> None:
    with op.batch_alter_table("user_tokens") as batch:
        batch.drop_constraint("uq_user_tokens_fever_hash", type_="unique")
        batch.drop_column("fever_hash")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("library_at")
    for table in ("entry_states", "subscriptions", "folders"):
        op.drop_table(table)
