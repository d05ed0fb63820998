"""Sitemaps through parse_feed: urlset, Google News and image extensions, sitemap index, gzip, damage."""

from __future__ import annotations

import gzip
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from broadsheet.errors import FeedError
from broadsheet.models import SourceKind
from broadsheet.sources import parse_feed

Read = Callable[[str], bytes]


def test_sitemap_urls_become_entries_with_lastmod_and_image(fixture_bytes: Read) -> None:
    feed = parse_feed(fixture_bytes("sitemap.xml"), "https://shop-news.example.com/sitemap.xml")
    assert feed.kind is SourceKind.SITEMAP
    assert feed.format == "sitemap"
    first, second = feed.entries  # the <url> without <loc> is skipped
    assert first.url == "https://shop-news.example.com/articles/spring-sale"
    assert first.updated == datetime(2024, 3, 1, tzinfo=UTC)
    assert first.image == "https://shop-news.example.com/img/spring.jpg"
    assert second.updated == datetime(2024, 6, 1, 6, 0, tzinfo=UTC)
    assert second.image == ""


def test_google_news_sitemap_gives_title_date_publication_and_language(fixture_bytes: Read) -> None:
    feed = parse_feed(fixture_bytes("news_sitemap.xml"), "https://valleypost.example.net/news-sitemap.xml")
    assert feed.format == "news-sitemap"
    assert feed.title == "The Valley Post"
    assert feed.lang == "es"
    (entry,) = feed.entries
    assert entry.url == "https://valleypost.example.net/2024/05/08/dam-inspection"
    assert entry.title == "Inspección de la presa: todo en orden"
    assert entry.published == datetime(2024, 5, 8, 5, 45, tzinfo=UTC)
    assert entry.lang == "es"
    assert entry.tags == ("presa", "agua")


def test_sitemap_index_lists_child_sitemaps(fixture_bytes: Read) -> None:
    feed = parse_feed(fixture_bytes("sitemap_index.xml"), "https://bigsite.example.com/sitemap.xml")
    assert feed.kind is SourceKind.SITEMAP
    assert feed.format == "sitemapindex"
    assert feed.entries == ()
    assert feed.sitemaps == (
        "https://bigsite.example.com/sitemaps/news.xml",
        "https://bigsite.example.com/sitemaps/archive-2023.xml",
    )


def test_gzipped_sitemap_is_inflated(fixture_bytes: Read) -> None:
    body = gzip.compress(fixture_bytes("sitemap.xml"))
    feed = parse_feed(body, "https://shop-news.example.com/sitemap.xml.gz", "application/x-gzip")
    assert len(feed.entries) == 2


def test_sitemap_without_namespace_still_parses() -> None:
    body = b"<urlset><url><loc>https://plain.example.com/a</loc></url></urlset>"
    assert (
        parse_feed(body, "https://plain.example.com/sitemap.xml").entries[0].url
        == "https://plain.example.com/a"
    )


def test_truncated_sitemap_keeps_complete_urls() -> None:
    body = (
        b'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        b"<url><loc>https://cut.example.com/1</loc></url><url><loc>https://cut.example.com/2</loc></url><url><lo"
    )
    feed = parse_feed(body, "https://cut.example.com/sitemap.xml")
    assert [e.url for e in feed.entries][:2] == ["https://cut.example.com/1", "https://cut.example.com/2"]


def test_hopeless_sitemap_is_refused_with_line_number() -> None:
    with pytest.raises(FeedError, match="line 1"):
        parse_feed(b"<urlset", "https://cut.example.com/sitemap.xml")
