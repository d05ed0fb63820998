"""Full-text search over stored articles: ranked pages of cards with safe HTML snippets, on SQLite (FTS5) and
PostgreSQL (a tsvector column with a GIN index).

How typed queries become FTS5 queries and tsqueries is `ftsquery.py`; the indexes are created by migrations 0002
(FTS5) and 0011 (PostgreSQL, with what differs from FTS5).
"""

from __future__ import annotations

import bisect
import functools
import html
import json
import math
import re
import secrets
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Connection, Engine, Row, TextClause, bindparam, text

from broadsheet.errors import SearchQueryError, StoreError
from broadsheet.models import SearchHit, SearchPage
from broadsheet.store.articles import newest_id
from broadsheet.store.cards import cards_by_id
from broadsheet.store.ftsquery import MAX_QUERY_CHARS, WORDS, parse_query, to_fts, to_tsquery
from broadsheet.store.schema import articles

__all__ = [
    "MAX_PAGE",
    "MAX_PER_PAGE",
    "SEARCH_HELP",
    "Compaction",
    "compact_index",
    "gin_scans",
    "index_segments",
    "ranked_matches",
    "search",
    "snippet_html",
]

MAX_PAGE = 50  # ranked results past this are not worth reading: narrow the search instead
MAX_PER_PAGE = 100
SNIPPET_TOKENS = 24
RANK_WINDOW = 2_000  # newest matches ranked; see _sqlite_ranked
MERGE_STEP_PAGES = 2_000  # index pages one merge transaction writes (~8 MB, ~0.15 s)
MAX_MERGE_STEPS = 100_000  # a guard: an index of 800 GB would need this many

# PostgreSQL's index (migration 0011): the text search configuration it was built with, and the punctuation its
# word parser would read as part of URLs, e-mail addresses, hosts, file names, numbers, XML tags or hyphenated
# words. The index sees each as a private-use stand-in, which the parser takes for a space, so text splits into
# words as FTS5 splits it. Both must stay equal to the migration's.
TS_CONFIG = "broadsheet_search"
PARSER_PUNCTUATION = "-+.@:/<>&"
PARSER_STAND_INS = "\ue100\ue101\ue102\ue103\ue104\ue105\ue106\ue107\ue108"
# ts_rank_cd's weights for the labels D, C, B, A: the text is D and the headline A, so a word in the headline
# counts ten times one in the text, as bm25(10.0, 1.0) has it on SQLite. Normalisation 1 divides by 1 + the log
# of the article's length, so long articles do not win by length alone (bm25 does the like).
TS_RANK = f"ts_rank_cd('{{0.1, 0.2, 0.4, 1.0}}', search_vector, to_tsquery('{TS_CONFIG}', :q), 1)"

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
def _sqlite_ranked(filters: tuple[str, ...]) -> TextClause:
    """The ranking statement for a set of filters, built once (building one costs about as much as SQLite
    takes to run it)."""
    restrict = ""
    if filters:
        # The filters pick ids from the list indexes (no article row is read); the "+" keeps SQLite from
        # handing each id to FTS5 as a separate lookup, which at 100 000 ids takes seconds.
        where = " AND ".join(_FILTERS[name] for name in filters)
        restrict = f" AND +rowid IN (SELECT id FROM articles WHERE {where})"
    # bm25 is computed for the newest RANK_WINDOW matches only: a query matching most of the archive
    # still answers in milliseconds, and news readers want the recent matches of a common word. bm25 is
    # lower-is-better and negative: turned round, so that a higher rank is a better match on both back ends.
    return _with_date_types(
        text(
            "SELECT id, -rank AS score FROM (SELECT rowid AS id, rank FROM articles_fts WHERE articles_fts MATCH :q"
            f"{restrict} ORDER BY rowid DESC LIMIT :window) ORDER BY rank LIMIT :limit OFFSET :offset"
        ),
        filters,
    )


