"""Awkward input: other charsets, broken markup, empty, binary and article-less pages."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from broadsheet.errors import ExtractError
from broadsheet.extract import extract_article
from broadsheet.extract.load import MAX_HTML_BYTES, decode_html

URL = "https://ledger.example/local/depot"

GERMAN = (
    "Der Gemeinderat von Lärchenbucht hat am Dienstag beschlossen, das leere Straßenbahndepot in eine "
    "Markthalle umzubauen. Die Bürger hatten über vier Haushaltsjahre hinweg darüber gestritten.",
    "Vierzig Stände sollen im nächsten Frühjahr unter dem restaurierten Eisendach öffnen; die Galerie ist für "
    "Reparaturwerkstätten und einen Lesesaal vorgesehen, sagte die Ausschussvorsitzende Größmann.",
    "Anwohner äußerten Bedenken wegen der Lieferwagen in den engen Gassen. Der Rat antwortete mit einer "
    "Ladezone an der Hafenseite und einer Regel, nach der Lieferungen vor acht Uhr morgens enden müssen.",
)


def test_windows_1252_page_with_meta_charset_is_decoded(make_page: Callable[..., str]) -> None:
    page = make_page(paragraphs=GERMAN, charset="windows-1252", html_attrs=' lang="de"').encode("cp1252")
    result = extract_article(page, URL)
    assert "Straßenbahndepot" in result.text
    assert "äußerten" in result.text
    assert result.lang == "de"


def test_utf8_page_that_declares_latin1_is_read_as_utf8(make_page: Callable[..., str]) -> None:
    page = make_page(paragraphs=GERMAN, charset="iso-8859-1").encode("utf-8")
    assert "Größmann" in extract_article(page, URL).text


def test_byte_order_mark_decides_the_encoding() -> None:
    assert decode_html(b"\xef\xbb\xbf<p>caf\xc3\xa9</p>") == "<p>café</p>"
    assert decode_html("<p>café</p>".encode("utf-16")) == "<p>café</p>"


def test_malformed_html_still_gives_the_text(paragraphs: tuple[str, ...]) -> None:
    broken = (
        "<html><body><div><article><h1>Depot<p>" + "<p>".join(paragraphs) + "</div></span></b><table><td>"
    )
    result = extract_article(broken, URL)
    assert paragraphs[2] in result.text


@pytest.mark.parametrize(
    "page", ["", "   \n", b"", b"\x00\x01\x02\xff\xfe" * 200, "just some words, no markup"]
)
def test_empty_or_garbage_input_raises_extract_error(page: str | bytes) -> None:
    with pytest.raises(ExtractError):
        extract_article(page, URL)


def test_page_without_article_text_raises_extract_error() -> None:
    page = "<html><head><title>Index</title></head><body><nav><a href='/a'>A</a> <a href='/b'>B</a></nav></body></html>"
    with pytest.raises(ExtractError, match="no article text"):
        extract_article(page, URL)


def test_page_with_many_elements_is_handled(
    paragraphs: tuple[str, ...], make_page: Callable[..., str]
) -> None:
    filler = "<div class='ad-slot'>" + "<span>x</span>" * 20_000 + "</div>"
    result = extract_article(make_page(after=filler), URL)
    assert paragraphs[0] in result.text


def test_page_past_the_size_cap_is_cut_not_refused(
    paragraphs: tuple[str, ...], make_page: Callable[..., str]
) -> None:
    page = make_page().replace("</article>", "</article><script>" + "var x = 1;" * 1_000_000)
    assert len(page) > MAX_HTML_BYTES
    assert paragraphs[-1] in extract_article(page.encode(), URL).text


def test_bytes_with_an_xml_declaration_are_parsed(paragraphs: tuple[str, ...]) -> None:
    page = "<?xml version='1.0' encoding='utf-8'?><html><body><p>" + paragraphs[0] + "</p></body></html>"
    assert extract_article(page.encode(), URL).text == paragraphs[0]


def test_utf16_without_byte_order_mark_is_detected(
    make_page: Callable[..., str], paragraphs: tuple[str, ...]
) -> None:
    assert paragraphs[1] in extract_article(make_page().encode("utf-16-le"), URL).text


def test_malformed_urls_are_dropped_not_fatal(paragraphs: tuple[str, ...]) -> None:
    page = (
        '<html><head><base href="http://[bad"><link rel="canonical" href="http://[::1">'
        '<meta property="og:image" content="javascript:alert(1)"></head><body>'
        + "".join(f"<p>{p}</p>" for p in paragraphs)
        + "<p>More at <a href='http://[x'>the clerk's page</a>.</p></body></html>"
    )
    result = extract_article(page, URL)
    assert result.canonical_url == ""
    assert result.image == ""
    assert "http://[" not in result.html
