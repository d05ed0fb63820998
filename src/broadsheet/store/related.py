""" "Related articles" from full-text similarity: the article's rarest headline and lead words, asked of the
full-text index (FTS5 on SQLite, the tsvector column on PostgreSQL).

What the article page shows for an article not yet in a story (see `article_page.py`).
"""

from __future__ import annotations

import math
import threading
import time
import weakref
from collections import Counter, OrderedDict
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from sqlalchemy import BigInteger, Connection, Engine, bindparam, func, select, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.types import Text

from broadsheet.errors import NotFoundError
from broadsheet.models import ArticleCard
from broadsheet.store.articles import newest_id
from broadsheet.store.cards import cards_by_id
from broadsheet.store.ftsquery import WORDS, Term, fts_any, ts_any
from broadsheet.store.schema import articles
from broadsheet.store.search import TS_CONFIG, TS_RANK, gin_scans, newest_floor, ranked_matches

__all__ = ["distinctive_terms", "related_cards"]

LEAD_CHARS = 1000
PROBE_TERMS = 16  # words whose frequency is looked up
QUERY_TERMS = 8  # of those, the rarest that also occur elsewhere
FREQUENCY_CAP = 2000  # counting stops here: more than this and a word says little about the subject
CANDIDATES = 400  # SQLite: the newest matches ranked by bm25; bounds the work whatever the words
PER_WORD = 30  # PostgreSQL: each query word's newest matches scored (see _postgresql_ranked)
SHORTLIST_FACTOR = 2  # PostgreSQL: how many of the best scored are ranked by ts_rank_cd, per result wanted
SAME_OUTLET = 2  # at most this many from the article's own outlet, after the others
KEEP_FROM = FREQUENCY_CAP // 10  # counts this high are remembered (counting costs a visit per article) ...
KEEP_SECONDS = 600.0  # ... for this long: a word's share of the news moves slowly
KEEP_WORDS = 100_000  # the most remembered per database (the least recently used go first): a few MB

_STOPWORDS_TEXT = """a about above after again against all also am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further had has have
    having he her here hers herself him himself his how i if in into is it its itself just me more most my
    myself no nor not now of off on once only or other our ours ourselves out over own same she should so
    some such than that the their theirs them themselves then there these they this those through to too
    under until up very was we were what when where which while who whom why will with would you your yours
    yourself yourselves said says say new one two three first last year years day days week time may might
    must shall per via yet still told according people many much well get got make made"""
STOPWORDS = frozenset(_STOPWORDS_TEXT.split())


def distinctive_terms(title: str, lead: str, limit: int = PROBE_TERMS) -> list[str]:
    """Candidate words: the headline's, in order, then the lead's most frequent; no stopwords, numbers or
    words under three letters."""

    def words(text: str) -> list[str]:
        return [
            w
            for w in (m.lower() for m in WORDS.findall(text))
            if len(w) >= 3 and not w.isdigit() and w not in STOPWORDS
        ]

    chosen = list(dict.fromkeys(words(title)))
    for word, _ in Counter(words(lead)).most_common():
        if word not in chosen:
            chosen.append(word)
    return chosen[:limit]


