"""A real HTTP publisher for tests: a threaded stdlib server on a loopback address with a route table.

Tests add routes (static bodies, redirects, or handler functions for misbehaviour) and read back the
requests it saw. It serves only what tests put in it; it is never a fake of httpx.
"""

from __future__ import annotations

import gzip as gzip_module
import ssl
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

__all__ = ["Handler", "Publisher", "Recorded", "endless", "sequence", "stall", "trickle"]

Handler = Callable[[BaseHTTPRequestHandler], None]


@dataclass
class Recorded:
    """One request as the publisher saw it; `finished` is set once the response has been written."""

    method: str
    path: str
    headers: dict[str, str]  # names lowercased
    started: float  # time.monotonic()
    finished: float | None = None


@dataclass(frozen=True)
class _Static:
    body: bytes
    content_type: str
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    etag: str | None = None
    last_modified: str | None = None
    delay: float = 0.0
    gzip: bool = False


def _not_modified(route: _Static, request: BaseHTTPRequestHandler) -> bool:
    if_none_match = request.headers.get("If-None-Match")
    if route.etag and if_none_match:
        tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
        return "*" in tags or route.etag.removeprefix("W/") in tags
    if_modified_since = request.headers.get("If-Modified-Since")
    if route.last_modified and if_modified_since:
        try:
            return parsedate_to_datetime(route.last_modified) <= parsedate_to_datetime(if_modified_since)
        except (TypeError, ValueError):
            return route.last_modified == if_modified_since
    return False


class Publisher:
    """`with Publisher() as pub: pub.add("/feed.xml", xml, content_type="application/rss+xml")`.

    `tls` (a server-side SSLContext) makes it serve HTTPS.
    """

    def __init__(self, host: str = "127.0.0.1", *, tls: ssl.SSLContext | None = None) -> None:
        self.host = host
        self.requests: list[Recorded] = []
        self.closing = threading.Event()  # handlers that wait should wait on this, so close() is prompt
        self._routes: dict[str, _Static | Handler] = {}
        self._lock = threading.Lock()
        self._server = _Server((host, 0), _make_handler(self))
        if tls is not None:  # an HTTPS publisher; failed handshakes are dropped by socketserver
            self._server.socket = tls.wrap_socket(self._server.socket, server_side=True)
        self.port: int = self._server.server_address[1]
        self.base_url = f"{'https' if tls else 'http'}://{host}:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    def __enter__(self) -> Publisher:
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        self.closing.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def url(self, path: str) -> str:
        return self.base_url + path

    def add(
        self,
        path: str,
        body: bytes | str,
        *,
        content_type: str = "text/html; charset=utf-8",
        status: int = 200,
        headers: dict[str, str] | None = None,
        etag: str | None = None,
        last_modified: str | None = None,
        delay: float = 0.0,
        gzip: bool = False,
    ) -> None:
        """Serve `body` at `path`; with `etag`/`last_modified`, matching conditional requests get 304."""
        data = body.encode() if isinstance(body, str) else body
        route = _Static(data, content_type, status, dict(headers or {}), etag, last_modified, delay, gzip)
        with self._lock:
            self._routes[path] = route

    def redirect(self, path: str, to: str, status: int = 302) -> None:
        self.add(path, b"", status=status, headers={"Location": to})

    def add_handler(self, path: str, fn: Handler) -> None:
        """Let `fn` answer `path` entirely (it must send a status line, headers and body itself)."""
        with self._lock:
            self._routes[path] = fn

    def remove(self, path: str) -> None:
        with self._lock:
            del self._routes[path]

    def hits(self, path: str) -> int:
        with self._lock:
            return sum(1 for request in self.requests if request.path == path)

    def recorded(self, path: str) -> list[Recorded]:
        with self._lock:
            return [request for request in self.requests if request.path == path]

    def _route(self, target: str) -> _Static | Handler | None:
        with self._lock:
            return self._routes.get(target) or self._routes.get(urlsplit(target).path)

    def _record(self, request: BaseHTTPRequestHandler) -> Recorded:
        entry = Recorded(
            request.command,
            request.path,
            {k.lower(): v for k, v in request.headers.items()},
            time.monotonic(),
        )
        with self._lock:
            self.requests.append(entry)
        return entry


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 64

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients hanging up mid-response is what many tests provoke; anything else is a real bug, printed.
        import sys

        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def _send_static(request: BaseHTTPRequestHandler, route: _Static, publisher: Publisher) -> None:
    if route.delay:
        publisher.closing.wait(route.delay)
    if _not_modified(route, request):
        request.send_response(304)
        headers = {"ETag": route.etag, "Last-Modified": route.last_modified}
        body = b""
    else:
        request.send_response(route.status)
        body = gzip_module.compress(route.body) if route.gzip else route.body
        headers = {
            "Content-Type": route.content_type,
            "ETag": route.etag,
            "Last-Modified": route.last_modified,
        }
        if route.gzip:
            headers["Content-Encoding"] = "gzip"
    headers["Content-Length"] = str(len(body))
    for name, value in {**headers, **route.headers}.items():
        if value is not None:
            request.send_header(name, value)
    request.end_headers()
    if request.command != "HEAD":
        request.wfile.write(body)


