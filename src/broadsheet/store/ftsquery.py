"""What a reader types into the search box, made into a safe SQLite FTS5 query or PostgreSQL tsquery, or
refused with advice.

Pure text work: every term reaches FTS5 as a quoted string, and PostgreSQL as quoted runs of letters and digits,
so no input can be read as either's syntax.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from broadsheet.errors import SearchQueryError

__all__ = [
    "MAX_QUERY_CHARS",
    "WORDS",
    "Query",
    "Term",
    "fts_any",
    "fts_phrase",
    "parse_query",
    "to_fts",
    "to_tsquery",
    "ts_any",
    "ts_phrase",
]

MAX_QUERY_CHARS = 300
MIN_PREFIX_CHARS = 2  # "a*" would expand to most of the vocabulary


@dataclass(frozen=True, slots=True)
class Term:
    text: str  # the word or phrase as typed, without quotes, operators or surrounding punctuation
    phrase: bool = False
    prefix: bool = False


@dataclass(frozen=True, slots=True)
class Query:
    groups: tuple[tuple[Term, ...], ...]  # all groups must match; within a group any term (OR)
    excluded: tuple[Term, ...]


_TOKEN = re.compile(r'(?P<neg>-?)"(?P<phrase>[^"]*)"\*?|(?P<word>[^\s"]+)')
_EDGE = re.compile(r"^[^\w]+|[^\w*]+$")
# A word as the indexes split text: a run of letters and digits (FTS5's unicode61; PostgreSQL's index is fed text
# whose other punctuation reads as spaces, see migration 0011).
WORDS = re.compile(r"[^\W_]+")


def _clean(q: str) -> str:
    # Control characters (NUL included) have no business in a query and confuse what is shown back.
    return "".join(" " if unicodedata.category(ch) == "Cc" else ch for ch in q).strip()


def _word_term(word: str) -> Term | None:
    """A typed word as a term, punctuation trimmed from its edges; None when no letter or digit is left."""
    word = _EDGE.sub("", word)
    prefix = word.endswith("*")
    word = word.rstrip("*")
    pieces = WORDS.findall(word)
    if not pieces:
        return None
    if prefix and len(pieces[-1]) < MIN_PREFIX_CHARS:
        raise SearchQueryError(
            f"put at least {MIN_PREFIX_CHARS} letters before a *, like harb* for harbour or harbours"
        )
    return Term(word, prefix=prefix)


def parse_query(q: str) -> Query:
    """Words are all required; "a phrase" matches as written; OR between two terms accepts either;
    -word or -"a phrase" (or NOT word) excludes; word* matches words starting with it."""
    q = _clean(q)
    if not q:
        raise SearchQueryError("type a word to search for")
    if len(q) > MAX_QUERY_CHARS:
        raise SearchQueryError(f"the search is too long: use at most {MAX_QUERY_CHARS} characters")
    if q.count('"') % 2:
        raise SearchQueryError('a quote (") is not closed: close the quote or remove it')
    groups: list[list[Term]] = []
    excluded: list[Term] = []
    or_next = negate_next = False
    for match in _TOKEN.finditer(q):
        word = match["word"]
        if word in ("OR", "|"):
            or_next = bool(groups)
            continue
        if word in ("AND", "&", "+"):
            continue  # words are required anyway
        if word == "NOT":
            negate_next = True
            continue
        if word is not None:
            negate = negate_next or word.startswith("-")
            term = _word_term(word)
        else:
            negate = negate_next or bool(match["neg"])
            phrase = match["phrase"]
            term = Term(phrase.strip(), phrase=True) if WORDS.search(phrase) else None
        negate_next = False
        if term is None:
            continue  # punctuation or a lone operator: nothing to look for
        if negate:
            excluded.append(term)
            or_next = False
        elif or_next:
            groups[-1].append(term)
            or_next = False
        else:
            groups.append([term])
    if not groups:
        if excluded:
            raise SearchQueryError("add a word to search for: a search cannot only exclude words (-word)")
        raise SearchQueryError("add a word to search for: the search has only punctuation or operators")
    return Query(tuple(tuple(g) for g in groups), tuple(excluded))


def fts_phrase(term: Term) -> str:
    """One term as an FTS5 string: FTS5 splits it with the index's own tokenizer, so `covid-19` finds the
    text "Covid 19" and nothing inside the quotes is ever read as an operator."""
    quoted = '"' + term.text.replace('"', '""') + '"'
    return quoted + " *" if term.prefix else quoted


def fts_any(terms: Sequence[Term]) -> str:
    """FTS5 for "any of these terms"."""
    if len(terms) == 1:
        return fts_phrase(terms[0])
    return "(" + " OR ".join(fts_phrase(t) for t in terms) + ")"


def to_fts(q: str) -> str:
    """The FTS5 MATCH expression for a typed query; raises SearchQueryError when there is nothing to run."""
    query = parse_query(q)
    # Explicit parentheses everywhere: FTS5's own precedence (NOT > AND > OR) never comes into play.
    required = " AND ".join(fts_any(group) for group in query.groups)
    if not query.excluded:
        return required
    return f"({required}) NOT {fts_any(query.excluded)}"


def ts_phrase(term: Term) -> str:
    """One term as PostgreSQL tsquery text: its runs of letters and digits, each quoted, in a phrase (<->), the
    last one a prefix (:*) for word*. A run holds no quote, backslash or operator, so nothing typed is ever read
    as tsquery syntax; to_tsquery gives each run the index's own stemming and accent folding, and `covid-19`
    finds the text "Covid 19" as in FTS5."""
    pieces = [f"'{piece}'" for piece in WORDS.findall(term.text)]
    if not pieces:  # parse_query keeps no such term; a caller building terms itself must do the same
        raise ValueError(f"a search term needs a letter or digit: {term.text!r}")
    if term.prefix:
        pieces[-1] += ":*"
    return pieces[0] if len(pieces) == 1 else "(" + " <-> ".join(pieces) + ")"


def ts_any(terms: Sequence[Term]) -> str:
    """tsquery text for "any of these terms"."""
    if len(terms) == 1:
        return ts_phrase(terms[0])
    return "(" + " | ".join(ts_phrase(t) for t in terms) + ")"


def to_tsquery(query: Query, *, excluded: bool = True) -> str:
    """The text for PostgreSQL's to_tsquery that matches what `to_fts` does on SQLite. Without `excluded`, only
    the words looked for: what snippets mark (ts_headline would mark an excluded phrase's words too)."""
    required = " & ".join(ts_any(group) for group in query.groups)
    if not excluded or not query.excluded:
        return required
    return f"({required}) & !{ts_any(query.excluded)}"
