"""The sources admin page over real HTTP: OPML imports as background jobs kept in the database (capped, shown
with their progress by any server process, failures in words), the sources a page at a time (and the API's
sources in pages), no-store on everything of the operator's, and confirmations no link can forge."""

from __future__ import annotations

import base64
import contextlib
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from lxml import html as lxml_html
from sqlalchemy.engine import make_url
from website import running

from broadsheet.clock import utcnow
from broadsheet.config import Settings
from broadsheet.models import SourceKind
from broadsheet.sources.starter import starter_packs
from broadsheet.store import Store
from broadsheet.web import create_app

# Every test here once on SQLite and once on PostgreSQL (conftest.on_each_backend).
pytestmark = pytest.mark.usefixtures("on_each_backend")

PASSWORD = "sources-admin-password"
AUTH = {"Authorization": "Basic " + base64.b64encode(f"admin:{PASSWORD}".encode()).decode()}
DEADLINE = 60.0  # seconds any wait here may take at most, on a slow and busy machine


def opml(count: int, start: int = 0) -> bytes:
    outlines = "".join(
        f'<outline type="rss" text="Feed {i}" xmlUrl="https://feed{i}.example/rss"/>'
        for i in range(start, start + count)
    )
    return f'<?xml version="1.0"?><opml version="2.0"><head/><body>{outlines}</body></opml>'.encode()


def settings_for(home: Path, **overrides: object) -> Settings:
    return Settings(home=home, admin_password=PASSWORD, crawl_in_server=False, **overrides)  # type: ignore[arg-type]


@pytest.fixture
def admin(tmp_path: Path) -> Iterator[Callable[..., tuple[str, Store, httpx.Client]]]:
    """Start a server over the home in tmp_path (each call another server process's worth: its own app and
    store, one database); gives (url, store, client)."""
    with contextlib.ExitStack() as stack:

        def start(**overrides: object) -> tuple[str, Store, httpx.Client]:
            settings = settings_for(tmp_path, **overrides)
            store = Store.open(settings.database)
            stack.callback(store.close)
            url = stack.enter_context(running(create_app(settings, store=store)))
            client = stack.enter_context(httpx.Client(base_url=url, timeout=DEADLINE))
            return url, store, client

        yield start


def token(client: httpx.Client) -> str:
    page = lxml_html.fromstring(client.get("/admin/sources", headers=AUTH).text)
    return str(page.cssselect('input[name="csrf"]')[0].get("value"))


def upload(client: httpx.Client, url: str, name: str, data: bytes) -> httpx.Response:
    return client.post("/admin/sources/import", data={"csrf": token(client)}, files={"opml": (name, data)},
                       headers={**AUTH, "Origin": url})  # fmt: skip


def wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + DEADLINE
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.05)


def page_text(client: httpx.Client, path: str = "/admin/sources") -> str:
    return str(lxml_html.fromstring(client.get(path, headers=AUTH).text).text_content())