# The filters on PostgreSQL, written so that no index can serve them (as ORIGINALS in cards.py): the planner
# would otherwise start from a list index (every article of an outlet, say) and test each row's tsvector,
# which it prices far too low (see gin_scans). Started from the GIN index, the work grows with the matches of
# the words, as with no filter; the filters are then cheap tests of each matching row.
_UNINDEXED_FILTERS = {
    "outlet_slug": "outlet_slug || '' = :outlet_slug",
    "lang": "lang || '' = :lang",
    "since": "sort_time + interval '0 seconds' >= :since",
    "until": "sort_time + interval '0 seconds' < :until",
}


@functools.cache
def _postgresql_ranked(filters: tuple[str, ...], floor: bool = False) -> TextClause:
    """The same on PostgreSQL: the GIN index finds the matches (copies have no search_vector, so none), and
    ts_rank_cd reads the tsvectors of the newest window only. With `floor`, `:floor` leaves out the older
    articles (see `_newest_floor`; without, there is no test of the id at all, which the planner could take
    for a reason to start from the primary key); `found` is how many the window held."""
    restrict = " AND id > :floor" if floor else ""
    restrict += "".join(f" AND {_UNINDEXED_FILTERS[name]}" for name in filters)
    return _with_date_types(
        text(
            f"SELECT id, {TS_RANK} AS score, count(*) OVER () AS found FROM (SELECT id, search_vector "
            f"FROM articles WHERE search_vector @@ to_tsquery('{TS_CONFIG}', :q){restrict} "
            "ORDER BY id DESC LIMIT :window) AS newest ORDER BY score DESC, id DESC LIMIT :limit OFFSET :offset"
        ),
        filters,
    )


# A GIN index gives its matches in no order, so the newest `window` of a word found in 40 % of a million
# articles would mean visiting 400 000 rows. The planner's own estimate of the matches (from the column's
# statistics, which count the commonest words) says when that is so; the search then looks only among the
# newest ids that should hold twice the window's matches (a BitmapAnd with the primary key: only those rows
# are visited), and looks again among all of them in the rare case that they held fewer.
_ESTIMATE = text(
    f"EXPLAIN (FORMAT JSON) SELECT 1 FROM articles WHERE search_vector @@ to_tsquery('{TS_CONFIG}', :q)"
)
FLOOR_FROM = 4  # estimated matches, in windows, from which a search looks among the newest ids first


def newest_floor(estimate: float, newest_id: int, window: int) -> int:
    """The id above which the newest `window` of `estimate` matches spread evenly over ids 1..`newest_id`
    should lie twice over; 0 (no floor) for a query estimated to match fewer than FLOOR_FROM windows."""
    if estimate < FLOOR_FROM * window or newest_id <= 0:
        return 0
    span = math.ceil(2 * window * newest_id / estimate)
    return max(newest_id - span, 0)


def _newest_floor(conn: Connection, match: str, window: int) -> int:
    plan = conn.execute(_ESTIMATE, {"q": match}).scalar_one()
    estimate = float((json.loads(plan) if isinstance(plan, str) else plan)[0]["Plan"]["Plan Rows"])
    if estimate < FLOOR_FROM * window:
        return 0
    return newest_floor(estimate, newest_id(conn), window)


def _with_date_types(statement: TextClause, filters: tuple[str, ...]) -> TextClause:
    for name in ("since", "until"):
        if name in filters:  # compared as stored: naive UTC, through the column's own type
            statement = statement.bindparams(bindparam(name, type_=articles.c.sort_time.type))
    return statement


_RANKED: dict[str, Callable[[tuple[str, ...]], TextClause]] = {
    "sqlite": _sqlite_ranked,
    "postgresql": _postgresql_ranked,
}


@contextmanager
def gin_scans(conn: Connection) -> Iterator[None]:
    """On PostgreSQL, have the statements inside find matches through the GIN index (a bitmap scan) only. The
    planner prices `search_vector @@ query` as if each row's tsvector were at hand, when each is stored
    compressed and out of line: left alone, it reads the whole table for a word in a tenth of the articles, or
    walks the primary key backwards testing every row for the newest matches, which takes seconds on a large
    archive where the index takes milliseconds. The caller's settings come back afterwards, so the rest of
    its transaction plans as before."""
    if conn.dialect.name != "postgresql":
        yield
        return
    before = conn.execute(_SWITCH_TO_GIN).one()
    yield
    conn.execute(_SET_PLANNER, {"seqscan": before.seqscan, "indexscan": before.indexscan})


