"""`broadsheet.text`: whitespace collapsed, and feed strings made one clean line."""

from __future__ import annotations

import pytest

from broadsheet.text import clean_text, collapse_whitespace, has_hidden_characters


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param("Ferry  plan", "Ferry plan", id="double-space"),
        pytest.param("\n\tFerry\r\nplan \n", "Ferry plan", id="newlines-and-tabs"),
        pytest.param("Ferry\u00a0plan", "Ferry plan", id="no-break-space"),
        pytest.param("Ferry\u2009\u3000plan", "Ferry plan", id="thin-and-ideographic-spaces"),
        pytest.param("Ferry\u2028plan", "Ferry plan", id="line-separator"),
        pytest.param("Ferry\u200bplan", "Ferry\u200bplan", id="zero-width-space-is-not-whitespace"),
        pytest.param("   ", "", id="blank"),
        pytest.param("", "", id="empty"),
    ],
)
def test_collapse_whitespace(raw: str, expected: str) -> None:
    assert collapse_whitespace(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param("<b>Ferry</b> plan", "Ferry plan", id="tags-stripped"),
        pytest.param("Ferry &amp; tram", "Ferry & tram", id="entity"),
        pytest.param("Don&amp;#8217;t", "Don\u2019t", id="escaped-twice"),
        pytest.param("&lt;em&gt;Ferry&lt;/em&gt; plan", "Ferry plan", id="escaped-markup"),
        pytest.param("5 < 6 and 7 > 3", "5 < 6 and 7 > 3", id="angle-brackets-are-text"),
        pytest.param("Ferry<br/>plan\n\n", "Ferry plan", id="break-and-newlines"),
        pytest.param("&amp;amp;amp;amp;", "&amp;", id="decoding-is-bounded"),
    ],
)
def test_clean_text_gives_one_plain_line(raw: str, expected: str) -> None:
    assert clean_text(raw) == expected


@pytest.mark.parametrize(
    "typed", ["Ada Lovelace", "李小龙 and Zoë", "👩‍👩‍👧 family", "می‌خواهم", "ok? yes!", "50 % off: £3"]
)
def test_typed_lines_in_any_script_have_no_hidden_characters(typed: str) -> None:
    # The zero-width joiner (emoji sequences) and non-joiner (Persian) are part of how those are written.
    assert not has_hidden_characters(typed)


@pytest.mark.parametrize(
    "typed",
    [
        "tab\there",
        "two\nlines",
        "nul\x00",
        "c1\x85control",
        "right-to-left \u202eoverride",
        "isolate \u2066x\u2069",
        "zero\u200bwidth space",
        "soft\u00adhyphen",
        "line\u2028separator",
        "private \ue000 use",
    ],
)
def test_hidden_characters_are_found(typed: str) -> None:
    assert has_hidden_characters(typed)