def test_an_opml_import_runs_in_the_background_while_the_site_answers(
    admin: Callable[..., tuple[str, Store, httpx.Client]], tmp_path: Path, on_each_backend: str
) -> None:
    url, store, client = admin(max_opml_outlines=15_000)
    answer: list[httpx.Response] = []
    poster = threading.Thread(target=lambda: answer.append(upload(client, url, "big.opml", opml(20_000))))
    poster.start()
    wait_for(lambda: bool(store.jobs.recent(utcnow())), "the import's job")
    # Hold a write lock (SQLite's on the database, PostgreSQL's on the sources table, which readers still
    # read): the job cannot finish while the test looks at the site.
    lock: Any
    if on_each_backend.startswith("sqlite"):
        lock = sqlite3.connect(tmp_path / "broadsheet.db", timeout=DEADLINE, isolation_level=None)
        lock.execute("BEGIN IMMEDIATE")
    else:
        lock = psycopg.connect(make_url(on_each_backend).set(drivername="postgresql").render_as_string(False))
        lock.execute("LOCK TABLE sources IN SHARE ROW EXCLUSIVE MODE")
    try:
        with httpx.Client(base_url=url, timeout=DEADLINE) as other:
            assert other.get("/healthz").status_code == 200
            during = other.get("/admin/sources", headers=AUTH)
        assert 'http-equiv="refresh"' in during.text  # the page follows the job by itself
        text = str(lxml_html.fromstring(during.text).text_content())
        assert "big.opml" in text and "Imported" not in text
        assert ("Importing big.opml" in text and "of 15,000 feeds" in text) or "about to start" in text
    finally:
        lock.rollback()
        lock.close()
    poster.join(DEADLINE)
    assert answer[0].status_code == 303
    wait_for(lambda: "Imported 15,000 feeds from big.opml" in page_text(client), "the import to finish")
    text = page_text(client)
    assert "(0 were already here)" in text
    assert (
        "5,000 feeds were left out: the file lists 20,000 feeds and one import takes at most 15,000 "
        "(max_opml_outlines); import the last 5,000 from a second file, or raise max_opml_outlines" in text
    )
    assert store.sources.count() == 15_000
    assert store.sources.listing(offset=14_999, limit=1)[0].url == "https://feed9999.example/rss"

    # The sources page comes a page at a time.
    first = lxml_html.fromstring(client.get("/admin/sources", headers=AUTH).text)
    assert len(first.cssselect("table.sources tbody tr")) == 100
    assert "15,000 sources" in first.text_content() and "Page 1 of 150" in first.text_content()
    assert first.cssselect("a[rel=next]")[0].get("href") == "/admin/sources?page=2"
    last = lxml_html.fromstring(client.get("/admin/sources?page=150", headers=AUTH).text)
    assert len(last.cssselect("table.sources tbody tr")) == 100 and not last.cssselect("a[rel=next]")
    assert 'http-equiv="refresh"' not in client.get("/admin/sources", headers=AUTH).text

    # Importing the same list again adds nothing.
    again = upload(client, url, "big.opml", opml(20_000))
    assert again.status_code == 303
    wait_for(
        lambda: "Imported 0 feeds from big.opml (15,000 were already here)" in page_text(client), "the rerun"
    )
    assert store.sources.count() == 15_000


def test_another_server_process_shows_the_import_a_first_one_ran(
    admin: Callable[..., tuple[str, Store, httpx.Client]],
) -> None:
    url, store, client = admin()
    store.sources.add("https://feed1.example/rss", SourceKind.FEED, now=utcnow(), interval_seconds=1800)
    _other_url, _other_store, other = admin()
    assert upload(client, url, "three.opml", opml(3)).status_code == 303
    wait_for(lambda: "Imported 2 feeds from three.opml (1 were already here)" in page_text(other), "the job")


def test_the_home_page_stops_saying_there_are_no_sources_once_an_import_ends(
    admin: Callable[..., tuple[str, Store, httpx.Client]],
) -> None:
    url, _store, client = admin(page_cache_seconds=3600)
    assert "No sources yet" in client.get("/").text  # and now cached for an hour
    assert upload(client, url, "two.opml", opml(2)).status_code == 303
    wait_for(lambda: "Imported 2 feeds from two.opml" in page_text(client), "the import")
    assert "No sources yet" not in client.get("/").text


def test_a_failed_import_says_why_on_the_page(admin: Callable[..., tuple[str, Store, httpx.Client]]) -> None:
    url, _store, client = admin()
    answer = upload(client, url, "feed.opml", b"<rss version='2.0'><channel/></rss>")
    assert answer.status_code == 303
    wait_for(lambda: "Import of feed.opml failed" in page_text(client), "the failure")
    assert "the file is XML but not OPML (its root element is <rss>)" in page_text(client)


def test_an_opml_file_over_max_opml_bytes_is_refused_with_the_limit(
    admin: Callable[..., tuple[str, Store, httpx.Client]],
) -> None:
    url, store, client = admin(max_opml_bytes=10_000)
    data = opml(300)  # ~20 KB: past the setting, within what the gate lets through for multipart framing
    assert 10_000 < len(data) < 40_000
    refused = upload(client, url, "big.opml", data)
    assert refused.status_code == 413 and "over 10,000 bytes (max_opml_bytes)" in refused.text
    assert store.sources.count() == 0 and not store.jobs.recent(utcnow())


