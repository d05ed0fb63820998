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

from sqlalchemy import BigInteger, Connection, Engine, bindparam, func, select, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.types import Text

from broadsheet.errors import NotFoundError
from broadsheet.models import ArticleCard
from broadsheet.store.cards import cards_by_id
from broadsheet.store.ftsquery import WORDS, Term, fts_any, ts_any
from broadsheet.store.schema import articles
from broadsheet.store.search import TS_CONFIG, TS_RANK, gin_scans, ranked_matches

__all__ = ["distinctive_terms", "related_cards"]

LEAD_CHARS = 1000
PROBE_TERMS = 16  # words whose frequency is looked up
QUERY_TERMS = 8  # of those, the rarest that also occur elsewhere
FREQUENCY_CAP = 2000  # counting stops here: more than this and a word says little about the subject
CANDIDATES = 400  # SQLite: the newest matches ranked by bm25; bounds the work whatever the words
PER_WORD = 100  # PostgreSQL: each query word's newest matches scored (see _postgresql_ranked)
SHORTLIST_FACTOR = 2  # PostgreSQL: how many of the best scored are ranked by ts_rank_cd, per result wanted
SAME_OUTLET = 2  # at most this many from the article's own outlet, after the others
KEEP_SECONDS = 600.0  # how long a common word is remembered as one (a word's share of news moves slowly)
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


# How many articles hold a word, counted up to FREQUENCY_CAP, each back end's own index answering: FTS5 reads
# the word's list of articles in its index. A GIN index cannot count without visiting the table's rows, so
# PostgreSQL counts all the words in one statement (one round trip) and, in the same pass, keeps each word's
# newest PER_WORD articles, which are all the ranking needs.
_FREQUENCY_SQLITE = text(
    "SELECT count(*) FROM (SELECT rowid FROM articles_fts WHERE articles_fts MATCH :q LIMIT :cap)"
)
_WORDS_POSTGRESQL = text(
    "SELECT found.n, found.newest FROM unnest(:queries) WITH ORDINALITY AS words(q, i) CROSS JOIN LATERAL "
    "(SELECT count(*) AS n, (array_agg(id ORDER BY id DESC))[1:CAST(:per_word AS integer)] AS newest FROM "
    f"(SELECT id FROM articles WHERE search_vector @@ to_tsquery('{TS_CONFIG}', words.q) LIMIT :cap) AS m) "
    "AS found ORDER BY words.i"
).bindparams(bindparam("queries", type_=ARRAY(Text())))
# ts_rank_cd with the same weights as search (a headline word counts ten times one in the text).
_RERANK = text(
    f"SELECT id, {TS_RANK} AS score FROM articles WHERE id = ANY(:ids) ORDER BY score DESC, id DESC"
).bindparams(bindparam("ids", type_=ARRAY(BigInteger())))
_ARCHIVE_SIZE = text("SELECT coalesce(max(id), 0) FROM articles")
_BACK_ENDS = frozenset({"sqlite", "postgresql"})


class _Remembered:
    """What one database's related lookups remember, shared by a process's threads: the common words (held
    by FREQUENCY_CAP articles or more, which the lookups leave out, and which are the dear ones to count:
    a visit per article) for KEEP_SECONDS, and about how many articles there are. Rarer words are counted
    each time, so a new article is related to the others as soon as it is stored."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._common: OrderedDict[str, float] = OrderedDict()
        self._archive = (0, -KEEP_SECONDS)

    def common(self, words: list[str]) -> set[str]:
        now = time.monotonic()
        with self._lock:
            found = {w for w in words if now - self._common.get(w, -KEEP_SECONDS) <= KEEP_SECONDS}
            for word in found:
                self._common.move_to_end(word)
        return found

    def remember_common(self, words: list[str]) -> None:
        now = time.monotonic()
        with self._lock:
            for word in words:
                self._common[word] = now
                self._common.move_to_end(word)
            while len(self._common) > KEEP_WORDS:
                self._common.popitem(last=False)

    def archive(self, conn: Connection) -> int:
        """About how many articles there are (the highest id), read again after KEEP_SECONDS."""
        now = time.monotonic()
        with self._lock:
            size, read = self._archive
        if now - read <= KEEP_SECONDS:
            return size
        size = int(conn.execute(_ARCHIVE_SIZE).scalar_one())
        with self._lock:
            self._archive = (size, now)
        return size


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


def _postgresql_words(conn: Connection, words: list[str]) -> dict[str, tuple[int, list[int]]]:
    """How many articles hold each word (up to FREQUENCY_CAP), and its newest PER_WORD of them."""
    if not words:
        return {}
    params = {"queries": [_any_word(conn, [w]) for w in words], "cap": FREQUENCY_CAP, "per_word": PER_WORD}
    with gin_scans(conn):
        rows = conn.execute(_WORDS_POSTGRESQL, params).all()
    return {word: (int(row.n), list(row.newest or [])) for word, row in zip(words, rows, strict=True)}


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
    common = remembered.common(candidates)
    to_count = [word for word in candidates if word not in common]
    # Copies are not in the index; the article itself and what it is a copy of are dropped here.
    excluded = {article_id, row.duplicate_of}
    wanted = limit * 4 + len(excluded)
    if conn.dialect.name == "sqlite":
        counts = _sqlite_frequencies(conn, to_count)
        terms = query_terms(candidates, in_title, counts)
        scored = (
            ranked_matches(conn, _any_word(conn, [t for t, _ in terms]), limit=wanted, window=CANDIDATES)
            if terms
            else []
        )
    else:
        found = _postgresql_words(conn, to_count)
        counts = {word: n for word, (n, _) in found.items()}
        terms = query_terms(candidates, in_title, counts)
        scored = _postgresql_ranked(conn, terms, [found[t][1] for t, _ in terms], wanted) if terms else []
    remembered.remember_common([word for word, n in counts.items() if n >= FREQUENCY_CAP])
    ids = [i for i, _ in scored if i not in excluded]
    if not ids:
        return []
    cards = cards_by_id(conn, ids)
    ranked = [cards[i] for i in ids if i in cards]
    others = [c for c in ranked if c.outlet_slug != row.outlet_slug]
    same = [c for c in ranked if c.outlet_slug == row.outlet_slug][:SAME_OUTLET]
    return (others + same)[:limit]


def _postgresql_ranked(
    conn: Connection, terms: list[tuple[str, int]], matches: list[list[int]], wanted: int
) -> list[tuple[int, float]]:
    """PostgreSQL ranks in two stages, because a tsvector is stored compressed and out of line, so that
    ranking one costs ~20 µs and FTS5's way (bm25 over the newest CANDIDATES matches of any word) ~10 ms a
    page. The newest PER_WORD articles of each word (found while counting it) are scored by the rarity of the
    words they share with the article (`rarity_scores`), and ts_rank_cd orders the best of them."""
    scores = rarity_scores(matches, [n for _, n in terms], _remembered(conn.engine).archive(conn))
    shortlist = sorted(scores, key=lambda i: (-scores[i], -i))[: wanted * SHORTLIST_FACTOR]
    if not shortlist:
        return []
    ranked = conn.execute(_RERANK, {"q": _any_word(conn, [t for t, _ in terms]), "ids": shortlist})
    return [(r.id, float(r.score)) for r in ranked][:wanted]
