"""Politeness: per-host connection limits, spacing between request starts, global concurrency."""

from __future__ import annotations

import asyncio
import itertools
import time

from fetch_helpers import with_fetcher

from broadsheet.config import Settings
from broadsheet.fetch import Fetcher
from publisher import Publisher, Recorded

SLOW = 0.2


def _fetch_all(settings: Settings, urls: list[str]) -> float:
    async def go(fetcher: Fetcher) -> None:
        await asyncio.gather(*(fetcher.fetch(url) for url in urls))

    started = time.monotonic()
    with_fetcher(settings, go)
    return time.monotonic() - started


def _overlaps(a: Recorded, b: Recorded) -> bool:
    assert a.finished is not None and b.finished is not None
    return a.started < b.finished and b.started < a.finished


def test_one_connection_per_host_never_overlaps_while_other_hosts_run_in_parallel(
    publisher: Publisher, publisher2: Publisher, settings: Settings
) -> None:
    for pub in (publisher, publisher2):
        pub.add("/slow", "x", delay=SLOW)
    urls = [pub.url("/slow") for pub in (publisher, publisher2) for _ in range(3)]

    elapsed = _fetch_all(settings.model_copy(update={"per_host_connections": 1}), urls)

    for pub in (publisher, publisher2):
        starts = sorted(r.started for r in pub.requests)
        # Each request is served for SLOW seconds, so serialised starts are at least that far apart.
        assert all(later - earlier >= SLOW * 0.95 for earlier, later in itertools.pairwise(starts))
    assert any(_overlaps(a, b) for a in publisher.requests for b in publisher2.requests)
    assert elapsed < 6 * SLOW  # the two hosts ran side by side: about 3 * SLOW, not 6 * SLOW


def test_per_host_connections_allows_that_many_at_once(publisher: Publisher, settings: Settings) -> None:
    publisher.add("/slow", "x", delay=SLOW)

    elapsed = _fetch_all(
        settings.model_copy(update={"per_host_connections": 2}), [publisher.url("/slow")] * 4
    )

    assert 2 * SLOW <= elapsed < 3.5 * SLOW


def test_per_host_delay_spaces_request_starts(publisher: Publisher, settings: Settings) -> None:
    publisher.add("/fast", "x")
    delay = 0.15

    _fetch_all(
        settings.model_copy(update={"per_host_delay": delay, "per_host_connections": 4}),
        [publisher.url("/fast")] * 4,
    )

    starts = sorted(r.started for r in publisher.requests)
    assert all(later - earlier >= delay * 0.9 for earlier, later in itertools.pairwise(starts))


def test_max_concurrency_caps_requests_across_hosts(
    publisher: Publisher, publisher2: Publisher, settings: Settings
) -> None:
    for pub in (publisher, publisher2):
        pub.add("/slow", "x", delay=SLOW)
    urls = [pub.url("/slow") for pub in (publisher, publisher2) for _ in range(2)]

    elapsed = _fetch_all(settings.model_copy(update={"max_concurrency": 1, "per_host_connections": 4}), urls)

    assert elapsed >= 4 * SLOW * 0.95
