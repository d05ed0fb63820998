"""Ids 64-bit on PostgreSQL, as they always were on SQLite: every id column and every column holding one becomes
BIGINT, and each id sequence counts as far. PostgreSQL's INTEGER stops at 2 147 483 647, which an installation
storing a million articles a day would reach within years, and which pages and the API, taking any id SQLite can
hold, must not meet as a server error. Nothing on SQLite.

Each ALTER rewrites its table, and the articles' search column is computed again: on a large database this
migration takes a while (minutes per million articles) and holds the tables meanwhile.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01
"""

from __future__ import annotations

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

# (table, columns): ids, and the columns that hold another table's (or their own table's) ids.
COLUMNS = {
    "sources": ("id",),
    "articles": ("id", "source_id", "duplicate_of", "story_id"),
    "article_tags": ("article_id",),
    "article_urls": ("article_id",),
    "stories": ("id", "headline_id", "merged_into"),
    "story_events": ("id", "story_id", "into_id"),
    "vectors": ("article_id",),
    "jobs": ("id",),
    "enrichments": ("article_id",),
    "article_entities": ("article_id",),
    "sentence_vectors": ("article_id",),
    "story_briefs": ("story_id",),
    "rewrites": ("subject_id",),
}
SEQUENCES = (
    "sources",
    "articles",
    "stories",
    "story_events",
    "jobs",
)  # tables whose `id` a sequence hands out


def _alter(type_: str) -> None:
    # The search column (migration 0011) is computed from duplicate_of, whose type PostgreSQL will not change
    # under it: it is dropped with its index and made again as it was (every article's tsvector recomputed).
    conn = op.get_bind()
    expression = conn.exec_driver_sql(
        "SELECT pg_get_expr(d.adbin, d.adrelid) FROM pg_attrdef d JOIN pg_attribute a ON a.attrelid = d.adrelid "
        "AND a.attnum = d.adnum WHERE d.adrelid = 'articles'::regclass AND a.attname = 'search_vector'"
    ).scalar_one()
    index = conn.exec_driver_sql(
        "SELECT indexdef FROM pg_indexes WHERE tablename = 'articles' AND indexname = 'ix_articles_search_vector'"
    ).scalar_one()
    op.execute("DROP INDEX ix_articles_search_vector")
    op.execute("ALTER TABLE articles DROP COLUMN search_vector")
    for table, columns in COLUMNS.items():
        changes = ", ".join(f"ALTER COLUMN {column} TYPE {type_}" for column in columns)
        op.execute(f"ALTER TABLE {table} {changes}")
    for table in SEQUENCES:
        op.execute(f"ALTER SEQUENCE {table}_id_seq AS {type_}")
    op.execute(
        f"ALTER TABLE articles ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ({expression}) STORED"
    )
    op.execute(index)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    _alter("bigint")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    _alter("integer")  # fails, saying which, if an id above 2 147 483 647 is already stored