# The settings read, then set, in one round trip: the subquery (kept one by OFFSET 0) gives its row before the
# outer select sets anything.
_SWITCH_TO_GIN = text(
    "SELECT now_.seqscan, now_.indexscan, set_config('enable_seqscan', 'off', true), "
    "set_config('enable_indexscan', 'off', true) FROM (SELECT current_setting('enable_seqscan') AS seqscan, "
    "current_setting('enable_indexscan') AS indexscan OFFSET 0) AS now_"
)
# Local to the transaction (the third argument), like SET LOCAL: nothing outlives it.
_SET_PLANNER = text(
    "SELECT set_config('enable_seqscan', :seqscan, true), set_config('enable_indexscan', :indexscan, true)"
)


def ranked_matches(
    conn: Connection,
    match: str,
    *,
    limit: int,
    offset: int = 0,
    window: int = RANK_WINDOW,
    filters: dict[str, Any] | None = None,
) -> list[tuple[int, float]]:
    """(id, rank) of the best matches of `match` (the back end's own query: `to_fts` or `to_tsquery`) among
    its newest `window`, best first; a higher rank is a better match. `filters` name columns of _FILTERS."""
    filters = filters or {}
    params: dict[str, Any] = {"q": match, "window": window, "limit": limit, "offset": offset, **filters}
    names = tuple(name for name in _FILTERS if name in filters)
    if conn.dialect.name != "postgresql":
        return [(row.id, row.score) for row in conn.execute(_RANKED[conn.dialect.name](names), params)]
    floor = 0 if filters else _newest_floor(conn, match, window)
    with gin_scans(conn):
        rows: Sequence[Row[Any]] = []
        if floor:
            rows = conn.execute(_postgresql_ranked(names, floor=True), {**params, "floor": floor}).all()
        if not floor or not rows or rows[0].found < window:  # fewer than estimated: among them all after all
            rows = conn.execute(_postgresql_ranked(names), params).all()
    return [(row.id, row.score) for row in rows]


_SNIPPETS = text(
    "SELECT rowid AS id, snippet(articles_fts, 1, :start, :end, '…', :tokens) AS snippet "
    "FROM articles_fts WHERE articles_fts MATCH :q AND rowid IN :ids"
).bindparams(bindparam("ids", expanding=True))


def _markers() -> tuple[str, str]:
    """Match markers made for one query (private-use characters around a random token), which no article
    can contain: the text is escaped first, and only then do the markers become tags."""
    token = secrets.token_hex(6)
    return f"\ue000{token}\ue001", f"\ue002{token}\ue003"


def _sqlite_snippets(conn: Connection, match: str, ids: list[int]) -> dict[int, str]:
    """HTML snippets of the text, matches in <mark>, chosen by FTS5's snippet()."""
    start, end = _markers()
    rows = conn.execute(
        _SNIPPETS, {"q": match, "ids": ids, "start": start, "end": end, "tokens": SNIPPET_TOKENS}
    )
    return {
        row.id: html.escape(row.snippet or "").replace(start, "<mark>").replace(end, "</mark>")
        for row in rows
    }


# Matches marked in the whole text, which is read as the index reads it (stand-ins for the parser's
# punctuation, stemmed and accent-free words) and then given its own punctuation back.
_TS_MARKED = text(
    f"SELECT id, translate(ts_headline('{TS_CONFIG}', translate(text, :punctuation, :stand_ins), "
    f"to_tsquery('{TS_CONFIG}', :q), :options), :stand_ins, :punctuation) AS marked "
    "FROM articles WHERE id IN :ids"
).bindparams(bindparam("ids", expanding=True))