def test_the_api_lists_sources_in_pages_with_a_cursor(
    admin: Callable[..., tuple[str, Store, httpx.Client]],
) -> None:
    _url, store, client = admin()
    for i in range(7):
        store.sources.add(
            f"https://feed{i}.example/rss", SourceKind.FEED, now=utcnow(), interval_seconds=1800
        )
    seen: list[str] = []
    cursor: str | None = None
    for _ in range(5):
        params: dict[str, str | int] = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = client.get("/api/v1/sources", params=params, headers=AUTH).json()
        seen += [s["url"] for s in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [f"https://feed{i}.example/rss" for i in range(7)]
    assert len(client.get("/api/v1/sources", headers=AUTH).json()["items"]) == 7
    bad = client.get("/api/v1/sources", params={"cursor": "99999999999999999999"}, headers=AUTH)
    assert bad.status_code == 400 and "cursor" in bad.json()["error"]["message"]
    assert client.get("/api/v1/sources", params={"limit": 501}, headers=AUTH).status_code == 422
    schema = client.get("/api/v1/openapi.json").json()
    assert "next_cursor" in schema["components"]["schemas"]["SourceList"]["properties"]


def test_everything_of_the_operators_says_no_store(
    admin: Callable[..., tuple[str, Store, httpx.Client]],
) -> None:
    url, store, client = admin()
    source = store.sources.add(
        "https://feed1.example/rss", SourceKind.FEED, now=utcnow(), interval_seconds=60
    )
    form = {"csrf": token(client)}
    answers = [
        client.get("/admin/sources", headers=AUTH),
        client.get("/admin/sources"),  # 401
        client.get("/admin/sources.opml", headers=AUTH),
        client.get("/api/v1/sources", headers=AUTH),
        client.get("/api/v1/sources"),  # 401
        client.get("/admin/sources", params={"page": "zero"}, headers=AUTH),  # 400
        client.post(f"/admin/sources/{source.id}/refresh", data=form, headers={**AUTH, "Origin": url}),  # 303
        client.post(
            f"/admin/sources/{source.id}/refresh", data={"csrf": "x"}, headers={**AUTH, "Origin": url}
        ),
    ]
    assert [a.headers.get("cache-control") for a in answers] == ["no-store"] * len(answers)
    assert [a.status_code for a in answers] == [200, 401, 200, 200, 401, 400, 303, 403]
    assert client.get("/outlets").headers["cache-control"] == "no-cache"  # public pages: kept, revalidated


def test_the_confirmation_after_a_change_cannot_be_written_by_a_link(
    admin: Callable[..., tuple[str, Store, httpx.Client]],
) -> None:
    url, store, client = admin()
    source = store.sources.add("https://feed1.example/rss", SourceKind.FEED, now=utcnow(), interval_seconds=60,
                               title="Orrin Vale Post")  # fmt: skip
    lure = "Your password has expired: sign in again at evil.example"
    assert lure not in page_text(client, f"/admin/sources?message={lure}")
    assert lure not in page_text(client, f"/admin/sources?message={lure}&sig=AAAAAAAAAAAAAAAAAAAAAAAA")
    assert lure not in page_text(client, f"/admin/sources?message={lure}&sig=%C3%A9t%C3%A9")
    done = client.post(f"/admin/sources/{source.id}/remove", data={"csrf": token(client)},
                       headers={**AUTH, "Origin": url})  # fmt: skip
    assert done.status_code == 303
    assert "Removed Orrin Vale Post; its articles stay readable." in page_text(
        client, done.headers["location"]
    )
    forged = done.headers["location"].replace("Removed", "Restored")
    assert "Restored" not in page_text(client, forged)


def test_a_starter_pack_is_added_in_one_click_and_twice_adds_nothing(
    admin: Callable[..., tuple[str, Store, httpx.Client]],
) -> None:
    url, store, client = admin(page_cache_seconds=3600)
    home = client.get("/").text
    assert "No sources yet" in home and "starter pack" in home  # and now cached for an hour
    listed = page_text(client)
    assert "Add World news" in listed and "Add Sport" in listed
    world = next(p for p in starter_packs() if p.slug == "world-news")
    done = client.post("/admin/starter", data={"csrf": token(client), "pack": "world-news"},
                       headers={**AUTH, "Origin": url})  # fmt: skip
    assert done.status_code == 303
    assert (
        f"Added {len(world.feeds)} feeds of World news"
        in client.get(done.headers["location"], headers=AUTH).text
    )
    assert {s.url for s in store.sources.all()} == {f.url for f in world.feeds}
    assert {s.folder for s in store.sources.all()} == {"World news"}
    assert "No sources yet" not in client.get("/").text  # the cached welcome page was dropped
    again = client.post("/admin/starter", data={"csrf": token(client), "pack": "world-news"},
                        headers={**AUTH, "Origin": url})  # fmt: skip
    assert (
        f"Added 0 feeds of World news ({len(world.feeds)} were already here)"
        in client.get(again.headers["location"], headers=AUTH).text
    )
    unknown = client.post("/admin/starter", data={"csrf": token(client), "pack": "gossip"},
                          headers={**AUTH, "Origin": url})  # fmt: skip
    assert unknown.status_code == 400
