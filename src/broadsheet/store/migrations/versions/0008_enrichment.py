"""Enrichment: each step's results per article, entities, topic and kind, markup hints; sentence vectors and
story briefs.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from broadsheet.store.schema import UTCDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ALTER TABLE: SQLite adds (and, from 3.35, drops) a column without rebuilding the table, which
    # the full-text index's triggers on articles would forbid.
    op.add_column("articles", sa.Column("section", sa.Text(), server_default="", nullable=False))
    op.add_column("articles", sa.Column("genre", sa.String(length=16), server_default="", nullable=False))
    op.add_column("articles", sa.Column("topic", sa.String(length=16), server_default="", nullable=False))
    op.add_column("articles", sa.Column("kind", sa.String(length=16), server_default="", nullable=False))
    op.create_index("ix_articles_topic", "articles", ["topic", sa.text("sort_time DESC"), sa.text("id DESC")])
    op.add_column("stories", sa.Column("topic", sa.String(length=16), server_default="", nullable=False))
    op.create_table(
        "enrichments",
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("step", sa.String(length=16), nullable=False),
        sa.Column("version", sa.String(length=128), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("data", sa.Text(), server_default="{}", nullable=False),
        sa.Column("done_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"], ["articles.id"], name="fk_enrichments_article_id_articles", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("article_id", "step", name="pk_enrichments"),
    )
    op.create_table(
        "article_entities",
        sa.Column("slug", sa.Text(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("mentions", sa.Integer(), server_default="1", nullable=False),
        sa.Column("sort_time", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["articles.id"],
            name="fk_article_entities_article_id_articles",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("slug", "article_id", name="pk_article_entities"),
        sqlite_with_rowid=False,
    )
    op.create_index(
        "ix_article_entities_slug_sort_time", "article_entities", ["slug", "sort_time", "article_id"]
    )
    op.create_index("ix_article_entities_article_id", "article_entities", ["article_id"])
    op.create_table(
        "sentence_vectors",
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("model", sa.String(length=64), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("vectors", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["articles.id"],
            name="fk_sentence_vectors_article_id_articles",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("article_id", name="pk_sentence_vectors"),
    )
    op.create_table(
        "story_briefs",
        sa.Column("story_id", sa.Integer(), nullable=False),
        sa.Column("article_count", sa.Integer(), nullable=False),
        sa.Column("version", sa.String(length=128), nullable=False),
        sa.Column("built_at", UTCDateTime(), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("story_id", name="pk_story_briefs"),
    )


def downgrade() -> None:
    op.drop_table("story_briefs")
    op.drop_table("sentence_vectors")
    op.drop_index("ix_article_entities_article_id", table_name="article_entities")
    op.drop_index("ix_article_entities_slug_sort_time", table_name="article_entities")
    op.drop_table("article_entities")
    op.drop_table("enrichments")
    op.drop_column("stories", "topic")
    op.drop_index("ix_articles_topic", table_name="articles")
    for column in ("kind", "topic", "genre", "section"):
        op.drop_column("articles", column)
