"""Typed search queries into FTS5 expressions and PostgreSQL tsqueries (`broadsheet.store.ftsquery`): pure, no
database."""

from __future__ import annotations

import re

import pytest

from broadsheet.errors import SearchQueryError
from broadsheet.store.ftsquery import parse_query, to_fts, to_tsquery


@pytest.mark.parametrize(
    ("typed", "fts"),
    [
        ("tram line", '"tram" AND "line"'),
        ('"tram line" ferry', '"tram line" AND "ferry"'),
        ("tram OR ferry pier", '("tram" OR "ferry") AND "pier"'),
        ("a OR b OR c", '("a" OR "b" OR "c")'),
        ('ferry -pier -"new ramp"', '("ferry") NOT ("pier" OR "new ramp")'),
        ("ferry NOT pier", '("ferry") NOT "pier"'),
        ("harb* Quill*", '"harb" * AND "Quill" *'),
        ("covid-19 don't", '"covid-19" AND "don\'t"'),
        ("(tram) title:line,", '"tram" AND "title:line"'),
        ("OR tram OR", '"tram"'),
        ("tram AND line & +pier", '"tram" AND "line" AND "pier"'),
        ('NEAR("a b") ^c', '"NEAR" AND "a b" AND "c"'),
        ('"  spaced   phrase  "*', '"spaced   phrase"'),
    ],
)
def test_typed_queries_become_quoted_fts5_expressions(typed: str, fts: str) -> None:
    assert to_fts(typed) == fts


def test_lowercase_or_is_a_word_not_an_operator() -> None:
    assert to_fts("black or white") == '"black" AND "or" AND "white"'


@pytest.mark.parametrize(
    ("typed", "advice"),
    [
        ("", "type a word to search for"),
        ('say "hello', 'a quote (") is not closed: close the quote or remove it'),
        ("-tram", "cannot only exclude words"),
        ("OR - ( )", "only punctuation or operators"),
        ('""', "only punctuation or operators"),
        ("x*", "at least 2 letters"),
        ("é" * 301, "at most 300 characters"),
    ],
)
def test_queries_that_cannot_run_are_refused_with_advice(typed: str, advice: str) -> None:
    with pytest.raises(SearchQueryError, match=advice.replace("(", r"\(").replace(")", r"\)")):
        to_fts(typed)


@pytest.mark.parametrize(
    ("typed", "tsquery"),
    [
        ("tram line", "'tram' & 'line'"),
        ('"tram line" ferry', "('tram' <-> 'line') & 'ferry'"),
        ("tram OR ferry pier", "('tram' | 'ferry') & 'pier'"),
        ("a OR b OR c", "('a' | 'b' | 'c')"),
        ('ferry -pier -"new ramp"', "('ferry') & !('pier' | ('new' <-> 'ramp'))"),
        ("ferry NOT pier", "('ferry') & !'pier'"),
        ("harb* Quill*", "'harb':* & 'Quill':*"),
        ("covid-19 don't", "('covid' <-> '19') & ('don' <-> 't')"),
        ("(tram) title:line,", "'tram' & ('title' <-> 'line')"),
        ("OR tram OR", "'tram'"),
        ('NEAR("a b") ^c', "'NEAR' & ('a' <-> 'b') & 'c'"),
        ('"  spaced   phrase  "*', "('spaced' <-> 'phrase')"),
        ("café 漢字", "'café' & '漢字'"),
    ],
)
def test_typed_queries_become_tsqueries_of_quoted_letters_and_digits(typed: str, tsquery: str) -> None:
    assert to_tsquery(parse_query(typed)) == tsquery


@pytest.mark.parametrize(
    "typed",
    ["it's O'Brien's \\' x", "a'|b & !c <-> dd:* (e)", "'; DROP TABLE articles; --", "x\\'y ''z'' \"q'r\""],
)
def test_no_typed_quote_backslash_or_operator_reaches_a_tsquery_unquoted(typed: str) -> None:
    tsquery = to_tsquery(parse_query(typed))
    # Between our own quotes there are only letters and digits; outside them only our own operators.
    assert re.fullmatch(r"(?:'[^\W_]+'(?::\*)?|[()&|!<\->\s])+", tsquery), tsquery


def test_snippet_marks_leave_out_excluded_words() -> None:
    query = parse_query('ferry -pier -"new ramp"')
    assert to_tsquery(query, excluded=False) == "'ferry'"
