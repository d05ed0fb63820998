"""robots.txt: the RFC 9309 policy for each answer, and a per-origin in-memory cache with one fetch at a time.

Parsing is protego's (wildcards, longest match); fetching is injected, so this module does no I/O of its own.
Policy: 2xx → obey the rules; 4xx or too many redirects → "unavailable", allow all (RFC 9309 §2.3.1.3);
429, 5xx, network errors, timeouts, anything else → "unreachable", disallow all (§2.3.1.4), cached briefly.
429 counts as unreachable (as Google does): a site asking us to slow down is not inviting page fetches.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx
from protego import Protego

from broadsheet.errors import FetchError, HTTPStatusError, RedirectError
from broadsheet.fetch.result import FetchResult

__all__ = ["UNREACHABLE_CACHE_SECONDS", "RobotsCache", "product_token", "robots_url"]

log = logging.getLogger(__name__)

#: An unreachable robots.txt blocks pages only this long before it is asked for again: a server blip
#: should not stop article fetching for a whole robots_cache_seconds.
UNREACHABLE_CACHE_SECONDS = 600.0


@dataclass(frozen=True, slots=True)
class _Rules:
    parser: Protego | None  # None: no usable file, `allow_all` decides
    allow_all: bool
    expires: float

    def allows(self, url: str, agent: str) -> bool:
        if self.parser is None:
            return self.allow_all
        return self.parser.can_fetch(url, agent)


def robots_url(url: str) -> str:
    """The robots.txt governing `url`: one per scheme, host and port."""
    return str(httpx.URL(url).copy_with(path="/robots.txt", query=None, fragment=None))


def product_token(user_agent: str) -> str:
    """The name robots.txt groups are matched against: "broadsheet/0.1 (...)" → "broadsheet"."""
    return user_agent.split("/", 1)[0].split(" ", 1)[0].strip().lower() or "*"


class RobotsCache:
    """Answers "may this page be fetched?" from each origin's robots.txt, fetched at most once per TTL."""

    def __init__(
        self,
        fetch: Callable[[str], Awaitable[FetchResult]],
        user_agent: str,
        ttl: float,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._fetch = fetch
        self._agent = product_token(user_agent)
        self._ttl = ttl
        self._clock = clock
        self._rules: dict[str, _Rules] = {}
        self._pending: dict[str, asyncio.Task[_Rules]] = {}

    async def allowed(self, url: str) -> bool:
        key = robots_url(url)
        rules = self._rules.get(key)
        if rules is None or rules.expires <= self._clock():
            rules = await self._load(key)
        return rules.allows(url, self._agent)

    async def _load(self, key: str) -> _Rules:
        task = self._pending.get(key)
        if task is None:
            # One task per origin, shared by every caller that arrives meanwhile; shielded so that one
            # caller being cancelled does not cancel the fetch the others wait for.
            task = asyncio.create_task(self._fetch_rules(key), name=f"robots {key}")
            self._pending[key] = task
            task.add_done_callback(lambda done: self._finished(key, done))
        return await asyncio.shield(task)

    def _finished(self, key: str, task: asyncio.Task[_Rules]) -> None:
        self._pending.pop(key, None)
        if task.cancelled():
            return
        error = task.exception()
        if error is None:
            self._rules[key] = task.result()
        else:  # also raised to every waiting caller; logged here in case all of them were cancelled
            log.error("robots.txt check for %s failed: %r", key, error)

    async def aclose(self) -> None:
        """Cancel robots.txt fetches still running (their callers are gone once the fetcher closes)."""
        tasks = list(self._pending.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _fetch_rules(self, key: str) -> _Rules:
        now = self._clock()
        try:
            result = await self._fetch(key)
        except (HTTPStatusError, RedirectError) as exc:
            if isinstance(exc, RedirectError) or (exc.status < 500 and exc.status != 429):
                return _Rules(None, allow_all=True, expires=now + self._ttl)
            failure: FetchError = exc
        except FetchError as exc:
            failure = exc
        else:
            text = result.content.decode("utf-8", errors="replace")  # RFC 9309: robots.txt is UTF-8
            return _Rules(Protego.parse(text), allow_all=True, expires=now + self._ttl)
        log.warning("robots.txt unreachable, disallowing its pages for now: %s", failure)
        return _Rules(None, allow_all=False, expires=now + min(self._ttl, UNREACHABLE_CACHE_SECONDS))
