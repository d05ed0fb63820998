"""Readers: accounts (users, their sessions and tokens) and comments on articles (revisions, reports, votes).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from broadsheet.store.schema import UTCDateTime

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

# Ids as migration 0013 left every other id: BIGINT on PostgreSQL (a BIGSERIAL key), INTEGER on SQLite (where
# an INTEGER PRIMARY KEY is the 64-bit rowid). Spelled out here rather than imported, so that this migration
# keeps creating what it always created.
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _fk(table: str, column: str, target: str, ondelete: str = "CASCADE") -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=f"fk_{table}_{column}_{target}", ondelete=ondelete
    )


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", ID, nullable=False),
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("name_key", sa.String(length=32), nullable=False),
        sa.Column("display_name", sa.String(length=60), server_default="", nullable=False),
        sa.Column("password_hash", sa.Text(), server_default="", nullable=False),
        sa.Column("role", sa.String(length=12), server_default="reader", nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("banned_at", UTCDateTime(), nullable=True),
        sa.Column("ban_reason", sa.Text(), server_default="", nullable=False),
        sa.Column("failed_logins", sa.Integer(), server_default="0", nullable=False),
        sa.Column("locked_until", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.UniqueConstraint("name_key", name="uq_users_name_key"),
    )
    op.create_table(
        "user_sessions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("user_id", ID, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("seen_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        _fk("user_sessions", "user_id", "users"),
        sa.PrimaryKeyConstraint("id", name="pk_user_sessions"),
    )
    op.create_index("ix_user_sessions_user_id", "user_sessions", ["user_id"])
    op.create_index("ix_user_sessions_expires_at", "user_sessions", ["expires_at"])
    op.create_table(
        "user_tokens",
        sa.Column("id", ID, nullable=False),
        sa.Column("user_id", ID, nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("label", sa.Text(), server_default="", nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=True),
        sa.Column("used_at", UTCDateTime(), nullable=True),
        _fk("user_tokens", "user_id", "users"),
        sa.PrimaryKeyConstraint("id", name="pk_user_tokens"),
        sa.UniqueConstraint("token_hash", name="uq_user_tokens_token_hash"),
    )
    op.create_index("ix_user_tokens_user_id", "user_tokens", ["user_id"])
    op.create_index("ix_user_tokens_expires_at", "user_tokens", ["expires_at"])
    op.create_table(
        "comments",
        sa.Column("id", ID, nullable=False),
        sa.Column("article_id", ID, nullable=False),
        sa.Column("parent_id", ID, nullable=True),
        sa.Column("user_id", ID, nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("html", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("edited_at", UTCDateTime(), nullable=True),
        sa.Column("deleted_at", UTCDateTime(), nullable=True),
        sa.Column("hidden_at", UTCDateTime(), nullable=True),
        sa.Column("hidden_by", ID, nullable=True),
        sa.Column("on_story", sa.Boolean(), nullable=False, server_default=sa.false()),
        _fk("comments", "article_id", "articles"),
        _fk("comments", "parent_id", "comments"),
        _fk("comments", "user_id", "users", ondelete="SET NULL"),
        _fk("comments", "hidden_by", "users", ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name="pk_comments"),
    )
    op.create_index("ix_comments_article_id", "comments", ["article_id", "created_at", "id"])
    op.create_index("ix_comments_user_id", "comments", ["user_id", "created_at"])
    op.create_index("ix_comments_parent_id", "comments", ["parent_id"])
    op.create_index("ix_comments_hidden_by", "comments", ["hidden_by"])
    op.create_table(
        "comment_revisions",
        sa.Column("id", ID, nullable=False),
        sa.Column("comment_id", ID, nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        _fk("comment_revisions", "comment_id", "comments"),
        sa.PrimaryKeyConstraint("id", name="pk_comment_revisions"),
    )
    op.create_index("ix_comment_revisions_comment_id", "comment_revisions", ["comment_id"])
    op.create_table(
        "comment_reports",
        sa.Column("id", ID, nullable=False),
        sa.Column("comment_id", ID, nullable=False),
        sa.Column("user_id", ID, nullable=False),
        sa.Column("reason", sa.Text(), server_default="", nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("resolved_at", UTCDateTime(), nullable=True),
        _fk("comment_reports", "comment_id", "comments"),
        _fk("comment_reports", "user_id", "users"),
        sa.PrimaryKeyConstraint("id", name="pk_comment_reports"),
        sa.UniqueConstraint("comment_id", "user_id", name="uq_comment_reports_comment_id"),
    )
    op.create_index("ix_comment_reports_user_id", "comment_reports", ["user_id"])
    op.create_table(
        "comment_votes",
        sa.Column("comment_id", ID, nullable=False),
        sa.Column("user_id", ID, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        _fk("comment_votes", "comment_id", "comments"),
        _fk("comment_votes", "user_id", "users"),
        sa.PrimaryKeyConstraint("comment_id", "user_id", name="pk_comment_votes"),
    )
    op.create_index("ix_comment_votes_user_id", "comment_votes", ["user_id"])


def downgrade() -> None:
    # Dependents first; a table's indexes go with it.
    for table in (
        "comment_votes",
        "comment_reports",
        "comment_revisions",
        "comments",
        "user_tokens",
        "user_sessions",
        "users",
    ):
        op.drop_table(table)