# How many articles hold a word, counted up to a cap, each back end's own index answering: FTS5 reads the
# word's list of articles in its index. A GIN index cannot count without visiting the table's rows, so
# PostgreSQL counts all the words in one statement (one round trip) and, in the same pass, keeps each word's
# newest PER_WORD articles, which are all the ranking needs (exact when the count is under the cap).
_FREQUENCY_SQLITE = text(
    "SELECT count(*) FROM (SELECT rowid FROM articles_fts WHERE articles_fts MATCH :q LIMIT :cap)"
)
_WORDS_POSTGRESQL = text(
    "SELECT found.n, found.newest FROM unnest(:queries) WITH ORDINALITY AS words(q, i) CROSS JOIN LATERAL "
    "(SELECT count(*) AS n, (array_agg(id ORDER BY id DESC))[1:CAST(:per_word AS integer)] AS newest FROM "
    f"(SELECT id FROM articles WHERE search_vector @@ to_tsquery('{TS_CONFIG}', words.q) LIMIT :cap) AS m) "
    "AS found ORDER BY words.i"
).bindparams(bindparam("queries", type_=ARRAY(Text())))
# The newest PER_WORD articles of remembered words (no count needed), each looked for among the ids above its
# floor (search.newest_floor: the newest ids that should hold twice as many), so that a word in 1 500 articles
# costs a visit to some 200 of them (a BitmapAnd with the primary key), not to all.
_NEWEST_POSTGRESQL = text(
    "SELECT words.i - 1 AS word, m.id FROM unnest(:queries, :floors) WITH ORDINALITY AS words(q, floor, i) "
    "CROSS JOIN LATERAL (SELECT id FROM articles "
    f"WHERE search_vector @@ to_tsquery('{TS_CONFIG}', words.q) AND id > words.floor "
    "ORDER BY id DESC LIMIT :per_word) AS m"
).bindparams(bindparam("queries", type_=ARRAY(Text())), bindparam("floors", type_=ARRAY(BigInteger())))
# ts_rank_cd with the same weights as search (a headline word counts ten times one in the text).
_RERANK = text(
    f"SELECT id, {TS_RANK} AS score FROM articles WHERE id = ANY(:ids) ORDER BY score DESC, id DESC"
).bindparams(bindparam("ids", type_=ARRAY(BigInteger())))
# The commonest lexemes of the search column, with the share of articles holding each (ANALYZE's sample).
_COMMONEST = text(
    "SELECT common.lexeme, common.share, greatest(c.reltuples, 0) AS articles "
    "FROM pg_stats AS s JOIN pg_class AS c ON c.oid = CAST(quote_ident(s.tablename) AS regclass) "
    "CROSS JOIN LATERAL unnest(CAST(CAST(s.most_common_elems AS text) AS text[]), s.most_common_elem_freqs) "
    "AS common(lexeme, share) "
    "WHERE s.schemaname = current_schema() AND s.tablename = 'articles' AND s.attname = 'search_vector'"
)
_LEXEMES = text(
    f"SELECT w.word, (SELECT min(t.lexeme) FROM unnest(to_tsvector('{TS_CONFIG}', w.word)) AS t) AS lexeme "
    "FROM unnest(:words) AS w(word)"
).bindparams(bindparam("words", type_=ARRAY(Text())))
_BACK_ENDS = frozenset({"sqlite", "postgresql"})
T = TypeVar("T")


class _Timed(Generic[T]):
    """A value read again once it is KEEP_SECONDS old."""

    def __init__(self, empty: T) -> None:
        self._value, self._read = empty, -KEEP_SECONDS

    def get(self, lock: threading.Lock, read: Callable[[], T]) -> T:
        now = time.monotonic()
        with lock:
            value, at = self._value, self._read
        if now - at <= KEEP_SECONDS:
            return value
        value = read()
        with lock:
            self._value, self._read = value, now
        return value


def _trim(kept: OrderedDict[str, Any]) -> None:
    """Forget the least recently used past KEEP_WORDS."""
    while len(kept) > KEEP_WORDS:
        kept.popitem(last=False)


class _Remembered:
    """What one database's related lookups remember, shared by a process's threads: how many articles hold
    the commoner words (KEEP_FROM or more: the dear ones to count, and the ones article after article asks
    about) for KEEP_SECONDS, and about how many articles there are. Rarer words are counted each time, so a
    new article is related to the others as soon as it is stored."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: OrderedDict[str, tuple[int, float]] = OrderedDict()
        self._archive = _Timed(0)
        self._statistics: _Timed[dict[str, int]] = _Timed({})
        self._lexemes: OrderedDict[str, str] = OrderedDict()

    def statistics(self, conn: Connection) -> dict[str, int]:
        """PostgreSQL's estimate of how many articles hold each of the commonest lexemes (from the search
        column's statistics: frequency among the rows sampled by ANALYZE, times the table's rows), read again
        after KEEP_SECONDS; empty before the first ANALYZE."""

        def read() -> dict[str, int]:
            rows = conn.execute(_COMMONEST).all()
            return {row.lexeme: round(row.share * row.articles) for row in rows if row.lexeme is not None}

        return self._statistics.get(self._lock, read)

    def lexemes(self, conn: Connection, words: list[str]) -> dict[str, str]:
        """Each word as the search index holds it (stemmed, accents off); "" for none (a stop word)."""
        with self._lock:
            found = {w: self._lexemes[w] for w in words if w in self._lexemes}
        missing = [w for w in words if w not in found]
        if missing:
            rows = conn.execute(_LEXEMES, {"words": missing}).all()
            with self._lock:
                for row in rows:
                    found[row.word] = self._lexemes[row.word] = row.lexeme or ""
                _trim(self._lexemes)
        return found

    def counts(self, words: list[str]) -> dict[str, int]:
        now = time.monotonic()
        found: dict[str, int] = {}
        with self._lock:
            for word in words:
                kept = self._counts.get(word)
                if kept is not None and now - kept[1] <= KEEP_SECONDS:
                    found[word] = kept[0]
                    self._counts.move_to_end(word)
        return found

    def remember(self, counts: dict[str, int]) -> None:
        now = time.monotonic()
        with self._lock:
            for word, count in counts.items():
                if count >= KEEP_FROM:
                    self._counts[word] = (count, now)
                    self._counts.move_to_end(word)
            _trim(self._counts)

    def archive(self, conn: Connection) -> int:
        """About how many articles there are (the highest id), read again after KEEP_SECONDS."""
        return self._archive.get(self._lock, lambda: newest_id(conn))


_REMEMBERED: weakref.WeakKeyDictionary[Engine, _Remembered] = weakref.WeakKeyDictionary()
_REMEMBERED_LOCK = threading.Lock()


def _remembered(engine: Engine) -> _Remembered:
    with _REMEMBERED_LOCK:
        found = _REMEMBERED.get(engine)
        if found is None:
            found = _REMEMBERED[engine] = _Remembered()
        return found


def _any_word(conn: Connection, words: list[str]) -> str:
    """The back end's query for articles with any of `words`."""
    terms = [Term(word) for word in words]
    return fts_any(terms) if conn.dialect.name == "sqlite" else ts_any(terms)


