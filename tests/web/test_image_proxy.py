"""The image proxy: signed addresses only, raster images only, the fetcher's SSRF guard and caps apply, its
limits hold across readers, and a reader who leaves, or a publisher who stalls, frees what they held."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from website import running

from broadsheet.config import Settings
from broadsheet.web import create_app
from broadsheet.web.security import proxied_image
from publisher import Publisher, stall

# Every test here once on SQLite and once on PostgreSQL (conftest.on_each_backend).
pytestmark = pytest.mark.usefixtures("on_each_backend")

PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000") + b"\x00" * 40


@contextlib.contextmanager
def client(tmp_path: Path, **overrides: Any) -> Iterator[tuple[httpx.Client, bytes]]:
    settings = Settings(
        home=tmp_path, proxy_images=True, crawl_in_server=False, per_host_delay=0, **overrides
    )
    app = create_app(settings)
    with running(app) as url, httpx.Client(base_url=url, timeout=10) as web:
        yield web, app.state.context.secret


def test_signed_image_is_passed_through_with_safe_headers(tmp_path: Path, publisher: Publisher) -> None:
    publisher.add("/pic.png", PNG, content_type="image/png")
    with client(tmp_path, allow_private_networks=True) as (web, secret):
        url = proxied_image(secret, publisher.url("/pic.png"))
        response = web.get(url)
        assert response.status_code == 200 and response.content == PNG
        assert response.headers["content-type"] == "image/png"
        assert response.headers["content-security-policy"].startswith("default-src 'none'")
        assert "img-src 'self' data:" in web.get("/").headers["content-security-policy"]


def test_unsigned_svg_and_non_images_are_refused(tmp_path: Path, publisher: Publisher) -> None:
    publisher.add("/evil.svg", "<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>",
                  content_type="image/svg+xml")  # fmt: skip
    publisher.add("/page.html", "<p>hi</p>")
    with client(tmp_path, allow_private_networks=True) as (web, secret):
        forged = proxied_image(b"another key", publisher.url("/pic.png"))
        assert web.get(forged).status_code == 403
        assert web.get("/img/%C3%A9", params={"u": "https://x.example/a.png"}).status_code == 403  # not ASCII
        svg = web.get(proxied_image(secret, publisher.url("/evil.svg")))
        assert svg.status_code == 502 and "not a JPEG" in svg.text
        assert web.get(proxied_image(secret, publisher.url("/page.html"))).status_code == 502


def test_private_addresses_stay_refused_through_the_proxy(tmp_path: Path, publisher: Publisher) -> None:
    publisher.add("/pic.png", PNG, content_type="image/png")
    with client(tmp_path) as (web, secret):
        response = web.get(proxied_image(secret, publisher.url("/pic.png")))
        assert response.status_code == 502 and "BROADSHEET_ALLOW_PRIVATE_NETWORKS" in response.text
        assert publisher.hits("/pic.png") == 0


def test_images_inside_article_text_go_through_the_proxy_too(tmp_path: Path, publisher: Publisher) -> None:
    import json

    from broadsheet.pipeline.ingest import Ingester
    from broadsheet.pipeline.jsonl import import_jsonl
    from broadsheet.store import Store

    publisher.add("/inline.png", PNG, content_type="image/png")
    image = publisher.url("/inline.png") + "?w=640&h=480"
    settings = Settings(home=tmp_path, proxy_images=True, crawl_in_server=False, allow_private_networks=True)
    record = {"url": "https://quill.example/a", "title": "Ferry timetable changes", "outlet": "Quill",
              "published": "2026-11-20T10:00:00+00:00", "text": "The ferry runs later. " * 20,
              "html": f'<p>The ferry runs later.</p><figure><img alt="Ferry -> quay" src="{image}"></figure>'}  # fmt: skip
    (tmp_path / "a.jsonl").write_text(json.dumps(record) + "\n")
    store = Store.open(settings.database)
    try:  # closed at the end: a database server's connections are given back
        import_jsonl(tmp_path / "a.jsonl", Ingester(store, settings))
        app = create_app(settings, store=store)
        with running(app) as url, httpx.Client(base_url=url, timeout=10) as web:
            page = web.get("/articles/1").text
            secret = app.state.context.secret
            assert publisher.url("/inline.png") not in page  # the publisher never sees the reader
            src = proxied_image(secret, image).replace("&", "&amp;")
            assert f'src="{src}"' in page
            assert web.get(proxied_image(secret, image)).content == PNG
    finally:
        store.close()


# --- limits, leaving readers and stalled publishers --------------------------------------------------------


class SlowImages:
    """Publisher handlers that answer a PNG after `delay` seconds, counting the requests being answered at once,
    per publisher and overall. The count drops before the answer is sent, so a request the proxy can start only
    once another has been answered is never counted beside it."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.lock = threading.Lock()
        self.active: dict[int, int] = {}
        self.peak: dict[int, int] = {}
        self.overall = 0
        self.peak_overall = 0

    def handler(self, publisher: Publisher) -> Callable[[BaseHTTPRequestHandler], None]:
        def answer(request: BaseHTTPRequestHandler) -> None:
            port = publisher.port
            with self.lock:
                self.active[port] = self.active.get(port, 0) + 1
                self.peak[port] = max(self.peak.get(port, 0), self.active[port])
                self.overall += 1
                self.peak_overall = max(self.peak_overall, self.overall)
            try:
                publisher.closing.wait(self.delay)
            finally:
                with self.lock:
                    self.active[port] -= 1
                    self.overall -= 1
            request.send_response(200)
            request.send_header("Content-Type", "image/png")
            request.send_header("Content-Length", str(len(PNG)))
            request.end_headers()
            request.wfile.write(PNG)

        return answer


