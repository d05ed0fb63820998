"""The whole-page cache: ETag revalidation, freshness, what is never cached, what a change drops and what
a page's key is made of; over HTTP against a real server."""

from __future__ import annotations

import asyncio
import html
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from starlette.types import ASGIApp, Receive, Scope, Send
from website import ADMIN_PASSWORD, records, running

from broadsheet.clock import utcnow
from broadsheet.config import Settings
from broadsheet.models import SourceKind
from broadsheet.pipeline.ingest import Ingester
from broadsheet.pipeline.jsonl import import_jsonl
from broadsheet.store import Store
from broadsheet.web import create_app
from broadsheet.web.cache import (
    MAX_HOSTS,
    PageCache,
    PageCacheMiddleware,
    changes,
    etag_matches,
    normal_query,
)

# Every test here once on SQLite and once on PostgreSQL (conftest.on_each_backend).
pytestmark = pytest.mark.usefixtures("on_each_backend")


def _import(home: Path, store: Store, settings: Settings, rows: list[dict[str, object]]) -> None:
    data = home / "more.jsonl"
    data.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    import_jsonl(data, Ingester(store, settings))


_OPENED: list[Store] = []


@pytest.fixture(autouse=True)
def _close_stores() -> Iterator[None]:
    """Each store a test opened (`_site`) is closed after it: a database server's connections are given back."""
    yield
    while _OPENED:
        _OPENED.pop().close()


def _site(tmp_path: Path, **overrides: object) -> tuple[Settings, Store]:
    settings = Settings(home=tmp_path, admin_password=ADMIN_PASSWORD, crawl_in_server=False, **overrides)  # type: ignore[arg-type]
    store = Store.open(settings.database)
    _OPENED.append(store)
    _import(tmp_path, store, settings, records()[:6])
    return settings, store


def test_pages_carry_an_etag_and_revalidate_with_304(tmp_path: Path) -> None:
    settings, store = _site(tmp_path)
    with running(create_app(settings, store=store)) as url, httpx.Client(base_url=url) as client:
        first = client.get("/articles/1")
        assert first.status_code == 200
        etag = first.headers["etag"]
        assert first.headers["cache-control"] == "no-cache"
        assert first.headers["content-security-policy"]  # cached pages keep the security headers
        again = client.get("/articles/1")
        assert again.headers["etag"] == etag and again.content == first.content

        unchanged = client.get("/articles/1", headers={"If-None-Match": f'W/"nope", {etag}'})
        assert unchanged.status_code == 304 and unchanged.content == b""
        assert unchanged.headers["etag"] == etag
        changed = client.get("/articles/1", headers={"If-None-Match": '"something-else"'})
        assert changed.status_code == 200 and changed.content == first.content

        # Not-found pages are never stored: an article that appears later is found at once.
        assert client.get("/articles/999").status_code == 404
        assert "etag" not in client.get("/articles/999").headers


def test_a_cached_page_is_served_until_its_time_is_up(tmp_path: Path) -> None:
    settings, store = _site(tmp_path, page_cache_seconds=3600)
    app = create_app(settings, store=store)
    with running(app) as url, httpx.Client(base_url=url) as client:
        before = client.get("/")
        newest = records()[6]
        _import(tmp_path, store, settings, [newest])
        title = html.escape(str(newest["title"]))
        assert title not in client.get("/").text  # still the stored page
        app.state.context.page_cache.clock = lambda: 10**9  # the hour has passed
        after = client.get("/")
        assert title in after.text
        assert after.headers["etag"] != before.headers["etag"]


def test_with_the_cache_off_every_request_renders_but_etags_still_work(tmp_path: Path) -> None:
    settings, store = _site(tmp_path, page_cache_seconds=0)
    with running(create_app(settings, store=store)) as url, httpx.Client(base_url=url) as client:
        etag = client.get("/").headers["etag"]
        newest = records()[6]
        _import(tmp_path, store, settings, [newest])
        page = client.get("/", headers={"If-None-Match": etag})
        assert page.status_code == 200 and page.headers["etag"] != etag


