"""One HTTP exchange: send a GET, judge the status and content type, stream the body within its caps.

Maps every httpx failure onto broadsheet's FetchError hierarchy. Redirects, retries, politeness and robots.txt
are the caller's (`client.py`); this module sees exactly one request and one response.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from http import HTTPStatus

import httpx

from broadsheet.errors import (
    FetchError,
    HTTPStatusError,
    NetworkError,
    RedirectError,
    ResponseTooLargeError,
    TimeoutError_,
)
from broadsheet.fetch.decode import DecodeError, TooLarge, make_decoder
from broadsheet.fetch.kinds import check_content_type
from broadsheet.fetch.result import FetchKind
from broadsheet.fetch.retry import parse_retry_after

__all__ = ["Answer", "Limits", "exchange", "status_message"]

_NOUN: dict[FetchKind, str] = {
    "feed": "the feed",
    "page": "the page",
    "robots": "robots.txt",
    "image": "the image",
    "any": "it",
}


@dataclass(frozen=True, slots=True)
class Limits:
    max_bytes: int
    deadline: float  # seconds for the whole exchange, body included
    max_retry_after: float


@dataclass(frozen=True, slots=True)
class Answer:
    """A response that is either final (`location` is None) or a redirect to `location` (unresolved)."""

    status: int
    headers: httpx.Headers
    content: bytes = b""
    location: str | None = None


def status_message(status: int, url: str, kind: FetchKind, retry_after: float | None, limit: float) -> str:
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "(non-standard status)"
    noun = _NOUN[kind]
    if status in (404, 410):
        hint = f"{noun} moved or was removed; check the URL"
    elif status in (401, 403):
        hint = "the site refuses access (login wall or bot blocking); open the URL in a browser to see why"
    elif status == 429:
        hint = "the site is rate-limiting broadsheet; raise per_host_delay or poll it less often"
    elif status >= 500:
        hint = "the server failed; it is retried on the next poll"
    else:
        hint = "the server rejected the request; check the URL"
    message = f"HTTP {status} {phrase} from {url}: {hint}"
    if retry_after is not None and retry_after > limit:
        message += (
            f" (it asks to wait {retry_after:.0f} s, more than max_retry_after={limit:.0f} s, so the next "
            "poll is pushed back instead)"
        )
    return message


def _is_tls_failure(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _network_error(exc: httpx.TransportError, url: str) -> FetchError:
    if isinstance(exc, httpx.TimeoutException):
        what = (
            "connecting" if isinstance(exc, httpx.ConnectTimeout | httpx.PoolTimeout) else "waiting for data"
        )
        return TimeoutError_(
            f"{url}: the server was too slow ({what} stalled past connect_timeout); it is retried later", url
        )
    if _is_tls_failure(exc):
        error = NetworkError(
            f"{url}: TLS handshake failed ({exc}); the site's certificate may be invalid or expired", url
        )
        error.transient = False  # a bad certificate does not fix itself within a retry
        return error
    return NetworkError(f"{url}: network error ({type(exc).__name__}: {exc}); it is retried later", url)


async def _read_body(response: httpx.Response, url: str, max_bytes: int) -> bytes:
    encoding = response.headers.get("content-encoding", "")
    try:
        decoder = make_decoder(encoding)
    except ValueError as exc:
        error = NetworkError(
            f"{url}: the server used Content-Encoding {exc}, which broadsheet never asked for", url
        )
        error.transient = False
        raise error from exc
    parts: list[bytes] = []
    size = 0
    too_large = ResponseTooLargeError(
        f"{url}: response larger than {max_bytes:,} bytes (max_response_bytes); "
        "raise the cap if this source is legitimate",
        url,
    )
    try:
        # Raw bytes, decoded here under a budget: httpx's decoders would inflate a compression bomb unbounded.
        async for chunk in response.aiter_raw():
            piece = decoder.feed(chunk, max_bytes - size)
            size += len(piece)
            parts.append(piece)
    except TooLarge:
        raise too_large from None
    except DecodeError as exc:
        raise NetworkError(
            f"{url}: the {encoding} body is corrupt ({exc}); it is retried later", url
        ) from exc
    return b"".join(parts)


def _too_long_before_reading(response: httpx.Response, max_bytes: int) -> bool:
    declared = response.headers.get("content-length", "")
    return declared.isdigit() and int(declared) > max_bytes


async def exchange(
    client: httpx.AsyncClient, url: httpx.URL, headers: Mapping[str, str], kind: FetchKind, limits: Limits
) -> Answer:
    """GET `url` once. Raises the FetchError subclass that says what went wrong."""
    where = str(url)
    try:
        async with asyncio.timeout(limits.deadline), client.stream("GET", url, headers=headers) as response:
            status = response.status_code
            if 300 <= status < 400 and status != 304:
                location = response.headers.get("location")
                if not location:
                    raise RedirectError(f"{where}: HTTP {status} redirect without a Location header", where)
                return Answer(status, response.headers, location=location)
            if status >= 400:
                retry_after = parse_retry_after(response.headers.get("retry-after"))
                message = status_message(status, where, kind, retry_after, limits.max_retry_after)
                raise HTTPStatusError(message, where, status=status, retry_after=retry_after)
            if status == 304:
                return Answer(status, response.headers)
            media = response.headers.get("content-type", "").split(";", 1)[0].strip().lower()
            check_content_type(media, kind, where)
            if _too_long_before_reading(response, limits.max_bytes):
                raise ResponseTooLargeError(
                    f"{where}: response of {response.headers['content-length']} bytes is larger than "
                    f"{limits.max_bytes:,} (max_response_bytes); raise the cap if this source is legitimate",
                    where,
                )
            content = await _read_body(response, where, limits.max_bytes)
            return Answer(status, response.headers, content=content)
    except FetchError as exc:
        exc.url = exc.url or where  # the SSRF backend does not know the URL it refused
        raise
    except TimeoutError as exc:  # asyncio.timeout: the total deadline, however the time was spent
        raise TimeoutError_(
            f"{where}: the whole request took longer than {limits.deadline:g} s (request_timeout); "
            "the server may be trickling data; it is retried later",
            where,
        ) from exc
    except httpx.TransportError as exc:
        raise _network_error(exc, where) from exc
