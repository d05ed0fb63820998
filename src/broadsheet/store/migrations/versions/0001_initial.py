"""Sources, articles and the URLs that reach them.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from broadsheet.store.schema import UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sources",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("format", sa.String(32), nullable=False, server_default=""),
        sa.Column("title", sa.Text(), nullable=False, server_default=""),
        sa.Column("site_url", sa.Text(), nullable=False, server_default=""),
        sa.Column("folder", sa.Text(), nullable=False, server_default=""),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("etag", sa.Text()),
        sa.Column("last_modified", sa.Text()),
        sa.Column("last_fetch_at", UTCDateTime()),
        sa.Column("last_success_at", UTCDateTime()),
        sa.Column("last_new_at", UTCDateTime()),
        sa.Column("last_status", sa.String(16), nullable=False, server_default="never"),
        sa.Column("last_http_status", sa.Integer()),
        sa.Column("last_error", sa.Text()),
        sa.Column("error_count", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("interval_seconds", sa.Integer(), nullable=False),
        sa.Column("next_fetch_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_sources"),
        sa.UniqueConstraint("url", name="uq_sources_url"),
    )
    op.create_index("ix_sources_next_fetch_at", "sources", ["next_fetch_at"])
    op.create_table(
        "articles",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("canonical_url", sa.Text(), nullable=False),
        sa.Column("source_id", sa.Integer()),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("html", sa.Text(), nullable=False, server_default=""),
        sa.Column("description", sa.Text(), nullable=False, server_default=""),
        sa.Column("author", sa.Text(), nullable=False, server_default=""),
        sa.Column("outlet", sa.Text(), nullable=False, server_default=""),
        sa.Column("image", sa.Text(), nullable=False, server_default=""),
        sa.Column("image_alt", sa.Text(), nullable=False, server_default=""),
        sa.Column("lang", sa.String(16), nullable=False, server_default=""),
        sa.Column("tags", sa.Text(), nullable=False, server_default="[]"),
        sa.Column("published", UTCDateTime()),
        sa.Column("updated", UTCDateTime()),
        sa.Column("word_count", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("minhash", sa.LargeBinary()),
        sa.Column("duplicate_of", sa.Integer()),
        sa.Column("extraction_note", sa.Text(), nullable=False, server_default=""),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("modified_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_articles"),
        sa.UniqueConstraint("canonical_url", name="uq_articles_canonical_url"),
        sa.ForeignKeyConstraint(
            ["source_id"], ["sources.id"], name="fk_articles_source_id_sources", ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["duplicate_of"], ["articles.id"], name="fk_articles_duplicate_of_articles", ondelete="SET NULL"
        ),
    )
    for column in ("published", "created_at", "source_id", "content_hash", "duplicate_of"):
        op.create_index(f"ix_articles_{column}", "articles", [column])
    op.create_table(
        "article_urls",
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("url", name="pk_article_urls"),
        sa.ForeignKeyConstraint(
            ["article_id"], ["articles.id"], name="fk_article_urls_article_id_articles", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_article_urls_article_id", "article_urls", ["article_id"])


def downgrade() -> None:
    op.drop_table("article_urls")
    op.drop_table("articles")
    op.drop_table("sources")
