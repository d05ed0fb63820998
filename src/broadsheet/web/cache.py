"""Whole-page cache for the public pages, with ETag revalidation.

Readers crowd onto the same few pages (the home page, today's stories), and rendering one costs milliseconds of
database work and templating where answering from memory costs microseconds. So complete responses of public
GET requests are kept for a short time (`page_cache_seconds`, long enough to take the load, short enough that
"3 minutes ago" stays right and a new article shows up soon) in a least-recently-used store bounded in bytes
(`page_cache_mb`). Every cacheable response carries an ETag; a browser revalidating with `If-None-Match` gets
`304 Not Modified` while the page is unchanged.

Left out: anything under /admin, /img and /static (which have their own rules), requests that carry
credentials or cookies (a signed-in reader's page is theirs alone), responses that are not 200 or say
`no-store`/`private` or set a cookie. Any request that may change data (POST, PUT, DELETE...) empties the
cache once it is answered, so an operator sees their own change at once (in the server process that answered;
with `serve --workers N` the others catch up within the TTL and the stale window, as they do with what the
crawler stores).

A page past its TTL is not dropped at once: for `page_cache_stale_seconds` more it is still served, and the
first request to find it stale starts one fresh render in the background (stale-while-revalidate). Without
that, every expiry of a busy page queued all its readers behind one render (the home page's p99 was its
render time). Readers asking for a page that is being rendered for the first time wait for that render rather
than each starting their own.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["CachedPage", "PageCache", "PageCacheMiddleware", "etag_matches"]

log = logging.getLogger(__name__)

UNCACHED_PREFIXES = ("/admin", "/img/", "/static/", "/api/v1/sources", "/healthz")
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
MAX_ENTRY_FRACTION = 8  # one page may take at most this fraction of the whole cache


@dataclass(frozen=True, slots=True)
class CachedPage:
    headers: tuple[tuple[bytes, bytes], ...]  # as the app sent them, plus ETag and Cache-Control
    body: bytes
    etag: bytes
    stored: float

    @property
    def size(self) -> int:
        return len(self.body) + sum(len(k) + len(v) for k, v in self.headers) + 200


class PageCache:
    """LRU of complete responses, bounded in bytes; entries expire `ttl` seconds after they were stored."""

    def __init__(
        self, max_bytes: int, ttl: float, clock: Callable[[], float] = time.monotonic, stale: float = 0.0
    ) -> None:
        self.max_bytes = max_bytes
        self.ttl = ttl
        self.stale = stale  # seconds past the TTL a page may still be served while it is rendered again
        self.clock = clock
        self.size = 0
        self.hits = 0
        self.misses = 0
        self.generation = 0  # bumped by clear(): a render begun before it must not be stored after it
        self._pages: OrderedDict[bytes, CachedPage] = OrderedDict()

    @property
    def enabled(self) -> bool:
        return self.max_bytes > 0 and self.ttl > 0

    def __len__(self) -> int:
        return len(self._pages)

    def get(self, key: bytes) -> CachedPage | None:
        """The page if it is fresh (younger than the TTL)."""
        page, fresh = self.lookup(key)
        return page if fresh else None

    def lookup(self, key: bytes) -> tuple[CachedPage | None, bool]:
        """(page, fresh): a fresh page, a stale one that may still be served while it is rendered again
        (fresh False), or (None, False)."""
        page = self._pages.get(key)
        if page is not None:
            age = self.clock() - page.stored
            if age < self.ttl + self.stale:
                self._pages.move_to_end(key)
                self.hits += 1
                return page, age < self.ttl
            self._drop(key)
        self.misses += 1
        return None, False

    def put(
        self,
        key: bytes,
        headers: list[tuple[bytes, bytes]],
        body: bytes,
        etag: bytes,
        generation: int | None = None,
    ) -> CachedPage:
        """Store a page (unless it is too big, or rendered before the last clear(): `generation` is what
        `self.generation` was when its render began)."""
        page = CachedPage(tuple(headers), body, etag, self.clock())
        if not self.enabled or page.size > self.max_bytes // MAX_ENTRY_FRACTION:
            return page
        if generation is not None and generation != self.generation:
            return page
        if key in self._pages:
            self._drop(key)
        self._pages[key] = page
        self.size += page.size
        while self.size > self.max_bytes:
            self._drop(next(iter(self._pages)))
        return page

    def discard(self, key: bytes) -> None:
        """Forget one page (if stored)."""
        if key in self._pages:
            self._drop(key)

    def clear(self) -> None:
        self._pages.clear()
        self.size = 0
        self.generation += 1

    def _drop(self, key: bytes) -> None:
        self.size -= self._pages.pop(key).size


def make_etag(body: bytes) -> bytes:
    return b'"' + hashlib.blake2b(body, digest_size=12).hexdigest().encode() + b'"'


def etag_matches(if_none_match: bytes, etag: bytes) -> bool:
    """RFC 9110 weak comparison of an If-None-Match header with our (strong) tag."""
    if if_none_match.strip() == b"*":
        return True
    tags = (t.strip() for t in if_none_match.split(b","))
    return any(t.removeprefix(b"W/") == etag for t in tags)


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value)
    return None


def cacheable_request(scope: Scope) -> bool:
    if scope["method"] != "GET" or scope["path"].startswith(UNCACHED_PREFIXES):
        return False
    return all(key not in (b"authorization", b"cookie") for key, _ in scope["headers"])


def cacheable_response(status: int, headers: list[tuple[bytes, bytes]]) -> bool:
    if status != 200:
        return False
    for key, value in headers:
        name = key.lower()
        if name == b"set-cookie" or (
            name == b"cache-control" and (b"no-store" in value or b"private" in value)
        ):
            return False
    return True


class PageCacheMiddleware:
    """Pure ASGI middleware in front of the app; see the module docstring."""

    def __init__(self, app: ASGIApp, *, cache: PageCache) -> None:
        self.app = app
        self.cache = cache
        self._rendering: dict[bytes, asyncio.Future[CachedPage | None]] = {}  # first renders, by key
        self._refreshing: set[bytes] = set()  # keys being rendered again in the background
        self._tasks: set[asyncio.Task[None]] = set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["method"] not in SAFE_METHODS:
            # Emptied as the answer starts: after the change is made (no page rendered meanwhile keeps the
            # old state) and before the client can ask for a page again.
            async def clear_then_send(message: Message) -> None:
                if message["type"] == "http.response.start":
                    self.cache.clear()
                    self._rendering.clear()  # a render begun before the change is not handed to anyone new
                await send(message)

            await self.app(scope, receive, clear_then_send)
            return
        if not cacheable_request(scope):
            await self.app(scope, receive, send)
            return
        # The host is part of the key: pages carry absolute links built from it.
        key = b"|".join(
            (
                scope.get("scheme", "http").encode(),
                _header(scope, b"host") or b"",
                scope.get("root_path", "").encode() + scope["path"].encode(),
                scope.get("query_string", b""),
            )
        )
        if not self.cache.enabled:
            page = await self._render(key, scope, receive, send)
        else:
            page, fresh = self.cache.lookup(key)
            if page is not None and not fresh and key not in self._refreshing:
                self._refresh(key, scope)
            if page is None:
                page = await self._first_render(key, scope, receive, send)
        if page is None:
            return  # the app answered the client itself (not cacheable)
        await self._answer(page, _header(scope, b"if-none-match"), send)

    async def _first_render(
        self, key: bytes, scope: Scope, receive: Receive, send: Send
    ) -> CachedPage | None:
        """Render a page no one has in the cache; readers asking for it meanwhile wait for this render."""
        waiting = self._rendering.get(key)
        if waiting is not None:
            page = await asyncio.shield(waiting)
            if page is not None:
                return page
            return await self._render(key, scope, receive, send)  # not cacheable: answer this one ourselves
        future: asyncio.Future[CachedPage | None] = asyncio.get_running_loop().create_future()
        self._rendering[key] = future
        page = None
        try:
            page = await self._render(key, scope, receive, send)
        finally:
            if self._rendering.get(key) is future:
                del self._rendering[key]
            future.set_result(page)
        return page

    def _refresh(self, key: bytes, scope: Scope) -> None:
        """Render the page again in the background, for the cache only."""
        self._refreshing.add(key)
        request = dict(scope)
        answered = False

        async def receive() -> Message:
            nonlocal answered
            if answered:
                return {"type": "http.disconnect"}
            answered = True
            return {"type": "http.request", "body": b"", "more_body": False}

        async def discard(_message: Message) -> None:
            return None

        async def refresh() -> None:
            page = None
            try:
                page = await self._render(key, request, receive, discard)
            except Exception:
                log.exception("rendering %s again for the page cache failed", scope["path"])
            finally:
                self._refreshing.discard(key)
                if page is None:  # gone, moved or failing now: stop serving the old page
                    self.cache.discard(key)

        task = asyncio.get_running_loop().create_task(refresh())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _render(self, key: bytes, scope: Scope, receive: Receive, send: Send) -> CachedPage | None:
        start: Message | None = None
        chunks: list[bytes] = []
        passthrough = False
        generation = self.cache.generation

        async def capture(message: Message) -> None:
            nonlocal start, passthrough
            if passthrough:
                await send(message)
            elif message["type"] == "http.response.start":
                start = message
                if not cacheable_response(message["status"], list(message.get("headers", []))):
                    passthrough = True
                    await send(message)
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
            else:
                await send(message)

        await self.app(scope, receive, capture)
        if passthrough or start is None:
            return None
        body = b"".join(chunks)
        etag = make_etag(body)
        headers = [
            (k, v)
            for k, v in start.get("headers", [])
            if k.lower() not in (b"etag", b"cache-control", b"content-length")
        ]
        # no-cache: browsers keep the page but ask each time; unchanged pages then cost a 304.
        headers += [(b"etag", etag), (b"cache-control", b"no-cache")]
        return self.cache.put(key, headers, body, etag, generation)

    async def _answer(self, page: CachedPage, if_none_match: bytes | None, send: Send) -> None:
        if if_none_match is not None and etag_matches(if_none_match, page.etag):
            kept = [(k, v) for k, v in page.headers if k.lower() not in (b"content-type", b"content-length")]
            await send({"type": "http.response.start", "status": 304, "headers": kept})
            await send({"type": "http.response.body", "body": b""})
            return
        headers = [*page.headers, (b"content-length", str(len(page.body)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": page.body})
