"""The reader's read side: list order and outlet slugs on articles, article_tags, and full-text search.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from alembic import op

from broadsheet.slugs import slugify
from broadsheet.store.schema import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# Copies (duplicate_of set) are left out of the index: search and "related" never show them, and leaving
# them out spares every search a lookup into `articles` just to drop them. The WHEN clauses keep the index
# equal to exactly the originals, which FTS5's 'delete' needs (it must be given what was indexed).
_FTS = [
    """CREATE VIRTUAL TABLE articles_fts USING fts5(
        title, text, content='articles', content_rowid='id',
        tokenize='porter unicode61 remove_diacritics 2')""",
    # bm25 weights: a word in the headline counts ten times one in the body.
    "INSERT INTO articles_fts(articles_fts, rank) VALUES('rank', 'bm25(10.0, 1.0)')",
    """CREATE TRIGGER articles_fts_insert AFTER INSERT ON articles WHEN new.duplicate_of IS NULL BEGIN
        INSERT INTO articles_fts(rowid, title, text) VALUES (new.id, new.title, new.text);
    END""",
    """CREATE TRIGGER articles_fts_delete AFTER DELETE ON articles WHEN old.duplicate_of IS NULL BEGIN
        INSERT INTO articles_fts(articles_fts, rowid, title, text) VALUES ('delete', old.id, old.title, old.text);
    END""",
    # One trigger, two statements in a fixed order: remove what was indexed, index what is there now.
    """CREATE TRIGGER articles_fts_update AFTER UPDATE OF title, text, duplicate_of ON articles BEGIN
        INSERT INTO articles_fts(articles_fts, rowid, title, text)
            SELECT 'delete', old.id, old.title, old.text WHERE old.duplicate_of IS NULL;
        INSERT INTO articles_fts(rowid, title, text)
            SELECT new.id, new.title, new.text WHERE new.duplicate_of IS NULL;
    END""",
    "INSERT INTO articles_fts(rowid, title, text) SELECT id, title, text FROM articles WHERE duplicate_of IS NULL",
]
_FTS_DROP = [
    "DROP TRIGGER IF EXISTS articles_fts_update",
    "DROP TRIGGER IF EXISTS articles_fts_delete",
    "DROP TRIGGER IF EXISTS articles_fts_insert",
    "DROP TABLE IF EXISTS articles_fts",
]


def _add_list_columns(sqlite: bool) -> None:
    # SQLite adds a NOT NULL column only with a constant default, and rebuilding `articles` to drop it again
    # would empty article_urls (DROP TABLE deletes the rows first, firing ON DELETE CASCADE). So on SQLite the
    # placeholder default stays in the DDL; every insert sets sort_time, and the backfill below sets the rest.
    if sqlite:
        op.add_column(
            "articles",
            sa.Column(
                "sort_time", UTCDateTime(), nullable=False, server_default="1970-01-01 00:00:00.000000"
            ),
        )
    else:
        op.add_column("articles", sa.Column("sort_time", UTCDateTime(), nullable=True))
    op.add_column("articles", sa.Column("outlet_slug", sa.Text(), nullable=False, server_default=""))
    op.execute("UPDATE articles SET sort_time = COALESCE(published, created_at)")
    if not sqlite:
        op.alter_column("articles", "sort_time", nullable=False)


def _backfill_slugs_and_tags(conn: sa.Connection) -> None:
    """Outlet slugs and article_tags need Python's `slugify`: done in batches of rows, in id order."""
    last = 0
    while True:
        rows = conn.execute(
            sa.text(
                "SELECT id, outlet, tags, sort_time FROM articles WHERE id > :last ORDER BY id LIMIT 1000"
            ),
            {"last": last},
        ).all()
        if not rows:
            return
        slugs = [{"slug": slugify(row.outlet), "id": row.id} for row in rows]
        conn.execute(sa.text("UPDATE articles SET outlet_slug = :slug WHERE id = :id"), slugs)
        tags: list[dict[str, Any]] = []
        for row in rows:
            seen: set[str] = set()
            for name in json.loads(row.tags or "[]"):
                name = str(name).strip()
                slug = slugify(name)
                if name and slug not in seen:
                    seen.add(slug)
                    tags.append({"slug": slug, "id": row.id, "name": name, "t": row.sort_time})
        if tags:
            conn.execute(
                sa.text(
                    "INSERT INTO article_tags (slug, article_id, name, sort_time) VALUES (:slug, :id, :name, :t)"
                ),
                tags,
            )
        last = rows[-1].id


def upgrade() -> None:
    conn = op.get_bind()
    sqlite = conn.dialect.name == "sqlite"
    _add_list_columns(sqlite)
    op.create_index(
        "ix_articles_sort_time", "articles", [sa.text("sort_time DESC"), sa.text("id DESC")], unique=False
    )
    op.create_index("ix_articles_outlet_slug", "articles", ["outlet_slug", "sort_time", "id"])
    op.create_index("ix_articles_lang", "articles", ["lang", "sort_time", "id"])
    op.create_table(
        "article_tags",
        sa.Column("slug", sa.Text(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("sort_time", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("slug", "article_id", name="pk_article_tags"),
        sa.ForeignKeyConstraint(
            ["article_id"], ["articles.id"], name="fk_article_tags_article_id_articles", ondelete="CASCADE"
        ),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_article_tags_slug_sort_time", "article_tags", ["slug", "sort_time", "article_id"])
    op.create_index("ix_article_tags_article_id", "article_tags", ["article_id"])
    _backfill_slugs_and_tags(conn)
    if sqlite:
        for statement in _FTS:
            op.execute(statement)
    # PostgreSQL gets its full-text index (tsvector + GIN) with its own search backend; until then
    # `broadsheet.store.search` refuses with a clear error there.


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for statement in _FTS_DROP:
            op.execute(statement)
    op.drop_table("article_tags")
    for name in ("ix_articles_lang", "ix_articles_outlet_slug", "ix_articles_sort_time"):
        op.drop_index(name, table_name="articles")
    op.drop_column("articles", "outlet_slug")
    op.drop_column("articles", "sort_time")