def _sqlite_frequencies(conn: Connection, words: list[str]) -> dict[str, int]:
    return {
        word: int(
            conn.execute(_FREQUENCY_SQLITE, {"q": _any_word(conn, [word]), "cap": FREQUENCY_CAP}).scalar_one()
        )
        for word in words
    }


def _postgresql_words(conn: Connection, words: list[str], cap: int) -> dict[str, tuple[int, list[int]]]:
    """How many articles hold each word (up to `cap`), and its newest PER_WORD of them (all of them
    looked at only when the count is under the cap)."""
    if not words:
        return {}
    params = {"queries": [_any_word(conn, [w]) for w in words], "cap": cap, "per_word": PER_WORD}
    with gin_scans(conn):
        rows = conn.execute(_WORDS_POSTGRESQL, params).all()
    return {word: (int(row.n), list(row.newest or [])) for word, row in zip(words, rows, strict=True)}


def _postgresql_newest(conn: Connection, counted: dict[str, int], archive: int) -> dict[str, list[int]]:
    """The newest PER_WORD articles of each of `counted`'s words, held by about that many articles each."""
    floors = {word: newest_floor(n, archive, PER_WORD) for word, n in counted.items()}
    newest: dict[str, list[int]] = {word: [] for word in counted}
    low = [word for word, floor in floors.items() if not floor]  # few enough: all of them looked at
    for word, (_, ids) in _postgresql_words(conn, low, FREQUENCY_CAP).items():
        newest[word] = ids
    high = [word for word, floor in floors.items() if floor]
    if high:
        params = {
            "queries": [_any_word(conn, [w]) for w in high],
            "floors": [floors[w] for w in high],
            "per_word": PER_WORD,
        }
        with gin_scans(conn):
            for row in conn.execute(_NEWEST_POSTGRESQL, params):
                newest[high[row.word]].append(int(row.id))
    return newest


def _postgresql_counts(
    conn: Connection, remembered: _Remembered, candidates: list[str], known: dict[str, int]
) -> tuple[dict[str, int], dict[str, list[int]]]:
    """How many articles hold each candidate word, and the newest articles of those counted here. The words
    PostgreSQL's statistics list among the column's commonest (migration 0014 keeps 10 000 of them: at
    200 000 articles, every word in more than ~600) take its estimate: counting one of those from the GIN
    index would build a list of every article holding it, 20 ms for a word in half of them. The rest are
    rarer, and counted."""
    statistics = remembered.statistics(conn)
    lexemes = remembered.lexemes(conn, [w for w in candidates if w not in known])
    counts = dict(known)
    to_count = []
    for word in candidates:
        if word in known:
            continue
        estimate = statistics.get(lexemes.get(word, ""))
        if estimate is not None:
            counts[word] = estimate
        else:
            to_count.append(word)
    found = _postgresql_words(conn, to_count, FREQUENCY_CAP)
    counts.update({w: n for w, (n, _) in found.items()})
    return counts, {w: ids for w, (n, ids) in found.items() if n < FREQUENCY_CAP}


