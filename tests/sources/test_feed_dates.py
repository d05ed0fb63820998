"""One date, written the same way in RSS, Atom, JSON Feed and a news sitemap, is read as the same instant."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from broadsheet.sources import parse_feed

SITE = "https://harbour.example"


def rss(date: str) -> bytes:
    return (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Harbour</title><link>https://harbour.example/'
        "</link><item><title>Ferry</title><link>https://harbour.example/ferry</link>"
        f"<pubDate>{date}</pubDate></item></channel></rss>"
    ).encode()


def atom(date: str) -> bytes:
    return (
        '<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>Harbour</title>'
        "<id>tag:harbour.example,2026:feed</id><updated>2026-03-03T00:00:00Z</updated><entry><title>Ferry</title>"
        '<id>tag:harbour.example,2026:ferry</id><link href="https://harbour.example/ferry"/>'
        f"<published>{date}</published><updated>{date}</updated></entry></feed>"
    ).encode()


def json_feed(date: str) -> bytes:
    item = {"id": "ferry", "url": f"{SITE}/ferry", "title": "Ferry", "date_published": date}
    return json.dumps(
        {"version": "https://jsonfeed.org/version/1.1", "title": "Harbour", "items": [item]}
    ).encode()


def news_sitemap(date: str) -> bytes:
    return (
        '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
        'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"><url><loc>https://harbour.example/ferry</loc>'
        "<news:news><news:publication><news:name>Harbour</news:name><news:language>en</news:language>"
        f"</news:publication><news:publication_date>{date}</news:publication_date><news:title>Ferry</news:title>"
        "</news:news></url></urlset>"
    ).encode()


FORMATS = [
    pytest.param(rss, "feed.xml", id="rss"),
    pytest.param(atom, "feed.atom", id="atom"),
    pytest.param(json_feed, "feed.json", id="json-feed"),
    pytest.param(news_sitemap, "news-sitemap.xml", id="news-sitemap"),
]


@pytest.mark.parametrize(("write", "path"), FORMATS)
@pytest.mark.parametrize(
    ("date", "expected"),
    [
        pytest.param("Tue, 03 Mar 2026 10:00:00 CEST", datetime(2026, 3, 3, 8, tzinfo=UTC), id="cest"),
        pytest.param("2026-W10-2", datetime(2026, 3, 3, tzinfo=UTC), id="iso-week"),
        pytest.param("03 Mar 96 10:00 GMT", datetime(1996, 3, 3, 10, tzinfo=UTC), id="two-digit-year"),
        pytest.param("1970-01-01T00:00:00Z", None, id="placeholder"),
    ],
)
def test_every_format_reads_a_date_alike(
    write: Callable[[str], bytes], path: str, date: str, expected: datetime | None
) -> None:
    (entry,) = parse_feed(write(date), f"{SITE}/{path}").entries
    assert entry.published == expected
