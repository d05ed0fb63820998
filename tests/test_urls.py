"""`broadsheet.urls`: links resolved against their page, and the host that names a site."""

from __future__ import annotations

import pytest

from broadsheet.urls import absolute_url, ascii_host, host_of

PAGE = "https://news.example/world/story.html"


@pytest.mark.parametrize(
    ("base", "href", "expected"),
    [
        pytest.param(PAGE, "photo.jpg", "https://news.example/world/photo.jpg", id="relative-path"),
        pytest.param(PAGE, "/about", "https://news.example/about", id="root-relative"),
        pytest.param(PAGE, "?page=2", "https://news.example/world/story.html?page=2", id="query-only"),
        pytest.param(PAGE, "#comments", "https://news.example/world/story.html#comments", id="fragment-only"),
        pytest.param(PAGE, "//cdn.example/a.jpg", "https://cdn.example/a.jpg", id="protocol-relative-https"),
        pytest.param(
            "http://news.example/",
            "//cdn.example/a.jpg",
            "http://cdn.example/a.jpg",
            id="protocol-relative-http",
        ),
        pytest.param(PAGE, "http://other.example/a", "http://other.example/a", id="absolute-kept"),
        pytest.param(PAGE, "HTTPS://Other.Example/A", "https://Other.Example/A", id="scheme-in-capitals"),
        pytest.param(PAGE, "https://bücher.example/a", "https://bücher.example/a", id="idn-kept-as-written"),
        pytest.param(
            PAGE, " \n https://other.example/a \t", "https://other.example/a", id="surrounding-whitespace"
        ),
        pytest.param(
            PAGE, "\x00\x1fhttps://other.example/a", "https://other.example/a", id="leading-controls"
        ),
        pytest.param(
            PAGE, "https://other.ex\nample/a\tb", "https://other.example/ab", id="newline-and-tab-inside"
        ),
        pytest.param(PAGE, "javascript:alert(1)", "", id="javascript"),
        pytest.param(PAGE, "JavaScript:alert(1)", "", id="javascript-capitals"),
        pytest.param(PAGE, " java\tscript:alert(1)", "", id="javascript-split-by-tab"),
        pytest.param(PAGE, "data:image/png;base64,iVBORw0KGgo=", "", id="data"),
        pytest.param(PAGE, "mailto:desk@news.example", "", id="mailto"),
        pytest.param(PAGE, "ftp://files.example/a", "", id="ftp"),
        pytest.param(PAGE, "tel:+4930123456", "", id="tel"),
        pytest.param(PAGE, "http://[oops/", "", id="malformed"),
        pytest.param("", "https:///no-host", "", id="no-host"),
        pytest.param(PAGE, "http:relative", "", id="other-scheme-without-host"),
        pytest.param(PAGE, "", "", id="empty"),
        pytest.param(PAGE, "  ", "", id="blank"),
        pytest.param(PAGE, None, "", id="none"),
        pytest.param("", "https://other.example/a", "https://other.example/a", id="no-base-absolute"),
        pytest.param("", "/about", "", id="no-base-relative"),
        pytest.param("", "//cdn.example/a.jpg", "", id="no-base-protocol-relative"),
    ],
)
def test_links_resolve_to_absolute_http_urls_or_nothing(base: str, href: str | None, expected: str) -> None:
    assert absolute_url(base, href) == expected


def test_other_schemes_are_kept_only_when_asked_for() -> None:
    schemes = ("http", "https", "mailto")
    assert absolute_url(PAGE, "mailto:desk@news.example", schemes=schemes) == "mailto:desk@news.example"
    assert absolute_url(PAGE, "javascript:alert(1)", schemes=schemes) == ""


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        pytest.param("https://news.example/a", "news.example", id="plain"),
        pytest.param("https://www.news.example/a", "news.example", id="www-dropped"),
        pytest.param("https://wwwnews.example/a", "wwwnews.example", id="www-only-as-a-label"),
        pytest.param("https://News.EXAMPLE./a", "news.example", id="case-and-trailing-dot"),
        pytest.param("https://user:pw@news.example:8443/a", "news.example", id="user-and-port"),
        pytest.param("https://xn--bcher-kva.example/", "bücher.example", id="punycode-decoded"),
        pytest.param("https://XN--BCHER-KVA.example/", "bücher.example", id="punycode-in-capitals"),
        pytest.param("https://BÜCHER.example/", "bücher.example", id="unicode-in-capitals"),
        pytest.param("https://bücher\uff0eexample/", "bücher.example", id="full-width-dot"),
        pytest.param("https://www.xn--strae-oqa.example/", "straße.example", id="sharp-s-kept"),
        pytest.param("https://my_site.example/", "my_site.example", id="underscore"),
        pytest.param("https://192.0.2.1:8080/", "192.0.2.1", id="ipv4"),
        pytest.param("https://[2001:DB8::1]:8443/", "2001:db8::1", id="ipv6"),
        pytest.param("news.example/a", "", id="no-scheme"),
        pytest.param("mailto:desk@news.example", "", id="mailto"),
        pytest.param("http://[oops/", "", id="malformed"),
        pytest.param("", "", id="empty"),
    ],
)
def test_host_of_names_the_site_in_unicode(url: str, expected: str) -> None:
    assert host_of(url) == expected


@pytest.mark.parametrize(
    ("a", "b"),
    [
        pytest.param("https://bücher.example/a", "http://www.XN--BCHER-KVA.example./b", id="idn"),
        pytest.param("https://NEWS.example/a", "https://www.news.example:443/b", id="ascii"),
    ],
)
def test_equal_hosts_compare_equal_however_written(a: str, b: str) -> None:
    assert host_of(a) == host_of(b)


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        pytest.param("bücher.example", "xn--bcher-kva.example", id="idn"),
        pytest.param("Straße.example", "xn--strae-oqa.example", id="sharp-s-not-ss"),
        pytest.param("News.Example", "news.example", id="ascii-lower-cased"),
        pytest.param("my_site.example", "my_site.example", id="underscore-kept"),
        pytest.param("xn--bcher-kva.example", "xn--bcher-kva.example", id="already-ascii"),
        pytest.param("\u2603.example", "", id="refused-by-idna"),
    ],
)
def test_ascii_host_is_the_idna_form(host: str, expected: str) -> None:
    assert ascii_host(host) == expected
