"""robots.txt: obeyed for pages only, cached per host, and RFC 9309's policy for missing or failing files."""

from __future__ import annotations

import asyncio

import pytest
from fetch_helpers import fetch, with_fetcher

from broadsheet.config import Settings
from broadsheet.errors import RobotsDisallowedError
from broadsheet.fetch import Fetcher
from publisher import Publisher

ROBOTS = "User-agent: *\nDisallow: /private/\nAllow: /private/open\n"


def test_disallowed_page_is_refused_without_being_requested(publisher: Publisher, settings: Settings) -> None:
    publisher.add("/robots.txt", ROBOTS, content_type="text/plain")
    publisher.add("/private/article", "<p>secret</p>")

    with pytest.raises(RobotsDisallowedError, match=r"robots\.txt disallows"):
        fetch(settings, publisher.url("/private/article"), kind="page")

    assert publisher.hits("/private/article") == 0


def test_robots_applies_to_pages_not_feeds(publisher: Publisher, settings: Settings) -> None:
    publisher.add("/robots.txt", ROBOTS, content_type="text/plain")
    publisher.add("/private/feed.xml", "<rss/>", content_type="application/rss+xml")

    assert fetch(settings, publisher.url("/private/feed.xml"), kind="feed").status == 200
    assert publisher.hits("/robots.txt") == 0


def test_longest_matching_rule_wins(publisher: Publisher, settings: Settings) -> None:
    publisher.add("/robots.txt", ROBOTS, content_type="text/plain")
    publisher.add("/private/open", "<p>open</p>")

    assert fetch(settings, publisher.url("/private/open"), kind="page").content == b"<p>open</p>"


def test_group_for_broadsheet_overrides_the_wildcard_group(publisher: Publisher, settings: Settings) -> None:
    publisher.add("/robots.txt", "User-agent: *\nAllow: /\n\nUser-agent: broadsheet\nDisallow: /\n")

    assert not with_fetcher(settings, lambda fetcher: fetcher.allowed(publisher.url("/any")))


def test_robots_is_fetched_once_per_host(
    publisher: Publisher, publisher2: Publisher, settings: Settings
) -> None:
    for pub in (publisher, publisher2):
        pub.add("/robots.txt", ROBOTS, content_type="text/plain", delay=0.1)
        for n in range(4):
            pub.add(f"/a{n}", "<p>a</p>")

    async def go(fetcher: Fetcher) -> None:
        urls = [pub.url(f"/a{n}") for pub in (publisher, publisher2) for n in range(4)]
        await asyncio.gather(*(fetcher.fetch(url, kind="page") for url in urls))
        await fetcher.fetch(publisher.url("/a0"), kind="page")

    with_fetcher(settings, go)

    assert publisher.hits("/robots.txt") == 1
    assert publisher2.hits("/robots.txt") == 1
    assert publisher.hits("/a0") == 2


def test_robots_is_fetched_again_after_the_cache_expires(publisher: Publisher, settings: Settings) -> None:
    publisher.add("/robots.txt", ROBOTS)

    async def go(fetcher: Fetcher) -> None:
        await fetcher.allowed(publisher.url("/a"))
        await fetcher.allowed(publisher.url("/b"))

    with_fetcher(settings.model_copy(update={"robots_cache_seconds": 0}), go)

    assert publisher.hits("/robots.txt") == 2


@pytest.mark.parametrize("status", [404, 401, 403, 410])
def test_missing_or_forbidden_robots_allows_everything(
    publisher: Publisher, settings: Settings, status: int
) -> None:
    # RFC 9309 §2.3.1.3: a 4xx robots.txt is "unavailable", and the crawler may access any resource.
    if status != 404:
        publisher.add("/robots.txt", "no", status=status)

    assert with_fetcher(settings, lambda fetcher: fetcher.allowed(publisher.url("/article")))


def test_failing_robots_disallows_everything_for_now(publisher: Publisher, settings: Settings) -> None:
    # RFC 9309 §2.3.1.4: a 5xx or unreachable robots.txt means complete disallow.
    publisher.add("/robots.txt", "oops", status=500)
    publisher.add("/article", "<p>a</p>")

    with pytest.raises(RobotsDisallowedError):
        fetch(settings.model_copy(update={"retries": 0}), publisher.url("/article"), kind="page")
    assert publisher.hits("/article") == 0


def test_robots_are_ignored_when_respect_robots_is_off(publisher: Publisher, settings: Settings) -> None:
    publisher.add("/robots.txt", "User-agent: *\nDisallow: /\n")
    publisher.add("/article", "<p>a</p>")

    result = fetch(
        settings.model_copy(update={"respect_robots": False}), publisher.url("/article"), kind="page"
    )

    assert result.status == 200
    assert publisher.hits("/robots.txt") == 0


def test_redirect_to_a_disallowed_page_is_refused(
    publisher: Publisher, publisher2: Publisher, settings: Settings
) -> None:
    publisher.redirect("/short", publisher2.url("/private/story"))
    publisher2.add("/robots.txt", ROBOTS)
    publisher2.add("/private/story", "<p>s</p>")

    with pytest.raises(RobotsDisallowedError):
        fetch(settings, publisher.url("/short"), kind="page")
    assert publisher2.hits("/private/story") == 0


def test_rate_limited_robots_disallows_pages_for_now(publisher: Publisher, settings: Settings) -> None:
    publisher.add("/robots.txt", "slow down", status=429)

    assert not with_fetcher(
        settings.model_copy(update={"retries": 0}), lambda fetcher: fetcher.allowed(publisher.url("/a"))
    )
