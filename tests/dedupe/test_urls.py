from __future__ import annotations

import pytest

from broadsheet.dedupe.urls import canonical_url, registrable_domain, same_site


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("https://example.com/a?utm_source=rss&utm_medium=feed", "https://example.com/a"),
        ("https://example.com/a?id=7&fbclid=XYZ&gclid=1", "https://example.com/a?id=7"),
        ("HTTPS://Example.COM:443/Path#comments", "https://example.com/Path"),
        ("http://example.com/a", "https://example.com/a"),
        ("https://example.com:8443/a", "https://example.com:8443/a"),
        ("https://example.com//news//story", "https://example.com/news/story"),
        ("https://example.com/caf%C3%A9", "https://example.com/caf%C3%A9"),
        ("https://example.com/café", "https://example.com/caf%C3%A9"),
        ("https://example.com", "https://example.com/"),
        ("https://Bücher.example/a", "https://xn--bcher-kva.example/a"),
        ("https://straße.example/a", "https://xn--strae-oqa.example/a"),  # not strasse.example, another site
        ("https://[2001:db8::1]:8443/a", "https://[2001:db8::1]:8443/a"),
        ("https://\u2603.example/a", "https://\u2603.example/a"),  # no IDNA form: kept as given
    ],
)
def test_canonical_url_removes_tracking_and_normalises(given: str, expected: str) -> None:
    assert canonical_url(given) == expected


def test_canonical_url_keeps_meaningful_query_order_and_trailing_slash() -> None:
    assert canonical_url("https://example.com/story/?page=2&id=9") == "https://example.com/story/?page=2&id=9"


def test_canonical_url_leaves_non_http_urls_alone() -> None:
    assert canonical_url("mailto:desk@example.com") == "mailto:desk@example.com"


def test_same_site_joins_subdomains_of_one_publisher_only() -> None:
    assert same_site("https://www.example.com/a", "https://news.example.com/b")
    assert same_site("https://example.co.uk/a", "https://www.example.co.uk/b")
    assert not same_site("https://example.co.uk/a", "https://other.co.uk/b")
    assert not same_site("https://example.com/a", "https://example.org/a")
    assert registrable_domain("127.0.0.1") == "127.0.0.1"


def test_same_site_reads_idn_hosts_in_either_form() -> None:
    assert same_site("https://www.bücher.example/a", "https://news.xn--bcher-kva.example/b")
    assert not same_site("https://example.com/a", "http://[oops/")