def test_admin_pages_are_never_cached_and_headers_do_not_bypass_public_ones(tmp_path: Path) -> None:
    settings, store = _site(tmp_path, page_cache_seconds=3600)
    app = create_app(settings, store=store)
    cache: PageCache = app.state.context.page_cache
    with running(app) as url, httpx.Client(base_url=url) as client:
        client.get("/")
        # Public pages are the same for everyone: a cookie or credentials cannot force a render.
        client.get("/", headers={"Cookie": "session=abc"})
        client.get("/", headers={"Authorization": "Basic eDp5"})
        assert len(cache) == 1 and cache.hits == 2
        admin = client.get("/admin/sources", auth=("admin", ADMIN_PASSWORD))
        assert admin.status_code == 200 and "etag" not in admin.headers
        assert admin.headers["cache-control"] == "no-store"
        assert len(cache) == 1


def test_requests_that_were_refused_leave_the_cache_as_it_was(tmp_path: Path) -> None:
    settings, store = _site(tmp_path, page_cache_seconds=3600)
    app = create_app(settings, store=store)
    cache: PageCache = app.state.context.page_cache
    pages = ["/", "/articles/1", "/outlets"]
    with running(app) as url, httpx.Client(base_url=url) as client:
        for path in pages:
            client.get(path)
        form = {"url": "https://feeds.example/", "csrf": "forged"}
        refused = [
            client.post("/"),
            client.delete("/articles/1"),
            client.put("/nowhere"),
            # The router's trailing-slash redirects answer any method with a 307: no write happened.
            client.post("/outlets/"),
            client.delete("/articles/1/"),
            client.put("/feed.atom/"),
            client.post("/admin/sources", data=form, auth=("admin", "a wrong guess")),
            client.post("/admin/sources", data=form, auth=("admin", ADMIN_PASSWORD), headers={"Origin": url}),
        ]
        assert [r.status_code for r in refused] == [405, 405, 404, 307, 307, 307, 401, 403]
        assert len(cache) == 3
        hits = cache.hits
        for path in pages:
            client.get(path)
        assert cache.hits == hits + 3


def _admin_form(client: httpx.Client) -> dict[str, str]:
    page = client.get("/admin/sources", auth=("admin", ADMIN_PASSWORD)).text
    return {"csrf": html.unescape(page.split('name="csrf" value="', 1)[1].split('"', 1)[0])}


def test_an_admin_change_drops_only_the_pages_it_can_change(tmp_path: Path) -> None:
    settings, store = _site(tmp_path, page_cache_seconds=3600)
    source = store.sources.add(
        "https://feeds.example/a.xml", SourceKind.FEED, now=utcnow(), interval_seconds=60
    )
    app = create_app(settings, store=store)
    cache: PageCache = app.state.context.page_cache
    pages = ["/", "/?outlet=quillon-daily", "/articles/1", "/api/v1/articles/1", "/outlets", "/feed.atom"]
    with running(app) as url, httpx.Client(base_url=url, auth=("admin", ADMIN_PASSWORD)) as client:
        form = _admin_form(client)
        for path in pages:
            httpx.get(url + path)
        assert len(cache) == len(pages)

        def rendered_again() -> set[str]:
            again = set()
            for path in pages:
                misses = cache.misses
                httpx.get(url + path)
                if cache.misses > misses:
                    again.add(path)
            return again

        # Making a source due changes no page now; what the crawler then stores comes as pages expire.
        refreshed = client.post(f"/admin/sources/{source.id}/refresh", data=form, headers={"Origin": url})
        assert refreshed.status_code == 303 and rendered_again() == set()
        # Removing one: the home page may now say there are none, and the API's articles lose its id.
        removed = client.post(f"/admin/sources/{source.id}/remove", data=form, headers={"Origin": url})
        assert removed.status_code == 303
        assert rendered_again() == {"/", "/?outlet=quillon-daily", "/api/v1/articles/1"}


