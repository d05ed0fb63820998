"""Typed search queries into FTS5 expressions (`broadsheet.store.ftsquery`): pure, no database."""

from __future__ import annotations

import pytest

from broadsheet.errors import SearchQueryError
from broadsheet.store.ftsquery import to_fts


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
