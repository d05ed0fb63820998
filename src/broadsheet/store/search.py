"""Full-text search over stored articles (SQLite FTS5): ranked pages of cards with safe HTML snippets.

How typed queries become FTS5 queries is `ftsquery.py`; the index itself is created by migration 0002.
"""

from __future__ import annotations

import functools
import html
import secrets
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Connection, Engine, TextClause, bindparam, text

from broadsheet.errors import SearchQueryError, StoreError
from broadsheet.models import SearchHit, SearchPage
from broadsheet.store.cards import cards_by_id
from broadsheet.store.ftsquery import MAX_QUERY_CHARS, to_fts
from broadsheet.store.schema import articles

__all__ = [
    "MAX_PAGE",
    "MAX_PER_PAGE",
    "SEARCH_HELP",
    "Compaction",
    "compact_index",
    "index_segments",
    "search",
]

MAX_PAGE = 50  # ranked results past this are not worth reading: narrow the search instead
MAX_PER_PAGE = 100
SNIPPET_TOKENS = 24
RANK_WINDOW = 2_000  # newest matches ranked; see _ranked
MERGE_STEP_PAGES = 2_000  # index pages one merge transaction writes (~8 MB, ~0.15 s)
MAX_MERGE_STEPS = 100_000  # a guard: an index of 800 GB would need this many

SEARCH_HELP = f"""\
Type the words you are looking for: articles containing all of them are shown, best matches first.
A word in the headline counts for more than one in the text.
Words match other forms of themselves (flood finds floods and flooding) and accents are ignored (cafe finds café).

"exact phrase"     words next to each other, in this order
tram OR ferry      either word (OR in capitals)
-council           leave out articles with this word; -"a phrase" leaves out a phrase (NOT council works too)
harb*              words starting with these letters (at least 2 of them)

Other punctuation is read like the articles themselves: covid-19 finds "Covid 19".
Parentheses and fields such as title: are not supported; they are searched as plain words.
Searches are at most {MAX_QUERY_CHARS} characters, and results go up to page {MAX_PAGE}.
A word found in very many articles is ranked among its newest {RANK_WINDOW:,} matches.
"""


class HasEngine(Protocol):
    @property
    def engine(self) -> Engine: ...


def _engine(source: Engine | HasEngine) -> Engine:
    return source if isinstance(source, Engine) else source.engine


_FILTERS = {
    "outlet_slug": "outlet_slug = :outlet_slug",
    "lang": "lang = :lang",
    "since": "sort_time >= :since",
    "until": "sort_time < :until",
}


@functools.cache
def _ranked_statement(filters: tuple[str, ...]) -> TextClause:
    """The ranking statement for a set of filters, built once (building one costs about as much as SQLite
    takes to run it)."""
    restrict = ""
    if filters:
        # The filters pick ids from the list indexes (no article row is read); the "+" keeps SQLite from
        # handing each id to FTS5 as a separate lookup, which at 100 000 ids takes seconds.
        where = " AND ".join(_FILTERS[name] for name in filters)
        restrict = f" AND +rowid IN (SELECT id FROM articles WHERE {where})"
    # bm25 is computed for the newest RANK_WINDOW matches only: a query matching most of the archive
    # still answers in milliseconds, and news readers want the recent matches of a common word.
    statement = text(
        "SELECT id, rank FROM (SELECT rowid AS id, rank FROM articles_fts WHERE articles_fts MATCH :q"
        f"{restrict} ORDER BY rowid DESC LIMIT :window) ORDER BY rank LIMIT :limit OFFSET :offset"
    )
    for name in ("since", "until"):
        if name in filters:  # compared as stored: naive UTC, through the column's own type
            statement = statement.bindparams(bindparam(name, type_=articles.c.sort_time.type))
    return statement


def _ranked(
    conn: Connection, match: str, filters: dict[str, Any], limit: int, offset: int, window: int
) -> list[tuple[int, float]]:
    params: dict[str, Any] = {"q": match, "window": window, "limit": limit, "offset": offset, **filters}
    statement = _ranked_statement(tuple(name for name in _FILTERS if name in filters))
    return [(row.id, row.rank) for row in conn.execute(statement, params)]


_SNIPPETS = text(
    "SELECT rowid AS id, snippet(articles_fts, 1, :start, :end, '…', :tokens) AS snippet "
    "FROM articles_fts WHERE articles_fts MATCH :q AND rowid IN :ids"
).bindparams(bindparam("ids", expanding=True))


