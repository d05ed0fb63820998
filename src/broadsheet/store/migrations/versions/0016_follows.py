"""Readers' follows and mutes (outlets, tags, entities, stories), bookmarks, and reading history.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from broadsheet.store.schema import UTCDateTime

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

# Ids as migration 0013 left every other id: BIGINT on PostgreSQL, INTEGER on SQLite. Spelled out here rather
# than imported, so that this migration keeps creating what it always created.
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=f"fk_{table}_{column}_{target}", ondelete="CASCADE"
    )


def upgrade() -> None:
    op.create_table(
        "follows",
        sa.Column("user_id", ID, nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), server_default="", nullable=False),
        sa.Column("mute", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        _fk("follows", "user_id", "users"),
        sa.PrimaryKeyConstraint("user_id", "kind", "key", name="pk_follows"),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_follows_kind_key", "follows", ["kind", "key"])
    op.create_table(
        "bookmarks",
        sa.Column("user_id", ID, nullable=False),
        sa.Column("article_id", ID, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        _fk("bookmarks", "user_id", "users"),
        _fk("bookmarks", "article_id", "articles"),
        sa.PrimaryKeyConstraint("user_id", "article_id", name="pk_bookmarks"),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_bookmarks_user_id_created_at", "bookmarks", ["user_id", "created_at", "article_id"])
    op.create_index("ix_bookmarks_article_id", "bookmarks", ["article_id"])
    op.create_table(
        "reads",
        sa.Column("user_id", ID, nullable=False),
        sa.Column("article_id", ID, nullable=False),
        sa.Column("story_id", ID, nullable=True),
        sa.Column("read_at", UTCDateTime(), nullable=False),
        _fk("reads", "user_id", "users"),
        _fk("reads", "article_id", "articles"),
        sa.PrimaryKeyConstraint("user_id", "article_id", name="pk_reads"),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_reads_user_id_read_at", "reads", ["user_id", "read_at", "article_id"])
    op.create_index("ix_reads_article_id", "reads", ["article_id"])


def downgrade() -> None:
    # A table's indexes go with it.
    for table in ("reads", "bookmarks", "follows"):
        op.drop_table(table)
