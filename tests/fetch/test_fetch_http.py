"""Fetching through the public interface from a real publisher: conditional GET, decoding, caps, timeouts."""

from __future__ import annotations

import gzip
from collections.abc import Callable

import brotli  # type: ignore[import-untyped]
import pytest
from fetch_helpers import fetch, with_fetcher

from broadsheet.config import Settings
from broadsheet.errors import ContentTypeError, ResponseTooLargeError, TimeoutError_
from broadsheet.fetch import Fetcher
from publisher import Publisher, endless, stall, trickle

RSS = '<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>'


def test_feed_is_fetched_with_its_metadata_and_polite_headers(
    publisher: Publisher, settings: Settings
) -> None:
    publisher.add(
        "/feed.xml", RSS, content_type="application/rss+xml; charset=UTF-8", headers={"X-Extra": "1"}
    )

    result = fetch(settings, publisher.url("/feed.xml"), kind="feed")

    assert result.status == 200
    assert result.content == RSS.encode()
    assert result.content_type == "application/rss+xml"
    assert result.charset == "utf-8"
    assert result.url == publisher.url("/feed.xml")
    assert result.headers["x-extra"] == "1"
    assert not result.not_modified
    sent = publisher.requests[0].headers
    assert sent["user-agent"] == settings.user_agent
    assert sent["accept"].startswith("application/rss+xml")
    assert set(sent["accept-encoding"].replace(" ", "").split(",")) == {"gzip", "deflate", "br"}


def test_page_fetch_asks_for_html(publisher: Publisher, settings: Settings) -> None:
    publisher.add("/a", "<html></html>")

    fetch(settings, publisher.url("/a"), kind="page")

    assert publisher.recorded("/a")[0].headers["accept"].startswith("text/html")


def test_unchanged_feed_is_not_refetched_with_etag(publisher: Publisher, settings: Settings) -> None:
    publisher.add("/feed.xml", RSS, content_type="application/rss+xml", etag='"v1"')
    first = fetch(settings, publisher.url("/feed.xml"), kind="feed")
    assert first.etag == '"v1"'

    second = fetch(settings, publisher.url("/feed.xml"), kind="feed", etag=first.etag)

    assert second.status == 304
    assert second.not_modified
    assert second.content == b""
    assert second.etag == '"v1"'
    assert publisher.hits("/feed.xml") == 2
    assert publisher.requests[-1].headers["if-none-match"] == '"v1"'


def test_unchanged_feed_is_not_refetched_with_last_modified(publisher: Publisher, settings: Settings) -> None:
    stamp = "Tue, 01 Oct 2024 10:00:00 GMT"
    publisher.add("/feed.xml", RSS, content_type="application/rss+xml", last_modified=stamp)
    first = fetch(settings, publisher.url("/feed.xml"), kind="feed")
    assert first.last_modified == stamp

    second = fetch(settings, publisher.url("/feed.xml"), kind="feed", last_modified=first.last_modified)

    assert second.not_modified
    assert publisher.requests[-1].headers["if-modified-since"] == stamp


def test_gzip_body_is_decoded(publisher: Publisher, settings: Settings) -> None:
    publisher.add("/feed.xml", RSS, content_type="application/rss+xml", gzip=True)

    assert fetch(settings, publisher.url("/feed.xml"), kind="feed").content == RSS.encode()


def test_brotli_body_is_decoded(publisher: Publisher, settings: Settings) -> None:
    publisher.add("/p", brotli.compress(b"<p>hello</p>" * 100), headers={"Content-Encoding": "br"})

    assert fetch(settings, publisher.url("/p")).content == b"<p>hello</p>" * 100


def test_body_over_declared_content_length_cap_is_refused_before_download(
    publisher: Publisher, settings: Settings
) -> None:
    publisher.add("/big", b"x" * 5000)

    with pytest.raises(ResponseTooLargeError, match="max_response_bytes"):
        fetch(settings.model_copy(update={"max_response_bytes": 4096}), publisher.url("/big"))