def _postgresql_snippets(conn: Connection, marks: str, ids: list[int]) -> dict[int, str]:
    """The same on PostgreSQL, for the page's articles only. ts_headline marks every match in the text; the
    window of SNIPPET_TOKENS words is then chosen here as FTS5's snippet() chooses it, because ts_headline's
    own choice drops punctuation at its edges and shows no cut."""
    start, end = _markers()
    params = {
        "q": marks,
        "ids": ids,
        "punctuation": PARSER_PUNCTUATION,
        "stand_ins": PARSER_STAND_INS,
        "options": f"StartSel={start}, StopSel={end}, HighlightAll=true",
    }
    return {
        row.id: snippet_html(row.marked, start, end, SNIPPET_TOKENS)
        for row in conn.execute(_TS_MARKED, params)
    }


def _split_marked(marked: str, start: str, end: str) -> tuple[str, list[tuple[int, int]]]:
    """Text with match markers as the plain text and the (start, end) offsets of its marked stretches."""
    plain: list[str] = []
    spans: list[tuple[int, int]] = []
    at = 0
    for n, piece in enumerate(re.split(f"{re.escape(start)}|{re.escape(end)}", marked)):
        if n % 2:  # between a start marker and its end marker
            spans.append((at, at + len(piece)))
        plain.append(piece)
        at += len(piece)
    return "".join(plain), spans


def _matched(starts: list[int], words: list[tuple[int, int]], spans: list[tuple[int, int]]) -> list[int]:
    """The indexes of the words a marked stretch overlaps, in order."""
    hits: set[int] = set()
    for a, b in spans:
        i = max(bisect.bisect_right(starts, a) - 1, 0)
        while i < len(words) and words[i][0] < b:
            if words[i][1] > a:
                hits.add(i)
            i += 1
    return sorted(hits)


# Where FTS5's snippet() sees a sentence start: a word right after a full stop or colon and white space.
_SENTENCE_GAP = re.compile(r"[.:][ \t\r\n]+")


def _sentence_starts(plain: str, starts: list[int]) -> list[int]:
    """The indexes of the words that start a sentence, the first word included."""
    found = [0]
    for gap in _SENTENCE_GAP.finditer(plain):
        i = bisect.bisect_left(starts, gap.end())
        if i < len(starts) and starts[i] == gap.end() and i > found[-1]:
            found.append(i)
    return found


def _window_score(names: dict[int, str], hits: list[int], first: int, size: int) -> tuple[int, int, int]:
    """FTS5's score of the `size` words from word `first`: 1000 for each different matched word, 1 for each
    repeat; with the first matched word and the one past the last (the first word when none)."""
    inside = hits[bisect.bisect_left(hits, first) : bisect.bisect_left(hits, first + size)]
    if not inside:
        return 0, first, first
    seen: set[str] = set()
    score = 0
    for i in inside:
        score += 1 if names[i] in seen else 1000
        seen.add(names[i])
    return score, inside[0], inside[-1] + 1


def _best_window(plain: str, words: list[tuple[int, int]], hits: list[int], size: int) -> int:
    """The first of the `size` consecutive words to show, picked as FTS5's snippet() picks it: the window with
    the most different matched words (then repeats), moved to put its matches in the middle, or started at the
    beginning of their sentence for a bonus (a bigger one at the start of the text); the first of equals."""
    if len(words) <= size or not hits:
        return 0
    names = {i: plain[words[i][0] : words[i][1]].lower() for i in hits}
    starts = [a for a, _ in words]
    sentences = _sentence_starts(plain, starts)
    best, best_first = 0, 0
    for hit in hits:
        score, first_hit, past_last = _window_score(names, hits, hit, size)
        centred = first_hit - (size - (past_last - first_hit)) // 2
        if score > best:
            best, best_first = score, max(0, min(centred, len(words) - size))
        sentence = sentences[bisect.bisect_right(sentences, hit) - 1]
        if sentence < hit:
            score = _window_score(names, hits, sentence, size)[0] + (120 if sentence == 0 else 100)
            if score > best:
                best, best_first = score, sentence
    return best_first


