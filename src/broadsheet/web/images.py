"""The image proxy (setting `proxy_images`): readers' browsers load publishers' images from broadsheet, so
publishers never see who reads what. Each URL is signed, so the proxy fetches only images our pages link to,
through the same SSRF guard and size cap as the crawler.

`ImageProxy`, one per server process (opened and closed with the app), owns the fetcher all image requests
share, so its limits on requests in flight (overall and per host) hold whatever readers do; how one exchange
works is `fetch/`'s.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
from collections.abc import Coroutine
from dataclasses import dataclass
from functools import partial
from types import TracebackType
from typing import Any

from fastapi import APIRouter, HTTPException, Query, Request
from starlette.responses import Response
from starlette.types import Receive

from broadsheet.config import Settings
from broadsheet.errors import (
    ContentTypeError,
    FetchError,
    HTTPStatusError,
    RedirectError,
    ResponseTooLargeError,
    TimeoutError_,
    UnsafeURLError,
)
from broadsheet.fetch import Fetcher, FetchResult
from broadsheet.web.context import Ctx
from broadsheet.web.security import image_signature

__all__ = ["ImageProxy", "router"]

log = logging.getLogger(__name__)

router = APIRouter(include_in_schema=False)
CLIENT_GONE = 499  # nginx's "client closed request": nobody reads it, but the access log says what happened


@dataclass(eq=False)
class _Flight:
    """One image being fetched, and how many readers' requests are waiting for it."""

    task: asyncio.Task[FetchResult]
    waiting: int = 0


class ImageProxy:
    """`async with ImageProxy(settings) as proxy: result = await proxy.fetch(url, gone)`.

    One try per image, within `image_timeout` seconds from the moment it is asked for (waiting for a free
    slot included); readers asking for an image already on its way share that fetch; a fetch nobody waits for
    any more is stopped.
    """

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._exits = contextlib.AsyncExitStack()
        self._fetcher: Fetcher | None = None
        self._flights: dict[str, _Flight] = {}

    async def __aenter__(self) -> ImageProxy:
        settings = self._settings
        if settings.proxy_images:
            # A reader's page is waiting, so one try and no backoff. No spacing between starts to one host
            # either: a page shows a dozen images from one host at once, and the per-host limit on requests in
            # flight already bounds what the host sees.
            one_try = settings.model_copy(
                update={"retries": 0, "request_timeout": settings.image_timeout, "per_host_delay": 0.0}
            )
            self._fetcher = await self._exits.enter_async_context(Fetcher(one_try))
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        flights = list(self._flights.values())
        self._flights.clear()
        for flight in flights:
            flight.task.cancel()
        await asyncio.gather(*(flight.task for flight in flights), return_exceptions=True)
        self._fetcher = None
        await self._exits.aclose()

    async def fetch(self, url: str, gone: Coroutine[Any, Any, None]) -> FetchResult | None:
        """The image at `url`, or None when `gone` (it returns once the reader has left) finished first.

        Raises the FetchError that says why the image could not be had.
        """
        if self._fetcher is None:
            gone.close()
            raise RuntimeError("the image proxy is not open: the app's lifespan opens it (and proxy_images)")
        flight = self._flights.get(url)
        if flight is None:
            flight = self._flights[url] = _Flight(asyncio.create_task(self._fetch(self._fetcher, url)))
            flight.task.add_done_callback(partial(self._landed, url, flight))
        flight.waiting += 1
        watcher = asyncio.create_task(gone)
        try:
            await asyncio.wait((flight.task, watcher), return_when=asyncio.FIRST_COMPLETED)
        finally:
            watcher.cancel()
            flight.waiting -= 1
            if flight.waiting == 0 and not flight.task.done():
                self._drop(url, flight)
                flight.task.cancel()  # every reader who asked for it has gone: so does the connection
        if flight.task.done():
            return flight.task.result()
        watcher.result()  # a failure to read the reader's connection is the server's, and raised
        return None

    async def _fetch(self, fetcher: Fetcher, url: str) -> FetchResult:
        timeout = self._settings.image_timeout
        try:
            async with asyncio.timeout(timeout):
                return await fetcher.fetch(url, kind="image")
        except TimeoutError as exc:  # waiting for a slot counts too: image_timeout is the whole wait
            raise TimeoutError_(f"{url}: no image within {timeout:g} s (image_timeout)", url) from exc

    def _drop(self, url: str, flight: _Flight) -> None:
        if self._flights.get(url) is flight:
            del self._flights[url]

    def _landed(self, url: str, flight: _Flight, task: asyncio.Task[FetchResult]) -> None:
        self._drop(url, flight)
        if not task.cancelled():
            task.exception()  # marked as seen: its readers may all have gone before it failed


async def client_gone(receive: Receive) -> None:
    """Returns once the client has closed its connection (never, where the server cannot tell)."""
    message = await receive()
    while message["type"] == "http.request" and message.get("more_body", False):
        message = await receive()  # a body no image request needs: read past it
    if message["type"] != "http.disconnect":
        # With the request read, an ASGI server's next message is the disconnect; one that answers anything
        # else at once would make this a busy loop, so it is not asked again.
        message = await receive()
    if message["type"] != "http.disconnect":
        await asyncio.Event().wait()


def failure(exc: FetchError, settings: Settings) -> tuple[int, str]:
    """Status and words for an image that could not be had, in general terms: the fetcher's own message can
    name the addresses a host resolved to, which is no reader's business (an intranet's layout, say)."""
    if isinstance(exc, TimeoutError_):
        return 504, f"it did not arrive within {settings.image_timeout:g} s; reload the page to try again"
    if isinstance(exc, UnsafeURLError):
        why = ("its address is not on the public internet, and the proxy fetches only from there "
               "(BROADSHEET_ALLOW_PRIVATE_NETWORKS=true allows intranet hosts)")  # fmt: skip
    elif isinstance(exc, ContentTypeError):
        why = "the publisher sent something that is not a JPEG, PNG, GIF, WebP or AVIF image"
    elif isinstance(exc, HTTPStatusError):
        why = f"the publisher's server answered HTTP {exc.status}"
    elif isinstance(exc, ResponseTooLargeError):
        why = f"it is larger than {settings.max_response_bytes:,} bytes (max_response_bytes)"
    elif isinstance(exc, RedirectError):
        why = "its address redirects in a loop, too often, or to an invalid address"
    else:
        why = "the publisher's server could not be reached, or broke off"
    return 502, why


@router.get("/img/{sig}")
async def image(ctx: Ctx, request: Request, sig: str, u: str = Query(max_length=4000)) -> Response:
    if not ctx.settings.proxy_images:
        raise HTTPException(404, "The image proxy is off.")
    if not hmac.compare_digest(sig.encode(), image_signature(ctx.secret, u).encode()):
        raise HTTPException(403, "This image address was not made by this site.")
    proxy: ImageProxy = request.app.state.images
    try:
        result = await proxy.fetch(u, client_gone(request.receive))
    except FetchError as exc:
        log.info("image proxy: %s", exc)
        status, why = failure(exc, ctx.settings)
        raise HTTPException(status, f"The publisher's image could not be fetched: {why}.") from exc
    if result is None:
        return Response(status_code=CLIENT_GONE)
    headers = {
        "Cache-Control": "public, max-age=86400",
        "Content-Security-Policy": "default-src 'none'; sandbox",
        "Content-Disposition": "inline",
    }
    return Response(result.content, media_type=result.content_type, headers=headers)
