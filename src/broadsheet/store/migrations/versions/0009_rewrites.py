"""The optional LLM's rewrites: summaries, story briefs and answers, each with what it was written from.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from broadsheet.store.schema import UTCDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rewrites",
        sa.Column("subject", sa.String(length=8), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("question", sa.Text(), server_default="", nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("version", sa.String(length=256), nullable=False),
        sa.Column("source_hash", sa.String(length=64), nullable=False),
        sa.Column("sources", sa.Text(), server_default="[]", nullable=False),
        sa.Column("data", sa.Text(), server_default="{}", nullable=False),
        sa.Column("requested_at", UTCDateTime(), nullable=False),
        sa.Column("done_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("subject", "subject_id", "question", name="pk_rewrites"),
    )
    op.create_index("ix_rewrites_status_requested_at", "rewrites", ["status", "requested_at"])


def downgrade() -> None:
    op.drop_index("ix_rewrites_status_requested_at", table_name="rewrites")
    op.drop_table("rewrites")
