"""Feed discovery from HTML pages, and the fallback paths."""

from __future__ import annotations

from collections.abc import Callable

from broadsheet.sources import COMMON_FEED_PATHS, discover_feeds

Read = Callable[[str], bytes]

PAGE_URL = "https://harbourhill.example.com/news/index.html"


def test_alternates_come_first_in_document_order_then_feed_anchors(fixture_bytes: Read) -> None:
    found = discover_feeds(fixture_bytes("page_with_alternates.html"), PAGE_URL)
    assert found == [
        "https://harbourhill.example.com/feed.rss",
        "https://harbourhill.example.com/atom.xml",
        "https://harbourhill.example.com/news/feeds/all.json",
        "https://harbourhill.example.com/everything",
        "https://harbourhill.example.com/sections/sport/feed/",
        "https://harbourhill.example.com/podcast.atom",
    ]


def test_discovery_accepts_str_and_honours_base_href() -> None:
    page = (
        '<?xml version="1.0" encoding="utf-8"?><html><head><base href="https://cdn.example.org/site/">'
        '<link rel="alternate" type="application/atom+xml" href="atom.xml"></head></html>'
    )
    assert discover_feeds(page, "https://example.org/") == ["https://cdn.example.org/site/atom.xml"]


def test_discovery_on_broken_or_empty_html_does_not_fail() -> None:
    assert discover_feeds(b"", "https://x.example/") == []
    assert (
        discover_feeds(
            "<html><head><link rel=alternate type=application/rss+xml href=/r", "https://x.example/"
        )
        == []
    )
    soup = b"<p><link rel=alternate type='application/rss+xml' href='/rss'><div><a href='/feed'>feed</a"
    assert discover_feeds(soup, "https://x.example/") == ["https://x.example/rss", "https://x.example/feed"]


def test_non_http_feed_links_are_ignored() -> None:
    page = b'<link rel="alternate" type="application/rss+xml" href="javascript:alert(1)">'
    assert discover_feeds(page, "https://x.example/") == []


def test_common_paths_start_with_feeds_and_end_with_sitemaps() -> None:
    assert COMMON_FEED_PATHS[:3] == ("/feed", "/rss", "/rss.xml")
    assert COMMON_FEED_PATHS[-1] == "/sitemap.xml"
    assert all(path.startswith("/") for path in COMMON_FEED_PATHS)