def query_terms(candidates: list[str], in_title: set[str], counts: dict[str, int]) -> list[tuple[str, int]]:
    """The QUERY_TERMS most telling of `candidates` (with how many articles hold each): a word found only in
    this article relates it to nothing, and one in FREQUENCY_CAP articles or more says little about the
    subject (and is dear to rank by); rarer words say more, headline words most."""
    useful = [
        (count / (2 if term in in_title else 1), term)
        for term in candidates
        if 1 < (count := counts.get(term, FREQUENCY_CAP)) < FREQUENCY_CAP
    ]
    return [(term, counts[term]) for _, term in sorted(useful)[:QUERY_TERMS]]


def rarity_scores(matches: list[list[int]], frequencies: list[int], archive: int) -> dict[int, float]:
    """Each article's score: the sum, over the query words it holds (`matches[k]`: the articles holding word
    k, held by `frequencies[k]` articles in all), of log(archive / articles holding the word)."""
    scores: dict[int, float] = {}
    for ids, n in zip(matches, frequencies, strict=True):
        weight = math.log(max(archive, n + 1) / max(n, 1))
        for article in ids:
            scores[article] = scores.get(article, 0.0) + weight
    return scores


def related_cards(conn: Connection, article_id: int, limit: int) -> list[ArticleCard]:
    if conn.dialect.name not in _BACK_ENDS:
        return []  # no full-text index on this back end: no related articles rather than a broken page
    row = conn.execute(
        select(
            articles.c.title,
            func.substr(articles.c.text, 1, LEAD_CHARS).label("lead"),
            articles.c.outlet_slug,
            articles.c.duplicate_of,
        ).where(articles.c.id == article_id)
    ).first()
    if row is None:
        raise NotFoundError(f"no article with id {article_id}")
    candidates = distinctive_terms(row.title, row.lead)
    in_title = set(distinctive_terms(row.title, ""))
    remembered = _remembered(conn.engine)
    known = remembered.counts(candidates)
    # Copies are not in the index; the article itself and what it is a copy of are dropped here.
    excluded = {article_id, row.duplicate_of}
    wanted = limit * 4 + len(excluded)
    if conn.dialect.name == "sqlite":
        counts = {**known, **_sqlite_frequencies(conn, [w for w in candidates if w not in known])}
        terms = query_terms(candidates, in_title, counts)
        scored = (
            ranked_matches(conn, _any_word(conn, [t for t, _ in terms]), limit=wanted, window=CANDIDATES)
            if terms
            else []
        )
    else:
        counts, newest = _postgresql_counts(conn, remembered, candidates, known)
        terms = query_terms(candidates, in_title, counts)
        archive = remembered.archive(conn)
        missing = {t: n for t, n in terms if t not in newest}  # remembered: counted on an earlier page
        newest.update(_postgresql_newest(conn, missing, archive) if missing else {})
        scored = (
            _postgresql_ranked(conn, terms, [newest[t] for t, _ in terms], archive, wanted) if terms else []
        )
    remembered.remember({w: n for w, n in counts.items() if w not in known})
    ids = [i for i, _ in scored if i not in excluded]
    if not ids:
        return []
    cards = cards_by_id(conn, ids)
    ranked = [cards[i] for i in ids if i in cards]
    others = [c for c in ranked if c.outlet_slug != row.outlet_slug]
    same = [c for c in ranked if c.outlet_slug == row.outlet_slug][:SAME_OUTLET]
    return (others + same)[:limit]


def _postgresql_ranked(
    conn: Connection, terms: list[tuple[str, int]], matches: list[list[int]], archive: int, wanted: int
) -> list[tuple[int, float]]:
    """PostgreSQL ranks in two stages, because a tsvector is stored compressed and out of line, so that
    ranking one costs ~20 µs and FTS5's way (bm25 over the newest CANDIDATES matches of any word) ~10 ms a
    page. The newest PER_WORD articles of each word (most found while counting it) are scored by the rarity of
    the words they share with the article (`rarity_scores`), and ts_rank_cd orders the best of them."""
    scores = rarity_scores(matches, [n for _, n in terms], archive)
    shortlist = sorted(scores, key=lambda i: (-scores[i], -i))[: wanted * SHORTLIST_FACTOR]
    if not shortlist:
        return []
    ranked = conn.execute(_RERANK, {"q": _any_word(conn, [t for t, _ in terms]), "ids": shortlist})
    return [(r.id, float(r.score)) for r in ranked][:wanted]
