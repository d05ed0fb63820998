"""OPML import and export: folders, titles, duplicates, round trip, invalid files."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from lxml import etree

from broadsheet.errors import FeedError, UnsafeXMLError
from broadsheet.models import Outline
from broadsheet.sources import parse_opml, write_opml

Read = Callable[[str], bytes]


def test_opml_nested_folders_become_paths(fixture_bytes: Read) -> None:
    outlines = parse_opml(fixture_bytes("subscriptions.opml"))
    assert outlines == [
        Outline(
            url="https://globewire.example.com/rss",
            title="Globe Wire & Co",
            site_url="https://globewire.example.com/",
            folder="News/World",
        ),
        Outline(url="https://atomic.example.org/feed.atom", title="Atom thing", folder="News/World"),
        Outline(url="https://gazette.example.net/feed", title="Local paper", folder="News"),
        Outline(url="https://blog.example.io/index.xml", title="Top-level blog"),
    ]


def test_opml_round_trips_through_write_opml(fixture_bytes: Read) -> None:
    outlines = parse_opml(fixture_bytes("subscriptions.opml"))
    outlines.append(Outline(url="https://odd.example.com/rss?a=1&b=2", title='Quotes "and" <angles>'))
    outlines.append(Outline(url="https://untitled.example.com/feed"))
    written = write_opml(outlines, now=datetime(2024, 5, 1, 12, 0, tzinfo=UTC))
    root = etree.fromstring(written.encode("utf-8"))
    assert root.tag == "opml"
    assert root.get("version") == "2.0"
    assert root.findtext("head/title") == "broadsheet subscriptions"
    assert root.findtext("head/dateCreated") == "Wed, 01 May 2024 12:00:00 GMT"
    assert parse_opml(written.encode("utf-8")) == outlines


def test_write_opml_nests_folders_with_their_names(fixture_bytes: Read) -> None:
    written = write_opml(
        [Outline(url="https://a.example/rss", title="A", folder="News/World")], title="Mine & yours"
    )
    root = etree.fromstring(written.encode("utf-8"))
    assert root.findtext("head/title") == "Mine & yours"
    news = root.find("body/outline")
    assert news is not None and news.get("text") == "News"
    feed = news.find("outline/outline")
    assert feed is not None
    assert feed.attrib == {"type": "rss", "text": "A", "title": "A", "xmlUrl": "https://a.example/rss"}


def test_invalid_opml_names_the_line() -> None:
    body = b'<?xml version="1.0"?>\n<opml version="2.0">\n<body>\n<outline xmlUrl="a&b"/>\n</body></opml>'
    with pytest.raises(FeedError, match="line 4"):
        parse_opml(body)


def test_xml_that_is_not_opml_is_refused() -> None:
    with pytest.raises(FeedError, match="not OPML"):
        parse_opml(b"<rss version='2.0'><channel/></rss>")


def test_opml_with_entities_is_refused() -> None:
    body = b'<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY a "aaaa">]><opml><body/></opml>'
    with pytest.raises(UnsafeXMLError):
        parse_opml(body)
