from __future__ import annotations

import time
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest

from broadsheet.readers.markup import COMMENT_TAGS, MAX_COMMENT, check_comment, render_comment

ALLOWED_ATTRIBUTES = {"a": {"href", "rel"}, "ol": {"start"}}


class _Elements(HTMLParser):
    """Every tag and attribute of a fragment as a browser's tokenizer reads it, entities decoded."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, dict(attrs)))


def elements(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Elements()
    parser.feed(html)
    parser.close()
    return parser.found


def assert_inert(html: str) -> None:
    """Only the comment tags, only their attributes, and only absolute http(s)/mailto links with our rel."""
    for tag, attributes in elements(html):
        assert tag in COMMENT_TAGS, f"{tag} in {html!r}"
        assert set(attributes) <= ALLOWED_ATTRIBUTES.get(tag, set()), f"{attributes} in {html!r}"
        if tag == "a":
            href = attributes.get("href") or ""
            parts = urlsplit(href)
            assert parts.scheme in {"http", "https", "mailto"}, href
            assert parts.scheme == "mailto" or parts.netloc, href
            assert attributes.get("rel") == "nofollow ugc noopener", html
    # Escaped text may read "onerror=" or "javascript:": as text it runs nothing. Only real tags must not appear.
    assert "<script" not in html.lower()


@pytest.mark.parametrize(
    ("body", "html"),
    [
        (
            "**bold** and *italic* and _also_",
            "<p><strong>bold</strong> and <em>italic</em> and <em>also</em></p>",
        ),
        ("`a < b`", "<p><code>a &lt; b</code></p>"),
        ("one\ntwo\n\nthree", "<p>one<br>\ntwo</p>\n<p>three</p>"),
        ("> quoted\n> more", "<blockquote>\n<p>quoted<br>\nmore</p>\n</blockquote>"),
        ("- a\n- b", "<ul>\n<li>a</li>\n<li>b</li>\n</ul>"),
        ("3. c\n4. d", '<ol start="3">\n<li>c</li>\n<li>d</li>\n</ol>'),
        ("```python\nif a < b:\n    pass\n```", "<pre><code>if a &lt; b:\n    pass\n</code></pre>"),
        ("    indented code", "<pre><code>indented code\n</code></pre>"),
        (
            "[the paper](https://example.com/a?b=1&c=2)",
            '<p><a href="https://example.com/a?b=1&amp;c=2" rel="nofollow ugc noopener">the paper</a></p>',
        ),
        (
            "<https://example.com/a>",
            '<p><a href="https://example.com/a" rel="nofollow ugc noopener">https://example.com/a</a></p>',
        ),
        (
            "<desk@example.com>",
            '<p><a href="mailto:desk@example.com" rel="nofollow ugc noopener">desk@example.com</a></p>',
        ),
    ],
    ids=[
        "emphasis",
        "inline code",
        "line breaks",
        "quote",
        "list",
        "numbered list",
        "fenced code",
        "indented code",
        "link",
        "autolink",
        "mail autolink",
    ],
)
def test_the_markdown_subset_renders(body: str, html: str) -> None:
    assert render_comment(body) == html


@pytest.mark.parametrize("body", ["# Breaking news", "## Official statement", "Title\n=====", "Title\n-----"])
def test_headings_come_out_as_plain_paragraphs_with_their_text_as_typed(body: str) -> None:
    html = render_comment(body)
    assert html.startswith("<p>")
    assert "<h" not in html
    assert "Title" in html or "#" in html


def test_a_thematic_break_stays_text() -> None:
    assert render_comment("---") == "<p>---</p>"


def test_raw_html_is_shown_as_text() -> None:
    assert render_comment("I <b>love</b> <br> this") == "<p>I &lt;b&gt;love&lt;/b&gt; &lt;br&gt; this</p>"
    assert render_comment("<div>\nblock\n</div>") == "<p>&lt;div&gt;<br>\nblock<br>\n&lt;/div&gt;</p>"


def test_an_image_is_not_shown_only_linked() -> None:
    html = render_comment("![chart](https://example.com/x.png)")
    assert html == '<p>!<a href="https://example.com/x.png" rel="nofollow ugc noopener">chart</a></p>'


@pytest.mark.parametrize(
    "body",
    [
        "<script>alert(1)</script>",
        "<SCRIPT SRC=https://evil.example/x.js></SCRIPT>",
        "<img src=x onerror=alert(1)>",
        "<svg/onload=alert(1)>",
        "<iframe src=javascript:alert(1)>",
        '<a href="javascript:alert(1)">x</a>',
        "[x](javascript:alert(1))",
        "[x](JaVaScRiPt:alert(1))",
        "[x](java\tscript:alert(1))",
        "[x]( javascript:alert(1))",
        "[x](&#106;avascript:alert(1))",
        "[x](javascript&#58;alert(1))",
        "[x](&#x6A;&#x61;vascript:alert(1))",
        "[x](<javascript:alert(1)>)",
        "[x](vbscript:msgbox(1))",
        "[x](file:///etc/passwd)",
        "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
        "![x](data:image/svg+xml;base64,PHN2Zy8+)",
        "![x](https://example.com/x.png)",
        "![x](javascript:alert(1))",
        "<javascript:alert(1)>",
        "<data:text/html,<script>alert(1)</script>>",
        "[x]: javascript:alert(1)\n\n[go][x]",
        '[x](https://example.com/"onmouseover="alert(1))',
        '[x](https://example.com/ "title" onmouseover=alert(1))',
        "[<img src=x onerror=alert(1)>](https://example.com/)",
        "**<img src=x onerror=alert(1)>**",
        "`<script>alert(1)</script>`",
        "```\n</code></pre><script>alert(1)</script>\n```",
        "&lt;script&gt;alert(1)&lt;/script&gt;",
        "&#60;script&#62;alert(1)&#60;/script&#62;",
        "<!-- --><script>alert(1)</script>",
        "> <style>body{display:none}</style>",
        "- <a href=x onclick=alert(1)>x</a>",
        "[x](/admin/users/1/ban)",
        "[x](//evil.example/)",
        "[x](https:alert(1))",
    ],
)
def test_xss_payloads_come_out_inert(body: str) -> None:
    assert_inert(render_comment(body))


def test_script_text_is_escaped_not_dropped_so_readers_see_what_was_written() -> None:
    assert render_comment("<script>alert(1)</script>") == "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>"


@pytest.mark.parametrize("body", ["[x](javascript:alert(1))", "[x](/relative)", "[x](data:text/html,hi)"])
def test_a_refused_link_stays_as_the_text_that_was_typed(body: str) -> None:
    assert render_comment(body) == f"<p>{body}</p>"


def test_links_get_only_href_and_our_rel() -> None:
    html = render_comment('[x](https://example.com/ "a title")')
    assert elements(html) == [
        ("p", {}),
        ("a", {"href": "https://example.com/", "rel": "nofollow ugc noopener"}),
    ]


def test_check_comment_needs_text_and_at_most_10_000_characters() -> None:
    assert check_comment("Good piece.") is None
    assert check_comment("x" * MAX_COMMENT) is None
    assert "needs some text" in (check_comment(" \n\t ") or "")
    assert "at most 10,000" in (check_comment("x" * (MAX_COMMENT + 1)) or "")


@pytest.mark.parametrize(
    "body",
    [
        ("A paragraph with **bold**, *italic*, `code` and [a link](https://example.com/).\n\n" * 130)[
            :MAX_COMMENT
        ],
        "[" * MAX_COMMENT,
        "![" * (MAX_COMMENT // 2),
        "*a" * (MAX_COMMENT // 2),
        "> " * (MAX_COMMENT // 2),
        "<" * MAX_COMMENT,
    ],
    ids=["prose", "brackets", "image openers", "emphasis", "nested quotes", "angle brackets"],
)
def test_a_longest_comment_renders_quickly(body: str) -> None:
    # A sanity bound against runaway (quadratic) parsing, not a speed claim.
    started = time.perf_counter()
    assert_inert(render_comment(body))
    assert time.perf_counter() - started < 1.0


@pytest.mark.parametrize(
    "html",
    [
        "<p><script>alert(1)</script></p>",
        '<p><img src="x"></p>',
        '<p onclick="alert(1)">x</p>',
        '<a href="javascript:alert(1)" rel="nofollow ugc noopener">x</a>',
        '<a href="/admin" rel="nofollow ugc noopener">x</a>',
        '<a href="https://example.com/">x</a>',
    ],
)
def test_the_inertness_check_catches_what_it_looks_for(html: str) -> None:
    with pytest.raises(AssertionError):
        assert_inert(html)
