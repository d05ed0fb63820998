"""Whole-page cache for the public pages, with ETag revalidation.

Readers crowd onto the same few pages (the home page, today's stories), and rendering one costs milliseconds of
database work and templating where answering from memory costs microseconds. So complete responses of public
GET requests are kept for a short time (`page_cache_seconds`, long enough to take the load, short enough that
"3 minutes ago" stays right and a new article shows up soon) in a least-recently-used store bounded in bytes
(`page_cache_mb`). Every cacheable response carries an ETag; a browser revalidating with `If-None-Match` gets
`304 Not Modified` while the page is unchanged.

Left out: anything under /admin, /img and /static (which have their own rules), responses that are not 200 or
say `no-store`/`private` or set a cookie. Public pages are the same for every reader who is not signed in; a
request carrying a reader's session cookie or a `Bearer` API token is answered by the app, never from here,
and its answer says `no-store` (other cookies, and the admin's Basic credentials, change nothing). What is only the operator's (/admin, /api/v1/sources) is answered with
`Cache-Control: no-store`, errors included, so that no browser or proxy keeps a copy.

A page's key is its address, less the query parameters it does not read: each route declares the ones it
reads (FastAPI's query parameters, found in its signature and dependencies when the first request with a
query string comes in; a plain Starlette route reads none), the others are dropped and the rest put in name
order, each value decoded and encoded one way, and the page is rendered from exactly that query. So
`?r=<random>`, `?outlet=%61lder` and `?outlet=alder` are the one page, from the cache. The host is part of the
key (pages carry absolute links built from it); without `base_url`, which makes the gate refuse other hosts,
only the first few hosts a server process meets are cached, so a client inventing Host headers cannot fill it.

Only a write that succeeded empties anything: a 2xx or 3xx answer to a method that may change data (POST,
PUT, DELETE...) from a route that says which public pages its change can reach, with
`changes(request.scope, ...)` ("/" is that page with any query; "/api/v1/articles/*" every page under that
prefix); only those are dropped. Answers that refused (401, 403, 404, 405...), redirects the router makes
(`POST /outlets/` answered 307) and writes that declare nothing change nothing. Dropped pages are gone from the server
process that answered; with `serve --workers N` the others catch up within the TTL and the stale window, as
they do with what the crawler stores.

A page past its TTL is not dropped at once: for `page_cache_stale_seconds` more it is still served, and the
first request to find it stale starts one fresh render in the background (stale-while-revalidate), so the
readers of a busy page are never all queued behind one render when it expires. Readers asking for a page that
is being rendered for the first time wait for that render rather than each starting their own.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote_plus, unquote_plus

from fastapi.routing import iter_route_contexts
from pydantic import BaseModel
from starlette.requests import cookie_parser
from starlette.routing import BaseRoute, Match, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from broadsheet.web.security import ADMIN_PREFIXES, SESSION_COOKIE

__all__ = [
    "CachedPage",
    "PageCache",
    "PageCacheMiddleware",
    "QueryRoute",
    "changes",
    "etag_matches",
    "normal_query",
]

log = logging.getLogger(__name__)

# The reader-app APIs (web/apps/): personal whatever credentials they carry, never cached, never kept.
APP_PREFIXES = ("/accounts/ClientLogin", "/reader/", "/v1/", "/fever")
# The service worker's script too: a new build must reach browsers at once (it says no-cache to them as well).
# WebSub's callback: each hub's request is its own (a challenge to echo, a pushed document).
WEBSUB_PREFIX = "/websub/"
UNCACHED_PREFIXES = (
    "/admin", "/img/", "/static/", "/api/v1/sources", "/healthz", "/sw.js", WEBSUB_PREFIX, *APP_PREFIXES
)  # fmt: skip
# Answers no cache may keep, whoever asks: every response on these paths says `no-store` (set here, once).
NO_STORE_PREFIXES = (*ADMIN_PREFIXES, *APP_PREFIXES, WEBSUB_PREFIX)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
MAX_ENTRY_FRACTION = 8  # one page may take at most this fraction of the whole cache
CHANGES = "broadsheet.changes"  # the scope's key for what a write declared it changed
EVERYTHING = "*"
MAX_HOSTS = 8  # distinct Host headers whose pages one process caches (without base_url)


def changes(scope: Scope, *paths: str) -> None:
    """Declare, from a route that writes, the public pages its success may have changed: "/outlets" is that
    page (whatever its query), "/api/v1/articles/*" every page whose path starts "/api/v1/articles/". Call it
    with no paths for a write that changes no public page. See the module docstring."""
    declared: set[str] = scope.setdefault(CHANGES, set())
    declared.update(paths)


def _matches(path: str, patterns: Collection[str]) -> bool:
    return any(path.startswith(p[:-1]) if p.endswith("*") else path == p for p in patterns)


@dataclass(frozen=True, slots=True)
class CachedPage:
    headers: tuple[tuple[bytes, bytes], ...]  # as the app sent them, plus ETag and Cache-Control
    body: bytes
    etag: bytes
    stored: float
    path: str = ""  # what `drop` matches

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
        path: str = "",
    ) -> CachedPage:
        """Store a page (unless it is too big, or rendered before the last clear() or drop(): `generation` is
        what `self.generation` was when its render began)."""
        page = CachedPage(tuple(headers), body, etag, self.clock(), path)
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

    def drop(self, patterns: Collection[str]) -> None:
        """Forget the pages whose path matches one of `patterns` (see `changes`; "*" is every page)."""
        if EVERYTHING in patterns:
            self.clear()
            return
        for key in [k for k, page in self._pages.items() if _matches(page.path, patterns)]:
            self._drop(key)
        # A render begun before the change is not stored after it (any page's: writes are rare).
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


def normal_query(query: bytes, names: Collection[str]) -> bytes:
    """`query` with only the parameters called `names`, in name order (repeats keep their order), names and
    values decoded and encoded again one way, so that spellings of one query are one key."""
    kept = []
    for part in query.split(b"&"):
        raw_name, has_value, raw_value = part.decode("latin-1").partition("=")
        name = unquote_plus(raw_name)
        if part and name in names:
            value = quote_plus(unquote_plus(raw_value), safe="") if has_value else ""
            kept.append((name, f"{quote_plus(name, safe='')}{'=' if has_value else ''}{value}"))
    kept.sort(key=lambda item: item[0])
    return "&".join(part for _name, part in kept).encode("ascii")


class QueryRoute(Route):
    """A plain Starlette route that reads the query parameters named in `reads` (kept in its pages' keys)."""

    def __init__(
        self, path: str, endpoint: Callable[..., Any], *, reads: Collection[str], **kwargs: Any
    ) -> None:
        super().__init__(path, endpoint, **kwargs)
        self.reads = frozenset(reads)


def declared_query(route: Any) -> frozenset[str]:
    """The query parameters a route reads: a FastAPI route's, from its signature and its dependencies'; a
    QueryRoute's `reads`; none for any other route."""
    if isinstance(route, QueryRoute):
        return route.reads
    dependant = getattr(route, "dependant", None)
    names: set[str] = set()
    pending = [dependant] if dependant is not None else []
    while pending:
        current = pending.pop()
        for field in current.query_params:
            names.add(field.alias)
            model = field.field_info.annotation
            if isinstance(model, type) and issubclass(model, BaseModel):  # a model of query parameters
                names.update(f.alias or name for name, f in model.model_fields.items())
        pending.extend(current.dependencies)
    return frozenset(names)


def routes_with_query(app: Any) -> list[tuple[Any, frozenset[str]]]:
    """Every route of `app` in the order its router tries them (each able to `matches(scope)`), with the query
    parameters it reads."""
    routes: list[BaseRoute] = list(getattr(getattr(app, "router", None), "routes", ()))
    # FastAPI keeps included routers as a tree: walked, not read as a flat list.
    return [(context, declared_query(context.original_route)) for context in iter_route_contexts(routes)]


def _no_store(send: Send) -> Send:
    async def send_no_store(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"cache-control"]
            message = {**message, "headers": [*headers, (b"cache-control", b"no-store")]}
        await send(message)

    return send_no_store


def page_key(scope: Scope, query: bytes) -> bytes:
    # The host is part of the key: pages carry absolute links built from it. Fields are separated by NUL,
    # which only the (decoded) path can hold, so it comes last.
    path = scope.get("root_path", "").encode() + scope["path"].encode()
    return b"\0".join((scope.get("scheme", "http").encode(), _header(scope, b"host") or b"", query, path))


def _personal(scope: Scope) -> bool:
    """The request carries a reader's session cookie or an API token: its answer may be theirs alone. The
    cookie is found by the parser the app reads it with (which forgives spaces around the name), so no spelling
    of it can pass for anonymous here and signed in there."""
    cookie = _header(scope, b"cookie")
    if cookie and SESSION_COOKIE in cookie_parser(cookie.decode("latin-1")):
        return True
    return (_header(scope, b"authorization") or b"").lstrip().lower().startswith(b"bearer")


def cacheable_request(scope: Scope) -> bool:
    return scope["method"] == "GET" and not scope["path"].startswith(UNCACHED_PREFIXES)


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
        self._routes: list[tuple[Any, frozenset[str]]] | None = None  # with the parameters each reads
        self._hosts: set[bytes] = set()  # the Host headers whose pages are cached

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"].startswith(NO_STORE_PREFIXES):
            send = _no_store(send)
        elif scope["method"] in SAFE_METHODS and _personal(scope):
            # A signed-in reader's pages are their own (their name, their forms): never from here, never kept
            # by a browser or proxy either.
            await self.app(scope, receive, _no_store(send))
            return
        if scope["method"] not in SAFE_METHODS:
            await self.app(scope, receive, self._after_write(scope, send))
            return
        if not cacheable_request(scope) or not self._known_host(scope):
            await self.app(scope, receive, send)
            return
        query = scope.get("query_string", b"")
        if query:
            names = self._query_names(scope)
            if names is not None:  # a route will answer: it sees only what it reads, as the key says
                query = normal_query(query, names)
                scope = {**scope, "query_string": query}
        key = page_key(scope, query)
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

    def _after_write(self, scope: Scope, send: Send) -> Send:
        """`send`, dropping what a successful write declared it changed as its answer starts: after the change
        is made (no page rendered meanwhile keeps the old state) and before the client can ask again."""

        async def drop_then_send(message: Message) -> None:
            if message["type"] == "http.response.start" and 200 <= message["status"] < 400:
                changed: set[str] = scope.get(CHANGES, set())
                if changed:
                    self.cache.drop(changed)
                    self._rendering.clear()  # a render begun before the change is not handed to anyone new
            await send(message)

        return drop_then_send

    def _known_host(self, scope: Scope) -> bool:
        host = (_header(scope, b"host") or b"").lower()
        if host in self._hosts:
            return True
        if len(self._hosts) < MAX_HOSTS:
            self._hosts.add(host)
            return True
        return False

    def _query_names(self, scope: Scope) -> frozenset[str] | None:
        """The query parameters of the route that will answer this request; None when no route matches (the
        router answers it: 404, 405 or a redirect that keeps the query)."""
        if self._routes is None:
            self._routes = routes_with_query(scope.get("app"))
        for route, names in self._routes:
            if route.matches(scope)[0] is Match.FULL:
                return names
        return None

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
        return self.cache.put(key, headers, body, etag, generation, scope["path"])

    async def _answer(self, page: CachedPage, if_none_match: bytes | None, send: Send) -> None:
        if if_none_match is not None and etag_matches(if_none_match, page.etag):
            kept = [(k, v) for k, v in page.headers if k.lower() not in (b"content-type", b"content-length")]
            await send({"type": "http.response.start", "status": 304, "headers": kept})
            await send({"type": "http.response.body", "body": b""})
            return
        headers = [*page.headers, (b"content-length", str(len(page.body)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": page.body})