def snippet_html(marked: str, start: str, end: str, size: int) -> str:
    """HTML of `size` words of a text whose matches are between `start` and `end` markers: the window with
    the most matches, each in <mark>, everything else escaped, and "…" where the text is cut (as FTS5's
    snippet() writes it: from the very start when the window is at the start, to the very end at the end)."""
    plain, spans = _split_marked(marked, start, end)
    words = [m.span() for m in WORDS.finditer(plain)]
    if not words:
        return html.escape(plain)
    first = _best_window(plain, words, _matched([a for a, _ in words], words, spans), size)
    last = min(first + size, len(words)) - 1
    begin = 0 if first == 0 else words[first][0]
    stop = len(plain) if last == len(words) - 1 else words[last][1]
    out = ["…"] if begin > 0 else []
    at = begin
    for a, b in spans:
        a, b = max(a, begin), min(b, stop)
        if a < b:
            out += [html.escape(plain[at:a]), "<mark>", html.escape(plain[a:b]), "</mark>"]
            at = b
    out.append(html.escape(plain[at:stop]))
    if stop < len(plain):
        out.append("…")
    return "".join(out)


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
    """Articles matching `q`, best first (the headline weighted 10:1 over text); copies never appear.
    `since` is inclusive and `until` exclusive, on the date lists are ordered by. A query that cannot run
    raises SearchQueryError saying what to change."""
    engine = _engine(source)
    dialect = engine.dialect.name
    if dialect not in _RANKED:
        raise StoreError(f"full-text search works on SQLite and PostgreSQL, not {dialect}")
    if not 1 <= per_page <= MAX_PER_PAGE:
        raise ValueError(f"per_page must be between 1 and {MAX_PER_PAGE}, not {per_page}")
    if page < 1:
        raise SearchQueryError("pages are numbered from 1")
    if page > MAX_PAGE:
        raise SearchQueryError(f"results stop at page {MAX_PAGE}: add words or filters to narrow the search")
    match, marks = _queries(dialect, q)
    given = {"outlet_slug": outlet_slug, "lang": lang, "since": since, "until": until}
    filters = {name: value for name, value in given.items() if value is not None}
    with engine.connect() as conn:
        ranked = ranked_matches(
            conn,
            match,
            limit=per_page + 1,
            offset=(page - 1) * per_page,
            window=rank_window,
            filters=filters,
        )
        has_next = len(ranked) > per_page
        ranked = ranked[:per_page]
        ids = [article_id for article_id, _ in ranked]
        if not ids:
            return SearchPage((), page, False)
        cards = cards_by_id(conn, ids)
        if dialect == "sqlite":
            snippets = _sqlite_snippets(conn, marks, ids)
        else:
            snippets = _postgresql_snippets(conn, marks, ids)
    hits = tuple(
        SearchHit(cards[i], snippets.get(i) or html.escape(cards[i].excerpt), score)
        for i, score in ranked
        if i in cards
    )
    return SearchPage(hits, page, has_next)


def _queries(dialect: str, q: str) -> tuple[str, str]:
    """The back end's query for `q`, and the one that marks matches in snippets: on PostgreSQL without the
    excluded words, whose words ts_headline would mark (an excluded phrase's words can be in a match)."""
    if dialect == "sqlite":
        match = to_fts(q)
        return match, match
    query = parse_query(q)
    return to_tsquery(query), to_tsquery(query, excluded=False)


_CLEAN_PENDING_LIST = text("SELECT gin_clean_pending_list('ix_articles_search_vector'::regclass)")
_ANALYZE = text("ANALYZE articles (search_vector)")


def index_segments(source: Engine | HasEngine) -> int:
    """How many segments the full-text index is in: 0 on PostgreSQL, whose GIN index has none (what it holds
    back, its pending list, is merged by inserts once it passes gin_pending_list_limit, by autovacuum, and by
    `compact_index`)."""
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
    step at most, and readers never wait (WAL).

    On PostgreSQL the GIN index has no segments; what it holds back is its pending list (new entries, unsorted,
    read by every lookup), which this merges into the index in one statement; the search column's statistics
    (its commonest words, which related articles read) are then made again, as after a bulk load they would
    otherwise wait for autovacuum."""
    engine = _engine(source)
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(_CLEAN_PENDING_LIST)
            conn.execute(_ANALYZE)
        return Compaction(1, True)
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
