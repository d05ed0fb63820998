"""JSON Feed 1.0 and 1.1 through parse_feed."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from broadsheet.errors import FeedError
from broadsheet.models import SourceKind
from broadsheet.sources import parse_feed

Read = Callable[[str], bytes]


def test_json_feed_10_uses_single_author_and_feed_author_fallback(fixture_bytes: Read) -> None:
    feed = parse_feed(fixture_bytes("jsonfeed10.json"), "https://almanac.example.com/feed.json")
    assert feed.kind is SourceKind.FEED
    assert feed.format == "json10"
    assert feed.title == "Pocket Almanac"
    assert feed.site_url == "https://almanac.example.com/"
    tides, moon = feed.entries
    assert tides.author == "Almanac Staff"
    assert moon.author == "Luna Writer"


def test_json_feed_10_item_fields(fixture_bytes: Read) -> None:
    tides, moon = parse_feed(
        fixture_bytes("jsonfeed10.json"), "https://almanac.example.com/feed.json"
    ).entries
    assert tides.url == "https://almanac.example.com/tides"
    assert tides.title == "Tides & times"
    assert tides.published == datetime(2024, 4, 1, 11, 0, tzinfo=UTC)
    assert tides.image == "https://almanac.example.com/img/tides.jpg"
    assert tides.tags == ("sea", "almanac")
    assert "<b>noon</b>" in tides.content_html
    assert "script" not in tides.content_html
    assert tides.guid == "1"
    assert moon.url == "https://almanac.example.com/moon"  # id is a URL and there is no url
    assert moon.summary == "Full moon on Friday."


def test_json_feed_item_without_url_is_skipped(fixture_bytes: Read) -> None:
    feed = parse_feed(fixture_bytes("jsonfeed10.json"), "https://almanac.example.com/feed.json")
    assert [e.guid for e in feed.entries] == ["1", "https://almanac.example.com/moon"]


def test_json_feed_11_authors_language_and_banner(fixture_bytes: Read) -> None:
    feed = parse_feed(
        fixture_bytes("jsonfeed11.json"), "https://kettle.example.org/feed.json", "application/feed+json"
    )
    assert feed.format == "json11"
    assert feed.lang == "en-AU"
    (entry,) = feed.entries
    assert entry.author == "Tea Taster, Steam Critic"
    assert entry.lang == "en-NZ"
    assert entry.image == "https://kettle.example.org/banner/7.jpg"
    assert entry.updated == datetime(2024, 2, 10, 10, 0, tzinfo=UTC)
    assert entry.published is None
    assert entry.summary == "It boils."


def test_json_that_is_not_a_json_feed_is_refused() -> None:
    body = json.dumps({"posts": [{"link": "https://x.example.com/"}]}).encode()
    with pytest.raises(FeedError, match="not a JSON Feed"):
        parse_feed(body, "https://x.example.com/api/posts", "application/json")


def test_json_array_is_refused() -> None:
    with pytest.raises(FeedError, match="not a JSON Feed"):
        parse_feed(b'[{"version": "https://jsonfeed.org/version/1.1"}]', "https://x.example.com/a.json")


def test_broken_json_is_refused_with_the_parser_complaint() -> None:
    with pytest.raises(FeedError, match="does not parse"):
        parse_feed(
            b'{"version": "https://jsonfeed.org/version/1.1", "items": [', "https://x.example.com/f.json"
        )


def test_json_feed_in_windows_1252_stays_readable() -> None:
    body = (
        '{"version": "https://jsonfeed.org/version/1.1",'
        ' "items": [{"id": "1", "url": "https://c.example/1", "title": "café"}]}'
    )
    feed = parse_feed(body.encode("windows-1252"), "https://c.example/feed.json")
    assert feed.entries[0].title == "café"