def test_query_parameters_a_page_does_not_read_are_not_part_of_its_key(tmp_path: Path) -> None:
    settings, store = _site(tmp_path, page_cache_seconds=3600)
    app = create_app(settings, store=store)
    cache: PageCache = app.state.context.page_cache
    with running(app) as url, httpx.Client(base_url=url) as client:
        articles = {client.get("/articles/1", params={"r": i}).text for i in range(20)}
        assert len(articles) == 1 and len(cache) == 1 and cache.hits == 19

        quillon = client.get("/?outlet=quillon-daily&utm_source=x").text
        assert client.get("/?utm_source=y&outlet=quillon-daily&r=1").text == quillon
        assert len(cache) == 2
        assert client.get("/?outlet=the-alder-gazette").text != quillon and len(cache) == 3

        search = client.get("/search?q=harbour&page=1&r=1")
        assert client.get("/search?page=1&q=harbour").text == search.text and len(cache) == 4
        # One query spelled several ways is one page.
        spelled = {
            client.get(f"/?outlet={o}").text for o in ("quillon-daily", "quillon%2Ddaily", "%71uillon-daily")
        }
        assert spelled == {quillon} and len(cache) == 4
        feed = client.get("/feed.atom?utm_campaign=spam")
        assert feed.status_code == 200 and b"utm_campaign" not in feed.content  # rendered without it
        assert client.get("/feed.atom").content == feed.content and len(cache) == 5
        # Without base_url the host is part of the key, but a client inventing hosts cannot fill the cache.
        for n in range(20):
            client.get("/outlets", headers={"Host": f"invented-{n}.example"})
        assert len(cache) <= 5 + MAX_HOSTS


def test_a_query_keeps_the_parameters_named_in_name_order_spelled_one_way() -> None:
    assert normal_query(b"b=2&a=1&zz=9&a=0&b", {"a", "b"}) == b"a=1&a=0&b=2&b"
    assert normal_query(b"%71=ferry&utm_source=x", {"q"}) == b"q=ferry"
    assert (
        normal_query(b"q=ferry+pier&x=1", {"q"}) == normal_query(b"q=ferry%20pier", {"q"}) == b"q=ferry+pier"
    )
    assert normal_query(b"q=caf%C3%A9%26co", {"q"}) == b"q=caf%C3%A9%26co"
    assert normal_query(b"&&r=1", {"q"}) == b""


def test_the_store_is_bounded_in_bytes_and_evicts_the_least_recently_used() -> None:
    now = [0.0]
    cache = PageCache(max_bytes=10_000, ttl=60, clock=lambda: now[0])
    for i in range(30):
        cache.put(f"k{i}".encode(), [(b"content-type", b"text/html")], b"x" * 500, b'"e"')
        cache.get(b"k0")  # kept in use, so never the one evicted
    assert cache.size <= 10_000 and cache.get(b"k0") is not None and cache.get(b"k1") is None
    assert cache.get(b"k29") is not None
    cache.put(b"huge", [], b"x" * 5_000, b'"h"')  # more than an eighth of the whole cache: not stored
    assert cache.get(b"huge") is None
    now[0] = 61
    assert cache.get(b"k0") is None and len(cache) < 19


def test_if_none_match_follows_the_weak_comparison_rules() -> None:
    assert etag_matches(b'"a"', b'"a"')
    assert etag_matches(b'W/"a"', b'"a"')
    assert etag_matches(b'"b", "a"', b'"a"')
    assert etag_matches(b"*", b'"a"')
    assert not etag_matches(b'"ab"', b'"a"')


class CountingPage:
    """A small ASGI app standing in front of nothing: each render takes `delay` seconds of the event loop's
    time and says how many renders there have been."""

    def __init__(self, delay: float = 0.0, status: int = 200) -> None:
        self.renders = 0
        self.delay = delay
        self.status = status

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.renders += 1
        number = self.renders
        if scope["method"] == "POST":  # a write that may change any page, as it declares
            changes(scope, "*")
        await asyncio.sleep(self.delay)
        await send({"type": "http.response.start", "status": self.status,
                    "headers": [(b"content-type", b"text/html")]})  # fmt: skip
        await send({"type": "http.response.body", "body": f"render {number}".encode()})


