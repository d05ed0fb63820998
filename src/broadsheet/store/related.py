""" "Related articles" from full-text similarity: the article's rarest headline and lead words, asked of the
full-text index (FTS5 on SQLite, the tsvector column on PostgreSQL).

What the article page shows for an article not yet in a story (see `article_page.py`).
"""

from __future__ import annotations

from collections import Counter

from sqlalchemy import Connection, TextClause, func, select, text

from broadsheet.errors import NotFoundError
from broadsheet.models import ArticleCard
from broadsheet.store.cards import cards_by_id
from broadsheet.store.ftsquery import WORDS, Term, fts_any, ts_any
from broadsheet.store.schema import articles
from broadsheet.store.search import TS_CONFIG, gin_scans, ranked_matches

__all__ = ["distinctive_terms", "related_cards"]

LEAD_CHARS = 1000
PROBE_TERMS = 16  # words whose frequency is looked up
QUERY_TERMS = 8  # of those, the rarest that also occur elsewhere
FREQUENCY_CAP = 2000  # counting stops here: more than this and a word says little about the subject
CANDIDATES = 400  # newest matches ranked (bm25, ts_rank_cd); bounds the work whatever the words
SAME_OUTLET = 2  # at most this many from the article's own outlet, after the others

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


# How many articles hold a word, counted up to FREQUENCY_CAP: each back end's own index answers.
_FREQUENCY: dict[str, TextClause] = {
    "sqlite": text(
        "SELECT count(*) FROM (SELECT rowid FROM articles_fts WHERE articles_fts MATCH :q LIMIT :cap)"
    ),
    "postgresql": text(
        "SELECT count(*) FROM (SELECT 1 FROM articles "
        f"WHERE search_vector @@ to_tsquery('{TS_CONFIG}', :q) LIMIT :cap) AS matches"
    ),
}


def _any_word(conn: Connection, words: list[str]) -> str:
    """The back end's query for articles with any of `words`."""
    terms = [Term(word) for word in words]
    return fts_any(terms) if conn.dialect.name == "sqlite" else ts_any(terms)


def _frequency(conn: Connection, term: str) -> int:
    statement = _FREQUENCY[conn.dialect.name]
    return int(conn.execute(statement, {"q": _any_word(conn, [term]), "cap": FREQUENCY_CAP}).scalar_one())


def _query_terms(conn: Connection, title: str, lead: str) -> list[str]:
    in_title = set(distinctive_terms(title, ""))
    with gin_scans(conn):
        counted = [(term, _frequency(conn, term)) for term in distinctive_terms(title, lead)]
    # A word found only in this article relates it to nothing, and one past the cap says little about the
    # subject while making bm25 count its whole (long) list of articles; rarer words say more, headline
    # words most.
    useful = [
        (count / (2 if term in in_title else 1), term) for term, count in counted if 1 < count < FREQUENCY_CAP
    ]
    return [term for _, term in sorted(useful)[:QUERY_TERMS]]


def related_cards(conn: Connection, article_id: int, limit: int) -> list[ArticleCard]:
    if conn.dialect.name not in _FREQUENCY:
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
    terms = _query_terms(conn, row.title, row.lead)
    if not terms:
        return []
    # Copies are not in the index; the article itself and what it is a copy of are dropped here.
    excluded = {article_id, row.duplicate_of}
    scored = ranked_matches(conn, _any_word(conn, terms), limit=limit * 4 + len(excluded), window=CANDIDATES)
    ids = [i for i, _ in scored if i not in excluded]
    if not ids:
        return []
    cards = cards_by_id(conn, ids)
    ranked = [cards[i] for i in ids if i in cards]
    others = [c for c in ranked if c.outlet_slug != row.outlet_slug]
    same = [c for c in ranked if c.outlet_slug == row.outlet_slug][:SAME_OUTLET]
    return (others + same)[:limit]