def _make_handler(publisher: Publisher) -> type[BaseHTTPRequestHandler]:
    class _Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive and chunked bodies, as real servers do

        def do_GET(self) -> None:
            entry = publisher._record(self)
            try:
                route = publisher._route(self.path)
                if route is None:
                    self.send_error(404, "no route in the test publisher")
                elif isinstance(route, _Static):
                    _send_static(self, route, publisher)
                else:
                    route(self)
            finally:
                entry.finished = time.monotonic()

        do_HEAD = do_GET

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep pytest output for the tests' own messages

    return _Handler


# --- handler factories for misbehaving servers -------------------------------------------------------------


def _start_unsized(
    request: BaseHTTPRequestHandler, content_type: str, headers: dict[str, str] | None
) -> None:
    # No Content-Length and Connection: close: the body ends when the server hangs up (HTTP/1.0 style).
    request.send_response(200)
    request.send_header("Content-Type", content_type)
    request.send_header("Connection", "close")
    for name, value in (headers or {}).items():
        request.send_header(name, value)
    request.end_headers()
    request.close_connection = True


def trickle(publisher: Publisher, chunk: bytes = b"<p>", interval: float = 0.1) -> Handler:
    """A server that sends `chunk` every `interval` seconds, forever (until the client or the test leaves)."""

    def handler(request: BaseHTTPRequestHandler) -> None:
        _start_unsized(request, "text/html", None)
        while not publisher.closing.wait(interval):
            request.wfile.write(chunk)
            request.wfile.flush()

    return handler


def endless(
    publisher: Publisher,
    chunk: bytes = b"x" * 65536,
    *,
    content_type: str = "text/html",
    headers: dict[str, str] | None = None,
) -> Handler:
    """A server that streams `chunk` as fast as the client reads, with no length, forever."""

    def handler(request: BaseHTTPRequestHandler) -> None:
        _start_unsized(request, content_type, headers)
        while not publisher.closing.is_set():
            request.wfile.write(chunk)

    return handler


def stall(publisher: Publisher, *, after_headers: bool = False) -> Handler:
    """A server that accepts the request and then says nothing (or sends headers, then nothing)."""

    def handler(request: BaseHTTPRequestHandler) -> None:
        if after_headers:
            _start_unsized(request, "text/html", None)
            request.wfile.flush()
        publisher.closing.wait()

    return handler


def sequence(answers: Iterable[tuple[int, dict[str, str], bytes]]) -> Handler:
    """Answer successive requests with successive (status, headers, body); the last one repeats."""
    remaining: Iterator[tuple[int, dict[str, str], bytes]] = iter(list(answers))
    last: list[tuple[int, dict[str, str], bytes]] = []
    lock = threading.Lock()

    def handler(request: BaseHTTPRequestHandler) -> None:
        with lock:
            answer = next(remaining, None)
            if answer is not None:
                last[:] = [answer]
            status, headers, body = last[0]
        request.send_response(status)
        for name, value in {"Content-Type": "text/html", **headers}.items():
            request.send_header(name, value)
        request.send_header("Content-Length", str(len(body)))
        request.end_headers()
        request.wfile.write(body)

    return handler
