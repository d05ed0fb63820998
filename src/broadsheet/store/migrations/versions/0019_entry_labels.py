"""Reader apps: labels a reader puts on single entries (Google Reader's item tags), beside folders of feeds.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from broadsheet.store.schema import UTCDateTime

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

# Ids as migration 0013 left every other id: BIGINT on PostgreSQL, INTEGER on SQLite. Spelled out here rather
# than imported, so that this migration keeps creating what it always created.
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _fk(column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=f"fk_entry_labels_{column}_{target}", ondelete="CASCADE"
    )


def upgrade() -> None:
    op.create_table(
        "entry_labels",
        sa.Column("user_id", ID, nullable=False),
        sa.Column("folder_id", ID, nullable=False),
        sa.Column("article_id", ID, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        _fk("user_id", "users"),
        _fk("folder_id", "folders"),
        _fk("article_id", "articles"),
        sa.PrimaryKeyConstraint("user_id", "folder_id", "article_id", name="pk_entry_labels"),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_entry_labels_user_id", "entry_labels", ["user_id", "article_id"])
    op.create_index("ix_entry_labels_folder_id", "entry_labels", ["folder_id"])
    op.create_index("ix_entry_labels_article_id", "entry_labels", ["article_id"])


def downgrade() -> None:
    op.drop_table("entry_labels")