def _client(app: ASGIApp) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://site.example")


def test_a_stale_page_is_served_at_once_while_one_fresh_render_runs_in_the_background() -> None:
    now = [1000.0]
    cache = PageCache(max_bytes=1_000_000, ttl=30, clock=lambda: now[0], stale=60)
    page = CountingPage(delay=0.05)
    app = PageCacheMiddleware(page, cache=cache)

    async def scenario() -> None:
        async with _client(app) as client:
            assert (await client.get("/")).text == "render 1"
            now[0] += 45  # past the TTL, inside the stale window
            answers = await asyncio.gather(*(client.get("/") for _ in range(20)))
            assert {a.text for a in answers} == {"render 1"}  # nobody waited for a render
            for _ in range(100):  # the one background render lands
                if (await client.get("/")).text == "render 2":
                    break
                await asyncio.sleep(0.01)
            assert page.renders == 2
            now[0] += 30 + 60 + 1  # past the stale window too: the reader waits for a fresh page
            assert (await client.get("/")).text == "render 3"

    asyncio.run(scenario())


def test_readers_asking_for_a_page_being_rendered_wait_for_that_one_render() -> None:
    cache = PageCache(max_bytes=1_000_000, ttl=30)
    page = CountingPage(delay=0.1)
    app = PageCacheMiddleware(page, cache=cache)

    async def scenario() -> None:
        async with _client(app) as client:
            answers = await asyncio.gather(*(client.get("/") for _ in range(25)))
            assert {a.text for a in answers} == {"render 1"} and page.renders == 1
            assert all(a.status_code == 200 and a.headers["etag"] for a in answers)

    asyncio.run(scenario())


def test_pages_that_cannot_be_cached_are_rendered_for_each_reader() -> None:
    page = CountingPage(delay=0.05, status=404)
    app = PageCacheMiddleware(page, cache=PageCache(max_bytes=1_000_000, ttl=30))

    async def scenario() -> None:
        async with _client(app) as client:
            answers = await asyncio.gather(*(client.get("/missing") for _ in range(5)))
            assert [a.status_code for a in answers] == [404] * 5 and page.renders == 5

    asyncio.run(scenario())


def test_a_render_begun_before_the_cache_was_emptied_is_not_stored() -> None:
    cache = PageCache(max_bytes=1_000_000, ttl=30)
    begun = cache.generation
    cache.clear()
    cache.put(b"k", [], b"old state", b'"o"', begun)
    assert cache.get(b"k") is None
    cache.put(b"k", [], b"new state", b'"n"', cache.generation)
    assert cache.get(b"k") is not None


def test_a_page_that_is_gone_when_rendered_again_stops_being_served_stale() -> None:
    now = [1000.0]
    cache = PageCache(max_bytes=1_000_000, ttl=30, clock=lambda: now[0], stale=60)
    page = CountingPage()
    app = PageCacheMiddleware(page, cache=cache)

    async def scenario() -> None:
        async with _client(app) as client:
            assert (await client.get("/articles/7")).status_code == 200
            page.status = 404  # the article was removed
            now[0] += 45
            assert (await client.get("/articles/7")).status_code == 200  # stale, while it is checked
            for _ in range(100):
                if len(cache) == 0:
                    break
                await asyncio.sleep(0.01)
            assert len(cache) == 0
            assert (await client.get("/articles/7")).status_code == 404

    asyncio.run(scenario())


def test_a_reader_arriving_after_a_change_does_not_get_a_render_begun_before_it() -> None:
    cache = PageCache(max_bytes=1_000_000, ttl=30)
    page = CountingPage(delay=0.2)
    app = PageCacheMiddleware(page, cache=cache)

    async def scenario() -> None:
        async with _client(app) as client:
            before = asyncio.ensure_future(client.get("/"))
            await asyncio.sleep(0.05)  # its render is under way
            await client.post("/admin/sources", content=b"x")  # a change: the cache is emptied
            after = await client.get("/")
            assert (await before).text == "render 1"
            assert after.text == "render 3"  # its own render (render 2 answered the POST)

    asyncio.run(scenario())
