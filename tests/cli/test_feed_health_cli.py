"""A source that answers but yields nothing usable is reported as such, at `source add`, by `source list`
(table and --json) and `stats`; a feed with minor errors keeps what could be read and says it had errors."""

from __future__ import annotations

import json
from collections.abc import Callable

from clirun import CliResult

from newsroom import article_page, make_stories, rss
from publisher import Publisher

Cli = Callable[..., CliResult]

BROKEN = "<rss><channel><item><title>broken & <b>unclosed"


def test_adding_a_feed_that_is_not_valid_xml_and_yields_nothing_is_refused(
    cli: Cli, publisher: Publisher
) -> None:
    publisher.add("/feed.xml", BROKEN, content_type="application/rss+xml")
    result = cli("source", "add", publisher.url("/feed.xml"))
    assert result.code == 1
    assert "not a valid feed: not well-formed XML at line 1, column 36" in result.err
    assert 'a bare "&"' in result.err
    assert json.loads(cli("source", "list", "--json").out) == []  # nothing was added


def test_a_feed_that_breaks_after_it_was_added_is_listed_as_not_valid(cli: Cli, publisher: Publisher) -> None:
    stories = make_stories(1)
    publisher.add(f"/news/{stories[0].slug}", article_page(stories[0], publisher.base_url))
    publisher.add("/feed.xml", rss(stories, publisher.base_url), content_type="application/rss+xml")
    assert cli("source", "add", publisher.url("/feed.xml")).code == 0
    assert cli("crawl", "--once").code == 0
    publisher.add("/feed.xml", BROKEN, content_type="application/rss+xml")

    crawl = cli("crawl", "--once", "--all")
    assert crawl.code == 1  # the only source failed
    assert "not a valid feed: not well-formed XML at line 1, column 36" in crawl.out

    table = cli("source", "list").out
    assert "error (200)" in table and "not a valid feed: not well-formed XML at line 1" in table
    [record] = json.loads(cli("source", "list", "--json").out)
    assert record["status"] == "error" and record["http_status"] == 200
    assert record["error"].startswith("not a valid feed: not well-formed XML at line 1, column 36")
    assert record["articles"] == 1 and record["url"] == publisher.url("/feed.xml")
    stats = json.loads(cli("stats", "--json").out)
    assert stats["sources"] == 1 and stats["failing_sources"] == 1 and stats["articles"] == 1


def test_a_feed_with_a_minor_error_is_read_and_its_warning_shown(cli: Cli, publisher: Publisher) -> None:
    stories = make_stories(2)
    for story in stories:
        publisher.add(f"/news/{story.slug}", article_page(story, publisher.base_url))
    # A bare "&" in the channel's description: not well-formed, but every item is still there.
    feed = rss(stories, publisher.base_url).replace(
        "<channel>", "<channel><description>Tides & boats</description>", 1
    )
    publisher.add("/feed.xml", feed, content_type="application/rss+xml")

    added = cli("source", "add", publisher.url("/feed.xml"))
    assert added.code == 0, added.err
    assert "warning: the feed has errors (not well-formed XML at line" in added.out
    assert "2 entries could be read" in added.out

    crawl = cli("crawl", "--once")
    assert crawl.code == 0 and "2 new articles" in crawl.out
    assert "warning: source 1" in crawl.out
    [record] = json.loads(cli("source", "list", "--json").out)
    assert record["status"] == "ok" and record["error"] is None and record["articles"] == 2
    assert record["warning"].startswith("the feed has errors (not well-formed XML at line")
    assert "warning: the feed has errors" in cli("source", "list").out
    assert json.loads(cli("stats", "--json").out)["sources_with_warnings"] == 1

    publisher.add("/feed.xml", rss(stories, publisher.base_url), content_type="application/rss+xml")
    assert cli("crawl", "--once", "--all").code == 0
    [record] = json.loads(cli("source", "list", "--json").out)
    assert record["warning"] is None  # fixed by the publisher: the warning goes
