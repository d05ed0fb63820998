"""The image proxy: signed addresses only, raster images only, the fetcher's SSRF guard and caps apply."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import httpx
from website import running

from broadsheet.config import Settings
from broadsheet.web import create_app
from broadsheet.web.security import proxied_image
from publisher import Publisher

PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000") + b"\x00" * 40


@contextlib.contextmanager
def client(tmp_path: Path, **overrides: bool) -> Iterator[tuple[httpx.Client, bytes]]:
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
    store = Store.open(settings.database)
    record = {"url": "https://quill.example/a", "title": "Ferry timetable changes", "outlet": "Quill",
              "published": "2026-11-20T10:00:00+00:00", "text": "The ferry runs later. " * 20,
              "html": f'<p>The ferry runs later.</p><figure><img alt="Ferry -> quay" src="{image}"></figure>'}  # fmt: skip
    (tmp_path / "a.jsonl").write_text(json.dumps(record) + "\n")
    import_jsonl(tmp_path / "a.jsonl", Ingester(store, settings))
    app = create_app(settings, store=store)
    with running(app) as url, httpx.Client(base_url=url, timeout=10) as web:
        page = web.get("/articles/1").text
        secret = app.state.context.secret
        assert publisher.url("/inline.png") not in page  # the publisher never sees the reader
        src = proxied_image(secret, image).replace("&", "&amp;")
        assert f'src="{src}"' in page
        assert web.get(proxied_image(secret, image)).content == PNG
