"""The `Fetcher`: polite, safe HTTP GETs for the pipeline, with redirects, retries and robots.txt.

It owns one httpx client whose connections go through the SSRF guard; one exchange's mechanics are in
`exchange.py`, the timing rules in `retry.py` and `limits.py`, the robots.txt policy in `robots.py`.
"""

from __future__ import annotations

import asyncio
import ipaddress
import time
from collections.abc import Iterable
from http.cookiejar import CookieJar, DefaultCookiePolicy
from types import MappingProxyType, TracebackType

import httpcore
import httpx

from broadsheet.config import Settings
from broadsheet.errors import (
    FetchError,
    HTTPStatusError,
    NetworkError,
    RedirectError,
    RobotsDisallowedError,
    TimeoutError_,
    UnsafeURLError,
)
from broadsheet.fetch.exchange import Answer, Limits, exchange
from broadsheet.fetch.guard import BLOCKED_NETWORKS, GuardedBackend, IPNetwork, check_url
from broadsheet.fetch.kinds import accept_header
from broadsheet.fetch.limits import HostLimiter
from broadsheet.fetch.result import FetchKind, FetchResult
from broadsheet.fetch.retry import backoff_delay
from broadsheet.fetch.robots import RobotsCache

__all__ = ["Fetcher"]


class _GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's transport with its connection pool rebuilt on the SSRF-guarded network backend."""

    def __init__(self, backend: GuardedBackend, limits: httpx.Limits) -> None:
        super().__init__(limits=limits, trust_env=False)
        # httpx takes no network_backend argument, so the pool it just built is replaced by an equal one that
        # has it. `_pool` is the transport's only state; no proxy is ever configured, so it is a plain pool.
        # tests/fetch/test_client_contract.py holds these internals to the httpx and httpcore the locks pin.
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=backend,
        )


def _host_key(url: httpx.URL) -> str:
    port = url.port or (443 if url.scheme == "https" else 80)
    return f"{url.host}:{port}".lower()


def _parse(url: str) -> httpx.URL:
    try:
        return httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise UnsafeURLError(f"{url!r} is not a valid URL ({exc}); check for typos", url) from exc


