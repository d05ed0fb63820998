"""The gate, over real sockets: admin routes authenticate before any body is read, bodies are capped by route
(413 early), wrong passwords are slowed and locked out per address, the site answers only as its base_url,
and form tokens are bound to who is signed in."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from lxml import html as lxml_html
from website import exchange, running

from broadsheet.config import Settings
from broadsheet.pipeline.assemble import build_ingester
from broadsheet.pipeline.jsonl import import_jsonl
from broadsheet.store import Store
from broadsheet.web import create_app
from broadsheet.web.security import CSRF_LIFETIME, csrf_token, valid_csrf

PASSWORD = "gate-keeper-password"
SITE = "http://news.example.test"


def basic(password: str, user: str = "admin") -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


AUTH = basic(PASSWORD)


@dataclass
class Served:
    url: str
    port: int
    settings: Settings


def _serve(tmp_path: Path, **overrides: object) -> Iterator[Served]:
    settings = Settings(  # type: ignore[call-arg]
        home=tmp_path,
        admin_password=PASSWORD,
        crawl_in_server=False,
        stories=False,
        max_form_bytes=4096,
        max_opml_bytes=20_000,
        admin_max_failures=3,
        admin_lockout_seconds=60,
        **overrides,
    )
    store = Store.open(settings.database)
    data = tmp_path / "one.jsonl"
    record = {"url": "https://alder.example/news/one", "title": "Harbour reopens", "outlet": "Alder Gazette",
              "text": "The harbour reopened on Monday. " * 20, "published": "2026-11-02T06:00:00Z"}  # fmt: skip
    data.write_text(json.dumps(record) + "\n")
    import_jsonl(data, build_ingester(settings, store))
    with running(create_app(settings, store=store, scheduler=False)) as url:
        yield Served(url, int(url.rsplit(":", 1)[1]), settings)
    store.close()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    yield from _serve(tmp_path)


def _raw(port: int, head: str, body: bytes = b"") -> tuple[int, str]:
    """Send a request's head (and some body), read the answer's status line and headers."""
    return (answer := exchange(port, head.encode() + body)).status, answer.head


def test_an_upload_without_credentials_is_refused_before_its_body_is_sent(served: Served) -> None:
    head = (
        "POST /admin/sources/import HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "Content-Type: multipart/form-data; boundary=x\r\nContent-Length: 1000000000\r\n\r\n"
    )
    # Only a few bytes of the announced gigabyte are ever sent: the answer cannot have waited for the rest.
    status, headers = _raw(served.port, head, b"--x\r\n")
    assert status == 401 and "www-authenticate: basic" in headers.lower()
    remove = "POST /admin/sources/1/remove HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000000000\r\n\r\n"
    assert _raw(served.port, remove)[0] == 401


def test_bodies_over_their_routes_cap_are_refused_with_413(served: Served) -> None:
    announced = (
        "POST /admin/sources/import HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Authorization: {AUTH['Authorization']}\r\nContent-Length: 50000000\r\n\r\n"
    )
    status, headers = _raw(served.port, announced)
    assert status == 413 and "connection: close" in headers.lower()

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it streams
        for _ in range(40):
            yield b"x" * 1024

    with httpx.Client(base_url=served.url, timeout=10) as client:
        streamed = client.post(
            "/admin/sources",
            content=chunks(),
            headers={**AUTH, "Content-Type": "application/x-www-form-urlencoded"},
        )
        assert streamed.status_code == 413 and "at most 4,096 bytes" in streamed.text
        form = client.post("/admin/sources", data={"url": "x" * 8000, "csrf": "t"}, headers=AUTH)
        assert form.status_code == 413
        api = client.post("/api/v1/sources", content=b"y" * 10_000, headers=AUTH)
        assert api.status_code == 413 and api.json()["error"]["code"] == "too_large"
        # A body within its cap goes through to the page's own checks (here: the form token).
        small = client.post("/admin/sources", data={"url": "https://x.example/", "csrf": "t"}, headers=AUTH)
        assert small.status_code == 403


def test_wrong_passwords_are_slowed_then_locked_out_per_address(served: Served) -> None:
    wrong = basic("not-the-password")
    with httpx.Client(base_url=served.url, timeout=10) as client:
        started = time.monotonic()
        assert [client.get("/admin/sources", headers=wrong).status_code for _ in range(3)] == [401] * 3
        assert time.monotonic() - started >= 3 * 0.4  # each wrong guess waits before its answer
        locked = client.get("/admin/sources", headers=AUTH)  # even the right password, from this address
        assert locked.status_code == 429 and int(locked.headers["retry-after"]) > 0
        assert "Too many wrong passwords" in locked.text
        assert client.get("/api/v1/sources", headers=AUTH).status_code == 429
        assert client.get("/").status_code == 200  # readers are not locked out
    other = httpx.HTTPTransport(local_address="127.0.0.2")
    with httpx.Client(base_url=served.url, timeout=10, transport=other) as client:
        assert client.get("/admin/sources", headers=AUTH).status_code == 200


def test_asking_without_credentials_is_not_counted_as_a_guess(served: Served) -> None:
    with httpx.Client(base_url=served.url, timeout=10) as client:
        for _ in range(5):
            assert client.get("/admin/sources").status_code == 401
        assert client.get("/admin/sources", headers=AUTH).status_code == 200


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Served]:
    yield from _serve(tmp_path, base_url=SITE)


def test_with_base_url_other_hosts_are_refused_and_links_use_it(site: Served) -> None:
    with httpx.Client(base_url=site.url, timeout=10) as client:
        evil = client.get("/", headers={"Host": "evil.example"})
        assert evil.status_code == 400 and "answers only as http://news.example.test" in evil.text
        assert client.get("/healthz").status_code == 200  # a probe on the machine asks by its own address
        page = client.get("/articles/1", headers={"Host": "news.example.test"})
        assert page.status_code == 200
        tree = lxml_html.fromstring(page.text)
        assert tree.cssselect('link[rel="canonical"]')[0].get("href") == f"{SITE}/articles/1"
        assert tree.cssselect('meta[property="og:url"]')[0].get("content") == f"{SITE}/articles/1"
        feed = client.get("/feed.atom", headers={"Host": "news.example.test:80"})
        assert feed.status_code == 200 and f"{SITE}/articles/1".encode() in feed.content


def test_forms_need_a_token_made_for_the_same_admin_and_an_origin_of_the_same_scheme(site: Served) -> None:
    host = {"Host": "news.example.test"}
    with httpx.Client(base_url=site.url, timeout=10) as client:
        page = client.get("/admin/sources", headers={**AUTH, **host})
        token = lxml_html.fromstring(page.text).cssselect('input[name="csrf"]')[0].get("value")
        form = {"csrf": token, "url": "ftp://nowhere.example/"}
        ours = {**AUTH, **host, "Origin": SITE}
        assert client.post("/admin/sources", data=form, headers=ours).status_code == 400  # past the token
        as_other = {**basic(PASSWORD, user="someone-else"), **host, "Origin": SITE}
        assert client.post("/admin/sources", data=form, headers=as_other).status_code == 403
        other_scheme = {**AUTH, **host, "Origin": "https://news.example.test"}
        assert client.post("/admin/sources", data=form, headers=other_scheme).status_code == 403


def test_form_tokens_expire_and_belong_to_one_identity() -> None:
    secret = b"k" * 32
    token = csrf_token(secret, "admin-a", now=1_000_000)
    assert valid_csrf(secret, token, "admin-a", now=1_000_000 + CSRF_LIFETIME)
    assert not valid_csrf(secret, token, "admin-a", now=1_000_000 + CSRF_LIFETIME + 1)
    assert not valid_csrf(secret, token, "admin-b", now=1_000_001)
    assert not valid_csrf(secret, "9" * 40 + ".x", "admin-a", now=1_000_001)