def _snippets(conn: Connection, match: str, ids: list[int]) -> dict[int, str]:
    """HTML snippets of the text, matches in <mark>. FTS5 marks matches with markers made for this query
    (private-use characters around a random token) which no article can contain; everything else is
    escaped, and only then do the markers become tags."""
    token = secrets.token_hex(6)
    start, end = f"\ue000{token}\ue001", f"\ue002{token}\ue003"
    rows = conn.execute(
        _SNIPPETS, {"q": match, "ids": ids, "start": start, "end": end, "tokens": SNIPPET_TOKENS}
    )
    return {
        row.id: html.escape(row.snippet or "").replace(start, "<mark>").replace(end, "</mark>")
        for row in rows
    }


def search(
    source: Engine | HasEngine,
    q: str,
    *,
    page: int = 1,
    per_page: int = 20,
    outlet_slug: str | None = None,
    lang: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    rank_window: int = RANK_WINDOW,
) -> SearchPage:
    """Articles matching `q`, best first (bm25, headline weighted 10:1 over text); copies never appear.
    `since` is inclusive and `until` exclusive, on the date lists are ordered by. A query that cannot run
    raises SearchQueryError saying what to change."""
    engine = _engine(source)
    if engine.dialect.name != "sqlite":
        raise StoreError("search needs SQLite for now: full-text search on PostgreSQL is not built yet")
    if not 1 <= per_page <= MAX_PER_PAGE:
        raise ValueError(f"per_page must be between 1 and {MAX_PER_PAGE}, not {per_page}")
    if page < 1:
        raise SearchQueryError("pages are numbered from 1")
    if page > MAX_PAGE:
        raise SearchQueryError(f"results stop at page {MAX_PAGE}: add words or filters to narrow the search")
    match = to_fts(q)
    given = {"outlet_slug": outlet_slug, "lang": lang, "since": since, "until": until}
    filters = {name: value for name, value in given.items() if value is not None}
    with engine.connect() as conn:
        ranked = _ranked(conn, match, filters, per_page + 1, (page - 1) * per_page, rank_window)
        has_next = len(ranked) > per_page
        ranked = ranked[:per_page]
        ids = [article_id for article_id, _ in ranked]
        if not ids:
            return SearchPage((), page, False)
        cards = cards_by_id(conn, ids)
        snippets = _snippets(conn, match, ids)
    hits = tuple(
        # bm25 is lower-is-better and negative; turned round so a higher rank is a better match.
        SearchHit(cards[i], snippets.get(i) or html.escape(cards[i].excerpt), -score)
        for i, score in ranked
        if i in cards
    )
    return SearchPage(hits, page, has_next)


def index_segments(source: Engine | HasEngine) -> int:
    """How many segments the full-text index is in (0 on a database without one)."""
    engine = _engine(source)
    if engine.dialect.name != "sqlite":
        return 0
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT count(DISTINCT segid) FROM articles_fts_idx")).scalar_one())


@dataclass(frozen=True, slots=True)
class Compaction:
    steps: int  # merge transactions run
    finished: bool  # the index is in one segment (or was in few enough to be left alone)


def compact_index(source: Engine | HasEngine, *, above: int, max_seconds: float | None = None) -> Compaction:
    """Merge the full-text index into one segment if it is in more than `above` (search_max_segments),
    for at most about `max_seconds` (default: until done). A call that runs out of time leaves the index
    whole and searchable; the next call carries on where it stopped.

    FTS5 writes each transaction's words as a new segment and merges small ones as it goes, so an index fed
    by many small writes (a crawler, an import) settles at a score of segments, and every lookup of a word
    looks in each: finding 20 results' snippets then costs twice what it does in one segment. Merging
    rewrites the whole index, so callers do it after a bulk load or now and then, not after every write. It
    goes in steps of MERGE_STEP_PAGES pages, each its own short transaction: a writer meanwhile waits for one
    step at most, and readers never wait (WAL)."""
    engine = _engine(source)
    if index_segments(engine) <= above:
        return Compaction(0, True)
    deadline = None if max_seconds is None else time.monotonic() + max_seconds
    for step in range(1, MAX_MERGE_STEPS + 1):
        with engine.begin() as conn:
            raw = conn.connection.driver_connection
            before = raw.total_changes  # type: ignore[union-attr]
            conn.execute(
                text("INSERT INTO articles_fts(articles_fts, rank) VALUES ('merge', :pages)"),
                {"pages": -MERGE_STEP_PAGES},  # negative: merge down to one segment, not just a crowded level
            )
            written = raw.total_changes - before  # type: ignore[union-attr]
        if written < 2:  # FTS5's sign that there was nothing left to merge
            return Compaction(step, True)
        if deadline is not None and time.monotonic() >= deadline:
            return Compaction(step, False)
    return Compaction(MAX_MERGE_STEPS, False)