def trickled_image(publisher: Publisher, ended: list[float]) -> Callable[[BaseHTTPRequestHandler], None]:
    """An image that never finishes: a byte every 0.1 s until the reader hangs up (its time goes in `ended`)."""

    def handler(request: BaseHTTPRequestHandler) -> None:
        request.send_response(200)
        request.send_header("Content-Type", "image/png")
        request.send_header("Connection", "close")
        request.end_headers()
        request.close_connection = True
        try:
            while not publisher.closing.wait(0.1):
                request.wfile.write(b"\x00")
                request.wfile.flush()
        except OSError:
            ended.append(time.monotonic())

    return handler


def fetch_all(base: str, paths: list[str]) -> list[httpx.Response]:
    """GET every path at once, each on its own connection."""

    async def go() -> list[httpx.Response]:
        limits = httpx.Limits(max_connections=len(paths))
        async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as web:
            return list(await asyncio.gather(*(web.get(path) for path in paths)))

    return asyncio.run(go())


def eventually(condition: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def ask_and_hang_up_later(base: str, path: str) -> socket.socket:
    """A reader's connection with the request sent; closing the socket is the reader leaving."""
    address = urlsplit(base)
    sock = socket.create_connection((address.hostname or "127.0.0.1", address.port or 80), timeout=10)
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: {address.netloc}\r\n\r\n".encode())
    return sock


def test_readers_together_never_exceed_the_fetchers_limits_per_host_and_overall(
    tmp_path: Path, publisher: Publisher, publisher2: Publisher
) -> None:
    slow = SlowImages(delay=0.5)
    for pub in (publisher, publisher2):
        pub.add_handler("/slow.png", slow.handler(pub))
    settings: dict[str, Any] = {
        "allow_private_networks": True,
        "per_host_connections": 2,
        "max_concurrency": 3,
    }
    app = create_app(Settings(home=tmp_path, proxy_images=True, crawl_in_server=False, **settings))
    secret = app.state.context.secret
    # Different images (a query each), so that no two requests can share one fetch.
    paths = [
        proxied_image(secret, pub.url(f"/slow.png?n={n}"))
        for n in range(6)
        for pub in (publisher, publisher2)
    ]
    with running(app) as url:
        answers = fetch_all(url, paths)
    assert [a.status_code for a in answers] == [200] * 12 and all(a.content == PNG for a in answers)
    assert publisher.hits("/slow.png") + publisher2.hits("/slow.png") == 0  # each carried its own query
    assert len(publisher.requests) == len(publisher2.requests) == 6
    assert max(slow.peak.values()) <= 2
    assert slow.peak_overall <= 3


def test_readers_asking_for_the_same_image_at_once_share_one_fetch(
    tmp_path: Path, publisher: Publisher
) -> None:
    slow = SlowImages(delay=2.0)
    publisher.add_handler("/popular.png", slow.handler(publisher))
    app = create_app(
        Settings(home=tmp_path, proxy_images=True, crawl_in_server=False, allow_private_networks=True)
    )
    path = proxied_image(app.state.context.secret, publisher.url("/popular.png"))
    with running(app) as url:
        answers = fetch_all(url, [path] * 20)
    assert [a.status_code for a in answers] == [200] * 20 and all(a.content == PNG for a in answers)
    assert publisher.hits("/popular.png") == 1


def test_the_fetch_stops_once_every_reader_waiting_for_the_image_has_left(
    tmp_path: Path, publisher: Publisher
) -> None:
    ended: list[float] = []
    publisher.add_handler("/endless.png", trickled_image(publisher, ended))
    # A deadline far beyond this test's waits: only the readers leaving can end the fetch.
    settings = Settings(home=tmp_path, proxy_images=True, crawl_in_server=False, allow_private_networks=True,
                        image_timeout=120, request_timeout=120)  # fmt: skip
    app = create_app(settings)
    path = proxied_image(app.state.context.secret, publisher.url("/endless.png"))
    with running(app) as url:
        first = ask_and_hang_up_later(url, path)
        second = ask_and_hang_up_later(url, path)
        assert eventually(lambda: publisher.hits("/endless.png") == 1, 10)
        time.sleep(0.5)  # both readers are waiting for the one fetch
        first.close()
        time.sleep(1.0)
        assert ended == []  # the second reader still wants the image
        second.close()
        left = time.monotonic()
        assert eventually(lambda: bool(ended), 10), (
            "the publisher was still sending after every reader had left"
        )
        assert ended[0] - left < 10
        assert publisher.hits("/endless.png") == 1


def test_a_stalled_image_gets_one_try_and_gives_up_within_image_timeout(
    tmp_path: Path, publisher: Publisher
) -> None:
    publisher.add_handler("/stalled.png", stall(publisher))
    # The crawler's own settings would try three times, waiting up to 10 s for each answer.
    with client(tmp_path, allow_private_networks=True, image_timeout=2, retries=2) as (web, secret):
        started = time.monotonic()
        response = web.get(proxied_image(secret, publisher.url("/stalled.png")), timeout=30)
        took = time.monotonic() - started
        assert response.status_code == 504
        assert "did not arrive within 2 s" in response.text
        assert 1.9 < took < 8
        time.sleep(1.0)
        assert publisher.hits("/stalled.png") == 1


def test_a_refused_image_does_not_say_what_its_host_resolved_to(tmp_path: Path, publisher: Publisher) -> None:
    publisher.add("/pic.png", PNG, content_type="image/png")
    with client(tmp_path) as (web, secret):
        response = web.get(proxied_image(secret, f"http://localhost:{publisher.port}/pic.png"))
    assert response.status_code == 502
    message = response.text.split('<section class="error">')[1].split("</section>")[0]
    assert "could not be fetched" in message and "not on the public internet" in message
    assert "127.0.0.1" not in message and "::1" not in message and "resolves" not in message
    assert publisher.requests == []
