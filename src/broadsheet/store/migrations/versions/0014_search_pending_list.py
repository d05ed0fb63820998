"""The articles' search column on PostgreSQL, tuned for reading at scale. Nothing on SQLite.

- A shorter pending list for its GIN index. GIN collects new entries in an unsorted pending list and merges
  them into the index when the list passes `gin_pending_list_limit` (4 MB by default, some 700 articles'
  words); every search and every related-articles lookup reads the whole list. At 1 MB a lookup reads at most
  128 pages of it, and an insert that merges the list merges a quarter as much. `broadsheet import` and the
  crawler's daily index upkeep also empty it (`store.search.compact_index`).
- Statistics of its 10 000 commonest words (the statistics target 1 000; 1 000 words by default). Related
  articles take how many articles hold a word from them instead of counting it from the index, which for a
  word in half the articles means building a list of all of them. ANALYZE samples 300 000 rows to make them:
  6 s at 200 000 articles on two cores, in the background (autovacuum), and once here.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01
"""

from __future__ import annotations

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

PENDING_LIST_KB = 1024
STATISTICS_TARGET = 1000


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER INDEX ix_articles_search_vector SET (gin_pending_list_limit = {PENDING_LIST_KB})")
        op.execute(f"ALTER TABLE articles ALTER COLUMN search_vector SET STATISTICS {STATISTICS_TARGET}")
        op.execute("ANALYZE articles (search_vector)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER INDEX ix_articles_search_vector RESET (gin_pending_list_limit)")
        op.execute("ALTER TABLE articles ALTER COLUMN search_vector SET STATISTICS -1")