class Fetcher:
    """Use as `async with Fetcher(settings) as fetcher: result = await fetcher.fetch(url, kind="feed")`.

    `blocked_networks` replaces the SSRF guard's list of refused (network, reason) pairs; it exists for tests
    and unusual deployments and is ignored when settings.allow_private_networks is on.
    """

    def __init__(
        self, settings: Settings, *, blocked_networks: Iterable[tuple[str | IPNetwork, str]] | None = None
    ) -> None:
        self._settings = settings
        self._blocked: tuple[tuple[IPNetwork, str], ...] = (
            BLOCKED_NETWORKS
            if blocked_networks is None
            else tuple((ipaddress.ip_network(net), why) for net, why in blocked_networks)
        )
        self._limits = Limits(settings.max_response_bytes, settings.request_timeout, settings.max_retry_after)
        self._limiter = HostLimiter(
            settings.max_concurrency, settings.per_host_connections, settings.per_host_delay
        )
        self._robots = RobotsCache(self._fetch_robots, settings.user_agent, settings.robots_cache_seconds)
        self._client: httpx.AsyncClient | None = None

    async def __aenter__(self) -> Fetcher:
        settings = self._settings
        pool = httpx.Limits(
            max_connections=settings.max_concurrency,
            max_keepalive_connections=settings.max_concurrency,
            keepalive_expiry=30.0,
        )
        transport: httpx.AsyncBaseTransport = (
            httpx.AsyncHTTPTransport(limits=pool, trust_env=False)
            if settings.allow_private_networks
            else _GuardedTransport(GuardedBackend(self._blocked), pool)
        )
        self._client = httpx.AsyncClient(
            transport=transport,
            timeout=httpx.Timeout(settings.connect_timeout, pool=settings.request_timeout),
            follow_redirects=False,
            trust_env=False,  # proxies from the environment would bypass the SSRF guard
            # No cookies: sources must not track the aggregator across polls or each other. The jar itself is
            # passed: httpx copies an httpx.Cookies into a fresh jar with the default, accepting policy.
            cookies=CookieJar(DefaultCookiePolicy(allowed_domains=[])),
            headers={"User-Agent": settings.user_agent, "Accept-Encoding": "gzip, deflate, br"},
        )
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self._robots.aclose()
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def allowed(self, url: str) -> bool:
        """Whether robots.txt lets broadsheet fetch this page (always True when respect_robots is off)."""
        if not self._settings.respect_robots:
            return True
        target = _parse(url)
        check_url(target, allow_private=self._settings.allow_private_networks, blocked=self._blocked)
        return await self._robots.allowed(str(target))

    async def fetch(
        self,
        url: str,
        *,
        kind: FetchKind = "any",
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> FetchResult:
        """GET `url`, following redirects; a 304 answer to `etag`/`last_modified` comes back with no content.

        Raises a FetchError subclass naming what went wrong; `kind="page"` first obeys robots.txt.
        """
        started = time.monotonic()
        headers = {"Accept": accept_header(kind)}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        target = _parse(url)
        visited = [str(target)]
        check_url(target, allow_private=self._settings.allow_private_networks, blocked=self._blocked)
        while True:
            if kind == "page" and not await self.allowed(str(target)):
                raise RobotsDisallowedError(
                    f"{target}: the site's robots.txt disallows broadsheet here; keep the feed's own text "
                    "(set respect_robots=false only for sites you own)",
                    str(target),
                )
            answer = await self._with_retries(target, headers, kind)
            if answer.location is None:
                return self._result(target, answer, etag, last_modified, started)
            target = self._next_hop(target, answer.location, visited)

    async def post_form(self, url: str, form: dict[str, str]) -> tuple[int, str]:
        """POST `form` to `url` once (no redirects, no retries), through the same guard, limits and timeouts as
        every fetch: (status, the first 4 KB of the answer as text). For WebSub hubs, which answer a request with
        202 and do the rest later. Raises a FetchError subclass when no answer came."""
        target = _parse(url)
        check_url(target, allow_private=self._settings.allow_private_networks, blocked=self._blocked)
        assert self._client is not None, "use the Fetcher as `async with Fetcher(settings) as fetcher`"
        try:
            async with self._client.stream("POST", target, data=form) as answer:
                body = b""
                async for chunk in answer.aiter_bytes():
                    body += chunk
                    if len(body) >= 4096:
                        break
                return answer.status_code, body[:4096].decode("utf-8", "replace")
        except httpx.TimeoutException as exc:
            raise TimeoutError_(f"{url}: no answer within the time limit", url) from exc
        except httpx.HTTPError as exc:
            raise NetworkError(f"{url}: {exc or type(exc).__name__}", url) from exc

    def _next_hop(self, current: httpx.URL, location: str, visited: list[str]) -> httpx.URL:
        try:
            target = current.join(location)
        except httpx.InvalidURL as exc:
            raise RedirectError(
                f"{current} redirected to an invalid Location {location!r}", str(current)
            ) from exc
        chain = " → ".join([*visited, str(target)])
        if str(target) in visited:
            raise RedirectError(f"redirect loop: {chain}; the site is misconfigured", str(current))
        if len(visited) > self._settings.max_redirects:
            raise RedirectError(
                f"more than {self._settings.max_redirects} redirects (max_redirects): {chain}; "
                "use the final URL as the source",
                str(current),
            )
        try:
            check_url(target, allow_private=self._settings.allow_private_networks, blocked=self._blocked)
        except UnsafeURLError as exc:
            raise UnsafeURLError(f"redirect from {current} refused: {exc}", str(target)) from exc
        visited.append(str(target))
        return target

    async def _with_retries(self, url: httpx.URL, headers: dict[str, str], kind: FetchKind) -> Answer:
        if self._client is None:
            raise RuntimeError("use `async with Fetcher(settings) as fetcher:` before fetching")
        settings = self._settings
        for attempt in range(settings.retries + 1):
            try:
                async with self._limiter.slot(_host_key(url)):
                    return await exchange(self._client, url, headers, kind, self._limits)
            except FetchError as exc:
                if not exc.transient or attempt == settings.retries:
                    raise
                wait = backoff_delay(attempt, settings.retry_backoff)
                if isinstance(exc, HTTPStatusError) and exc.retry_after is not None:
                    if exc.retry_after > settings.max_retry_after:
                        raise  # the scheduler moves the next poll instead of a worker sleeping for it
                    wait = exc.retry_after
            await asyncio.sleep(wait)
        raise AssertionError("unreachable: the last attempt returns or raises")

    async def _fetch_robots(self, url: str) -> FetchResult:
        return await self.fetch(url, kind="robots")

    @staticmethod
    def _result(
        url: httpx.URL, answer: Answer, etag: str | None, last_modified: str | None, started: float
    ) -> FetchResult:
        content_type = answer.headers.get("content-type", "")
        charset = httpx.Response(200, headers={"content-type": content_type}).charset_encoding
        not_modified = answer.status == 304
        return FetchResult(
            url=str(url),
            status=answer.status,
            content=answer.content,
            content_type=content_type.split(";", 1)[0].strip().lower(),
            charset=charset.lower() if charset else None,
            # A 304 may omit the validators; the ones sent are still the current ones.
            etag=answer.headers.get("etag") or (etag if not_modified else None),
            last_modified=answer.headers.get("last-modified") or (last_modified if not_modified else None),
            headers=MappingProxyType({name.lower(): value for name, value in answer.headers.items()}),
            elapsed=time.monotonic() - started,
        )
