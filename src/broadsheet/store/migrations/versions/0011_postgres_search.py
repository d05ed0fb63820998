"""Full-text search on PostgreSQL: a text search configuration like the FTS5 index's, a tsvector of each
article (headline weighted above text) kept by PostgreSQL itself, and a GIN index on it. Nothing on SQLite,
whose FTS5 index is migration 0002's.

What still differs from FTS5 (porter, unicode61 with diacritics removed):
- stemming is Snowball's English stemmer (Porter's revised algorithm): a few words stem differently;
- accents are folded by PostgreSQL's unaccent dictionary, which also turns letters such as ß, æ and ł into ss,
  ae and l (FTS5 keeps those), and letters written with a separate combining accent are not folded;
- ranking is ts_rank_cd (cover density) with the same 10:1 weights, not bm25: it counts how closely and how
  often the words occur, but not how rare each word is, so in an OR search a rare word counts no more than a
  common one;
- positions in a tsvector stop at 16 383, so phrases are exact only in the first sixteen thousand or so words
  of an article, and only the first INDEXED_TEXT_CHARS characters of the text (and INDEXED_TITLE_CHARS of the
  headline) are indexed, which keeps every tsvector under PostgreSQL's 1 MB limit whatever the text holds;
- a phrase can run from the last word of the headline into the first of the text (FTS5 keeps columns apart).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from broadsheet.errors import StoreError

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

CONFIG = "broadsheet_search"
STEMMER = "broadsheet_english_stem"
# Punctuation the default word parser reads as part of URLs, e-mail addresses, hosts, file names, numbers, XML
# tags (it would drop <script> from the text altogether) and hyphenated words (covid-19 would be one word
# "covid" and the number "-19"). Each becomes a private-use stand-in, which the parser takes for a space, so
# text splits into runs of letters and digits as in FTS5; one character for one, so the search code can turn
# ts_headline's output back into the article's own text. `store.search` holds the same two strings.
PARSER_PUNCTUATION = "-+.@:/<>&"
PARSER_STAND_INS = "\ue100\ue101\ue102\ue103\ue104\ue105\ue106\ue107\ue108"
# The largest tsvector these can make (one new lexeme of a 4-byte letter every two characters, the worst
# case) stays under PostgreSQL's 1 MB limit, above which an insert would fail; 100 000 characters is some
# 16 000 words, about where tsvector positions stop counting anyway.
INDEXED_TEXT_CHARS = 100_000
INDEXED_TITLE_CHARS = 2_000


def _unaccent_schema(conn: sa.Connection) -> str:
    """The schema holding the unaccent extension, created here when it is missing and this user may."""
    find = sa.text("SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'unaccent'")
    schema = conn.execute(find).scalar()
    if schema is not None:
        return str(schema)
    available = conn.execute(sa.text("SELECT 1 FROM pg_available_extensions WHERE name = 'unaccent'")).first()
    if available is None:
        raise StoreError(
            "full-text search on PostgreSQL needs the unaccent extension, which this server lacks: install "
            "PostgreSQL's contrib modules (postgresql-contrib; Debian's postgresql package has them), then start "
            "again"
        )
    # unaccent is a trusted extension (PostgreSQL 13 on): anyone who may create objects in the database, as
    # its owner may, can add it. A user who may not is told what to ask for, rather than shown a bare error.
    allowed = sa.text("SELECT has_database_privilege(current_database(), 'CREATE')")
    if not conn.execute(allowed).scalar():
        raise StoreError(
            "full-text search on PostgreSQL needs the unaccent extension, and this database user may not add "
            "it: as the database's owner or a superuser, run CREATE EXTENSION unaccent; in this database, "
            "then start again"
        )
    conn.execute(sa.text("CREATE EXTENSION unaccent"))
    return str(conn.execute(find).scalar_one())


def _indexed(column: str, chars: int) -> str:
    return (
        f"to_tsvector('{CONFIG}', translate(left({column}, {chars}), "
        f"'{PARSER_PUNCTUATION}', '{PARSER_STAND_INS}'))"
    )


def upgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name != "postgresql":
        return
    unaccent = '"' + _unaccent_schema(conn).replace('"', '""') + '".unaccent'
    # Snowball's English stemmer without a stopword list: FTS5 indexes every word, and a search for "the who"
    # must not turn into a search for nothing.
    op.execute(
        f"CREATE TEXT SEARCH DICTIONARY {STEMMER} (TEMPLATE = pg_catalog.snowball, LANGUAGE = english)"
    )
    op.execute(f'CREATE TEXT SEARCH CONFIGURATION {CONFIG} (PARSER = pg_catalog."default")')
    # Words: accents folded, then stemmed. Numbers as they are. Hyphenated words are indexed by their parts
    # only (none reach the parser, but an article's "covid-19" must never be one lexeme a search cannot make).
    op.execute(
        f"ALTER TEXT SEARCH CONFIGURATION {CONFIG} ADD MAPPING FOR asciiword, word, numword, "
        f"hword_asciipart, hword_part, hword_numpart WITH {unaccent}, {STEMMER}"
    )
    op.execute(
        f"ALTER TEXT SEARCH CONFIGURATION {CONFIG} ADD MAPPING FOR uint, int, float, sfloat, version "
        "WITH pg_catalog.simple"
    )
    # A generated column cannot drift from its row, and copies (duplicate_of set) have none: search and
    # "related" never show them, as with FTS5. The headline's words are labelled A, the text's D (the default).
    op.execute(
        "ALTER TABLE articles ADD COLUMN search_vector tsvector GENERATED ALWAYS AS "
        f"(CASE WHEN duplicate_of IS NULL THEN setweight({_indexed('title', INDEXED_TITLE_CHARS)}, 'A') "
        f"|| {_indexed('text', INDEXED_TEXT_CHARS)} END) STORED"
    )
    op.execute("CREATE INDEX ix_articles_search_vector ON articles USING gin (search_vector)")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX ix_articles_search_vector")
    op.execute("ALTER TABLE articles DROP COLUMN search_vector")
    op.execute(f"DROP TEXT SEARCH CONFIGURATION {CONFIG}")
    op.execute(f"DROP TEXT SEARCH DICTIONARY {STEMMER}")
    # unaccent stays: it may have been there before, and other things may use it.