def test_streamed_body_without_length_is_aborted_at_the_cap(publisher: Publisher, settings: Settings) -> None:
    publisher.add_handler("/endless", endless(publisher))

    with pytest.raises(ResponseTooLargeError, match="raise the cap"):
        fetch(settings.model_copy(update={"max_response_bytes": 100_000}), publisher.url("/endless"))


@pytest.mark.parametrize(
    ("encoding", "compress"),
    [("gzip", gzip.compress), ("br", lambda data: brotli.compress(data, quality=5))],
)
def test_compression_bomb_is_aborted_on_decoded_size(
    publisher: Publisher, settings: Settings, encoding: str, compress: Callable[[bytes], bytes]
) -> None:
    bomb = compress(b"\0" * 30_000_000)
    assert len(bomb) < 100_000
    publisher.add("/bomb", bomb, headers={"Content-Encoding": encoding})

    with pytest.raises(ResponseTooLargeError):
        fetch(settings.model_copy(update={"max_response_bytes": 1_000_000}), publisher.url("/bomb"))


def test_trickling_server_is_cut_off_at_request_timeout(publisher: Publisher, settings: Settings) -> None:
    publisher.add_handler("/slow", trickle(publisher, interval=0.05))
    quick = settings.model_copy(update={"request_timeout": 0.6, "connect_timeout": 0.3, "retries": 0})

    # The trickle never ends: only the whole-request deadline stops it.
    with pytest.raises(TimeoutError_, match=r"took longer than 0\.6 s \(request_timeout\)"):
        fetch(quick, publisher.url("/slow"))


@pytest.mark.parametrize("after_headers", [False, True])
def test_stalled_server_times_out(publisher: Publisher, settings: Settings, after_headers: bool) -> None:
    publisher.add_handler("/stall", stall(publisher, after_headers=after_headers))
    quick = settings.model_copy(update={"connect_timeout": 0.3, "retries": 0})

    # Cut off by the stall timeout (0.3 s), long before the whole-request deadline (5 s) would have been.
    with pytest.raises(TimeoutError_, match="stalled past connect_timeout"):
        fetch(quick, publisher.url("/stall"))


def test_image_is_refused_as_a_page(publisher: Publisher, settings: Settings) -> None:
    publisher.add("/photo", b"\x89PNG....", content_type="image/png")

    with pytest.raises(ContentTypeError, match="image/png"):
        fetch(settings, publisher.url("/photo"), kind="page")


@pytest.mark.parametrize("content_type", ["application/pdf", "application/octet-stream", "video/mp4"])
def test_non_html_is_refused_as_a_page(publisher: Publisher, settings: Settings, content_type: str) -> None:
    publisher.add("/file", b"....", content_type=content_type)

    with pytest.raises(ContentTypeError):
        fetch(settings, publisher.url("/file"), kind="page")


@pytest.mark.parametrize(
    "content_type",
    [
        "application/rss+xml",
        "application/atom+xml",
        "application/feed+json",
        "text/xml",
        "text/html",
        "text/plain",
        "application/x-gzip",  # sitemap.xml.gz
    ],
)
def test_feed_kinds_accept_feed_and_discovery_types(
    publisher: Publisher, settings: Settings, content_type: str
) -> None:
    publisher.add("/f", RSS, content_type=content_type)

    assert fetch(settings, publisher.url("/f"), kind="feed").content_type == content_type


def test_image_is_refused_as_a_feed(publisher: Publisher, settings: Settings) -> None:
    publisher.add("/f", b"GIF89a", content_type="image/gif")

    with pytest.raises(ContentTypeError, match="feed"):
        fetch(settings, publisher.url("/f"), kind="feed")


def test_cookies_are_never_sent_back(publisher: Publisher, settings: Settings) -> None:
    publisher.add("/set", "x", headers={"Set-Cookie": "track=1; Path=/"})
    publisher.add("/next", "y")

    async def go(fetcher: Fetcher) -> None:
        await fetcher.fetch(publisher.url("/set"))
        await fetcher.fetch(publisher.url("/next"))

    with_fetcher(settings, go)

    assert "cookie" not in publisher.recorded("/next")[0].headers
