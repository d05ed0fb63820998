"""The Fever API, tested by a client written from the spec (feedafever.com/api): the key is md5("name:password"),
POSTed as the `api_key` form field to `/fever/?api&...`; a sync is what Reeder does (groups and feeds, every item
through `since_id` pages, then the unread and saved ids), and marks are single calls.

The site is tests/web/appsite.py's, plus a fourth source ("pellmore", folder "Local") of sixty articles fetched in
the last hour, so that a sync needs more than one page of fifty. The module shares one site per back end: "ada"
only reads; "bo" is reset before each test that changes her state (`bo` below).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from appsite import NOW, AppSite, app_site

from broadsheet.models import Article, SourceKind
from broadsheet.store import EntryQuery

EXTRA = 60  # pellmore's articles: with the 17 of appsite, two pages of items
PAGE = 50  # the spec's items per answer


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, module_database_url: str) -> Iterator[AppSite]:
    with app_site(tmp_path_factory.mktemp("fever"), module_database_url) as found:
        _add_pellmore(found)
        yield found


def _add_pellmore(site: AppSite) -> None:
    """Sixty articles fetched a minute apart in the hour before NOW (after every other, as ids grow with time)."""
    url = "https://pellmore.example/feed.xml"
    source = site.store.sources.add(url, SourceKind.FEED, now=NOW - timedelta(days=60), interval_seconds=1800,
                                    title="Pellmore Courier", site_url="https://pellmore.example/", folder="Local")  # fmt: skip
    site.sources["pellmore"], site.recent["pellmore"], site.old["pellmore"] = source.id, [], []
    for n in range(EXTRA):
        fetched = NOW - timedelta(minutes=EXTRA - n)
        article = Article(
            url=f"https://pellmore.example/news/{n}", canonical_url=f"https://pellmore.example/news/{n}",
            title=f"Pellmore Courier: the ferry question ({n})", text="The ferry was late again. " * 10,
            html=f"<p>The ferry was late again ({n}).</p>", outlet="Pellmore Courier", author=f"Reporter {n}",
            lang="en", published=fetched - timedelta(minutes=5), source_id=source.id, content_hash=f"pellmore-{n}",
        )  # fmt: skip
        site.recent["pellmore"].insert(0, site.store.articles.insert(article, None, (), fetched))


# --- the client, from the spec ---------------------------------------------------------------------------------


def _ids(text: str) -> set[int]:
    """A Fever id list: a string, comma-separated."""
    assert isinstance(text, str), text
    return {int(part) for part in text.split(",") if part}


@dataclass
class Cache:
    """What an app keeps between syncs."""

    groups: dict[int, str] = field(default_factory=dict)
    feeds: dict[int, dict[str, Any]] = field(default_factory=dict)
    feed_groups: dict[int, int] = field(default_factory=dict)  # feed id -> group id
    items: dict[int, dict[str, Any]] = field(default_factory=dict)
    unread: set[int] = field(default_factory=set)
    saved: set[int] = field(default_factory=set)
    requests: int = 0


class FeverClient:
    """A Fever client as the API page describes one: every call a POST of `api_key` to `?api` and the selectors."""

    def __init__(self, url: str, name: str, password: str) -> None:
        self.api_key = hashlib.md5(f"{name}:{password}".encode()).hexdigest()
        self.http = httpx.Client(base_url=url, timeout=10)
        self.requests = 0

    def close(self) -> None:
        self.http.close()

    def post(self, query: str, form: dict[str, str] | None = None) -> httpx.Response:
        self.requests += 1
        return self.http.post(f"/fever/?{query}", data={"api_key": self.api_key, **(form or {})})

    def call(self, *selectors: str, **args: object) -> dict[str, Any]:
        """`?api&sel&...&name=value`, the answer checked as an authenticated one."""
        query = "&".join(["api", *selectors, *(f"{name}={value}" for name, value in args.items())])
        answer = self.post(query)
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-type"].startswith("application/json")
        body: dict[str, Any] = answer.json()
        assert body["api_version"] == 3 and body["auth"] == 1, body
        assert isinstance(body["last_refreshed_on_time"], int)
        return body

    def structure(self, cache: Cache) -> None:
        body = self.call("groups", "feeds")
        cache.groups = {g["id"]: g["title"] for g in body["groups"]}
        cache.feeds = {f["id"]: f for f in body["feeds"]}
        cache.feed_groups = {
            int(feed): row["group_id"] for row in body["feeds_groups"] for feed in row["feed_ids"].split(",")
        }

    def unread_ids(self) -> set[int]:
        return _ids(self.call("unread_item_ids")["unread_item_ids"])

    def saved_ids(self) -> set[int]:
        return _ids(self.call("saved_item_ids")["saved_item_ids"])

    def items_since(self, since: int = 0) -> list[dict[str, Any]]:
        """Every item above `since`: pages of `since_id`, until one is empty."""
        found: list[dict[str, Any]] = []
        while True:
            page = self.call("items", since_id=since)["items"]
            assert len(page) <= PAGE
            if not page:
                return found
            found.extend(page)
            since = max(item["id"] for item in page)

    def items_before(self) -> list[dict[str, Any]]:
        """Every item, newest first: pages of `max_id` from 0, until one is empty."""
        found: list[dict[str, Any]] = []
        below = 0
        while True:
            page = self.call("items", max_id=below)["items"]
            if not page:
                return found
            found.extend(page)
            below = min(item["id"] for item in page)

    def items_with(self, ids: list[int]) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = self.call("items", with_ids=",".join(map(str, ids)))["items"]
        return items

    def sync(self, cache: Cache | None = None) -> Cache:
        """Reeder's sync: the structure, the items above the newest held, the unread and saved ids, and any item
        those name that is not held yet (`with_ids`, fifty at a time)."""
        cache = cache or Cache()
        start = self.requests
        self.structure(cache)
        for item in self.items_since(max(cache.items, default=0)):
            assert item["id"] not in cache.items, f"item {item['id']} came twice"
            cache.items[item["id"]] = item
        cache.unread, cache.saved = self.unread_ids(), self.saved_ids()
        missing = sorted((cache.unread | cache.saved) - cache.items.keys())
        for start_at in range(0, len(missing), PAGE):
            for item in self.items_with(missing[start_at : start_at + PAGE]):
                cache.items[item["id"]] = item
        cache.requests = self.requests - start
        return cache

    def mark(self, kind: str, action: str, target: int, before: datetime | None = None) -> dict[str, Any]:
        args: dict[str, object] = {"mark": kind, "as": action, "id": target}
        if before is not None:
            args["before"] = int(before.timestamp())
        return self.call(**args)


@pytest.fixture(scope="module")
def ada(site: AppSite) -> Iterator[FeverClient]:
    client = FeverClient(site.url, "ada", site.passwords["ada"])
    yield client
    client.close()


@pytest.fixture
def bo(site: AppSite) -> Iterator[FeverClient]:
    """Bo as a new reader: her library forgotten (the next call sets it up again) and her bookmarks removed."""
    user_id = site.user_id("bo")
    site.store.library.forget(user_id)
    while marks := site.store.follows.bookmarks(user_id, limit=50):
        for card in marks:
            site.store.follows.unbookmark(user_id, card.id)
    client = FeverClient(site.url, "bo", site.passwords["bo"])
    yield client
    client.close()


def _all_ids(site: AppSite) -> set[int]:
    return site.all_recent | {i for ids in site.old.values() for i in ids}


def _fetched(site: AppSite) -> dict[int, datetime]:
    """When each entry was fetched, from the store."""
    found = site.store.library.entry_ids(site.user_id("ada"), EntryQuery(limit=1000))
    return {entry_id: fetched for entry_id, fetched, _ in found}


def _read_in_store(site: AppSite, name: str, entry_id: int) -> bool:
    (entry,) = site.store.library.entries_by_id(site.user_id(name), [entry_id])
    return entry.read


def _store_unread(site: AppSite, name: str) -> str:
    """A reader's unread ids from the store, as Fever writes them."""
    found = site.store.library.entry_ids(site.user_id(name), EntryQuery(read=False, limit=1000))
    return ",".join(str(entry_id) for entry_id, _, _ in found)


def _ada_untouched(site: AppSite) -> bool:
    """Ada's unread entries are still every recent one: Bo's marks are Bo's."""
    return _ids(_store_unread(site, "ada")) == site.all_recent


# --- signing in ----------------------------------------------------------------------------------------------


def test_a_wrong_key_or_none_gets_auth_0_and_nothing_else(site: AppSite) -> None:
    wrong = hashlib.md5(b"ada:not-her-password").hexdigest()
    with httpx.Client(base_url=site.url, timeout=10) as http:
        for form in ({"api_key": wrong}, {"api_key": ""}, {"api_key": "x" * 5000}, {}):
            answer = http.post("/fever/?api&items&unread_item_ids", data=form)
            assert answer.status_code == 200
            assert answer.json() == {"api_version": 3, "auth": 0}
        account_password = hashlib.md5(b"ada:a long enough secret").hexdigest()  # not an app password
        assert http.post("/fever/?api", data={"api_key": account_password}).json()["auth"] == 0


def test_the_key_says_whose_library_it_is(site: AppSite, ada: FeverClient, bo: FeverClient) -> None:
    target = site.recent["alder"][0]
    bo.mark("item", "read", target)
    bo.mark("item", "saved", target)
    assert target not in bo.unread_ids() and bo.saved_ids() == {target}
    assert target in ada.unread_ids() and ada.saved_ids() == set()
    assert not _read_in_store(site, "ada", target) and _read_in_store(site, "bo", target)


def test_the_key_is_read_in_any_case_and_the_address_with_or_without_its_slash(
    site: AppSite, ada: FeverClient
) -> None:
    with httpx.Client(base_url=site.url, timeout=10) as http:
        for path in ("/fever/?api", "/fever?api"):
            for key in (ada.api_key, ada.api_key.upper()):
                answer = http.post(path, data={"api_key": key})
                assert answer.status_code == 200 and answer.json()["auth"] == 1, (path, answer.text)


def test_without_api_in_the_call_the_answer_says_where_the_api_is(site: AppSite, ada: FeverClient) -> None:
    with httpx.Client(base_url=site.url, timeout=10) as http:
        for answer in (http.get("/fever/"), http.post("/fever/", data={"api_key": ada.api_key})):
            assert answer.status_code == 400
            assert "/fever/?api" in answer.json()["error"]


# --- reading -------------------------------------------------------------------------------------------------


def test_groups_and_feeds_are_the_folders_less_the_stories(site: AppSite, ada: FeverClient) -> None:
    ada.call()  # the library is set up by the first call
    site.store.library.sync_story_folders(site.user_id("ada"), {987_654: "Story: the harbour crane"}, NOW)
    cache = Cache()
    ada.structure(cache)
    assert sorted(cache.groups.values()) == ["All", "Local", "World"]  # the story's folder is no group
    by_title = {title: group for group, title in cache.groups.items()}
    assert cache.feed_groups == {
        site.sources["quillon"]: by_title["World"], site.sources["marrowby"]: by_title["World"],
        site.sources["alder"]: by_title["All"], site.sources["pellmore"]: by_title["Local"],
    }  # fmt: skip
    quillon = cache.feeds[site.sources["quillon"]]
    assert quillon == {
        "id": site.sources["quillon"], "favicon_id": 0, "title": "Quillon Daily",
        "url": "https://quillon.example/feed.xml", "site_url": "https://quillon.example/", "is_spark": 0,
        "last_updated_on_time": quillon["last_updated_on_time"],
    }  # fmt: skip
    assert isinstance(quillon["last_updated_on_time"], int)


def test_a_full_sync_pages_through_every_item_once(site: AppSite, ada: FeverClient) -> None:
    cache = ada.sync()
    assert set(cache.items) == _all_ids(site) and len(cache.items) == 17 + EXTRA
    assert cache.requests == 1 + 3 + 2  # structure; items: 50, 27, none; unread and saved ids
    item = cache.items[site.recent["quillon"][0]]
    assert item["feed_id"] == site.sources["quillon"] and item["url"] == "https://quillon.example/news/1"
    assert item["title"] == "Quillon Daily: the orchard frost question (1)" and item["author"] == "Reporter 1"
    assert "orchard frost" in item["html"] and item["is_read"] == 0 and item["is_saved"] == 0
    assert item["created_on_time"] == int((NOW - timedelta(hours=1, minutes=10)).timestamp())
    again = ada.sync(cache)  # nothing new: one empty items page
    assert again.requests == 1 + 1 + 2 and set(again.items) == _all_ids(site)


def test_since_id_pages_go_up_and_max_id_pages_come_down(site: AppSite, ada: FeverClient) -> None:
    everything = sorted(_all_ids(site))
    first = ada.call("items", since_id=0)["items"]
    assert [i["id"] for i in first] == everything[:PAGE]
    assert [i["id"] for i in ada.call("items")["items"]] == everything[:PAGE]  # no window: the oldest, too
    middle = everything[30]
    assert [i["id"] for i in ada.call("items", since_id=middle)["items"]] == everything[31 : 31 + PAGE]
    down = [i["id"] for i in ada.items_before()]
    assert down == sorted(everything, reverse=True)
    assert [i["id"] for i in ada.call("items", max_id=middle)["items"]] == everything[:30][::-1]


def test_total_items_and_last_refreshed(site: AppSite, ada: FeverClient) -> None:
    body = ada.call("items", since_id=0)
    assert body["total_items"] == 17 + EXTRA
    assert body["last_refreshed_on_time"] == int(max(_fetched(site).values()).timestamp())


def test_unread_ids_are_the_recent_entries_not_the_backlog(site: AppSite, ada: FeverClient) -> None:
    unread = ada.unread_ids()
    assert unread == site.all_recent
    assert not unread & set(site.old["quillon"])
    for item in ada.items_with(site.old["quillon"]):
        assert item["is_read"] == 1


def test_with_ids_gives_those_items_only(site: AppSite, ada: FeverClient) -> None:
    wanted = [site.recent["alder"][2], site.old["quillon"][0], site.recent["pellmore"][7]]
    got = ada.call("items", with_ids=f"{wanted[0]}, {wanted[1]},nonsense,,-4,{wanted[2]},999999999")["items"]
    assert sorted(i["id"] for i in got) == sorted(wanted)
    many = sorted(site.recent["pellmore"])
    assert len(ada.items_with(many)) == PAGE  # at most fifty
    assert ada.call("items", with_ids="")["items"] == []


def test_several_selectors_are_answered_together(ada: FeverClient) -> None:
    body = ada.call("groups", "feeds", "favicons", "links", "items", "unread_item_ids", "saved_item_ids")
    for key in ("groups", "feeds", "feeds_groups", "favicons", "links", "items", "total_items"):
        assert key in body, key
    assert body["favicons"] == [] and body["links"] == []
    assert isinstance(body["unread_item_ids"], str) and isinstance(body["saved_item_ids"], str)


# --- marking -------------------------------------------------------------------------------------------------


def test_marking_items_shows_in_the_next_sync_and_the_store(site: AppSite, bo: FeverClient) -> None:
    cache = bo.sync()
    fresh, old = site.recent["marrowby"][0], site.old["quillon"][1]
    assert fresh in cache.unread and old not in cache.unread

    answer = bo.mark("item", "read", fresh)
    assert fresh not in _ids(answer["unread_item_ids"])  # the remaining unread ids, as Fever answers
    answer = bo.mark("item", "unread", old)
    assert old in _ids(answer["unread_item_ids"])
    answer = bo.mark("item", "saved", fresh)
    assert _ids(answer["saved_item_ids"]) == {fresh}

    cache = bo.sync(cache)
    assert fresh not in cache.unread and old in cache.unread and cache.saved == {fresh}
    assert bo.items_with([fresh])[0]["is_read"] == 1 and bo.items_with([fresh])[0]["is_saved"] == 1
    assert bo.items_with([old])[0]["is_read"] == 0
    assert _read_in_store(site, "bo", fresh) and not _read_in_store(site, "bo", old)
    assert [card.id for card in site.store.follows.bookmarks(site.user_id("bo"))] == [fresh]

    assert bo.mark("item", "unsaved", fresh)["saved_item_ids"] == ""
    assert bo.mark("item", "unread", fresh)
    cache = bo.sync(cache)
    assert fresh in cache.unread and cache.saved == set()
    assert site.store.follows.bookmarks(site.user_id("bo")) == []


def test_marking_a_feed_read_before_a_time_leaves_newer_entries_unread(
    site: AppSite, bo: FeverClient
) -> None:
    quillon = site.recent["quillon"]  # fetched 1 to 5 hours ago, newest first
    answer = bo.mark("feed", "read", site.sources["quillon"], before=NOW - timedelta(hours=2, minutes=30))
    unread = _ids(answer["unread_item_ids"])
    assert unread == site.all_recent - set(quillon[2:])
    assert bo.unread_ids() == unread
    assert all(_read_in_store(site, "bo", i) for i in quillon[2:])
    assert _ada_untouched(site)


def test_marking_a_group_read_marks_its_feeds_only(site: AppSite, bo: FeverClient) -> None:
    cache = bo.sync()
    world = next(group for group, title in cache.groups.items() if title == "World")
    answer = bo.mark("group", "read", world, before=NOW + timedelta(seconds=1))
    expected = set(site.recent["alder"]) | set(site.recent["pellmore"])
    assert _ids(answer["unread_item_ids"]) == expected == _ids(_store_unread(site, "bo"))
    assert _ada_untouched(site)


def test_the_default_group_holds_and_marks_the_feeds_in_no_folder(site: AppSite, bo: FeverClient) -> None:
    bo.call()  # set up the library
    site.store.library.edit_subscription(site.user_id("bo"), site.sources["pellmore"], folder_id=None)
    cache = Cache()
    bo.structure(cache)
    everything = next(group for group, title in cache.groups.items() if title == "All")
    assert (
        cache.feed_groups[site.sources["pellmore"]] == everything == cache.feed_groups[site.sources["alder"]]
    )
    unread = _ids(bo.mark("group", "read", everything, before=NOW + timedelta(seconds=1))["unread_item_ids"])
    assert unread == set(site.recent["quillon"]) | set(site.recent["marrowby"])


def test_group_0_is_every_feed_up_to_before(site: AppSite, bo: FeverClient) -> None:
    cut = NOW - timedelta(minutes=30)
    unread = _ids(bo.mark("group", "read", 0, before=cut)["unread_item_ids"])
    expected = {i for i, fetched in _fetched(site).items() if fetched >= cut}
    assert unread == expected and len(expected) == 30  # pellmore's last half hour
    assert bo.unread_ids() == expected and _ada_untouched(site)
    assert _ids(bo.mark("group", "read", 0)["unread_item_ids"]) == set()  # no `before`: everything


def test_parameters_are_read_from_the_query_and_the_form_alike(site: AppSite, bo: FeverClient) -> None:
    target, other = site.recent["alder"][1], site.recent["alder"][2]
    with httpx.Client(base_url=site.url, timeout=10) as http:
        everything_in_query = http.get(f"/fever/?api&unread_item_ids&api_key={bo.api_key}")
        assert _ids(everything_in_query.json()["unread_item_ids"]) == site.all_recent
        in_form = http.post(
            "/fever/?api", data={"api_key": bo.api_key, "mark": "item", "as": "read", "id": target}
        )
        assert target not in _ids(in_form.json()["unread_item_ids"])
        in_query = http.post(f"/fever/?api&mark=item&as=read&id={other}", data={"api_key": bo.api_key})
        assert other not in _ids(in_query.json()["unread_item_ids"])
        selectors_in_form = http.post(
            "/fever/", data={"api": "", "items": "", "with_ids": str(target), "api_key": bo.api_key}
        )
        assert [i["id"] for i in selectors_in_form.json()["items"]] == [target]
    assert _read_in_store(site, "bo", target) and _read_in_store(site, "bo", other)


def test_nonsense_gets_a_clear_answer(site: AppSite, bo: FeverClient) -> None:
    before = bo.unread_ids()
    with httpx.Client(base_url=site.url, timeout=10) as http:
        form = {"content-type": "application/x-www-form-urlencoded"}
        garbled = http.post("/fever/?api&items", content=b"\xff\xfe\x00=&&api_key=%zz%%", headers=form)
        assert garbled.status_code == 200 and garbled.json() == {"api_version": 3, "auth": 0}
        parts = {"content-type": "multipart/form-data; boundary=nothing"}
        broken = http.post("/fever/?api", content=b"--else\r\nnonsense", headers=parts)
        assert broken.status_code == 400 and "not a form" in broken.json()["error"]
        as_json = http.post("/fever/?api", json={"api_key": bo.api_key})  # Fever's are forms: no one's key
        assert as_json.status_code == 200 and as_json.json() == {"api_version": 3, "auth": 0}
    assert bo.call("items", since_id="abc")["items"]  # no number: from the oldest
    assert bo.call("items", max_id="-1")["items"]
    for args in (
        {"mark": "item", "as": "read", "id": "99999999999999999999999"},
        {"mark": "item", "as": "read", "id": "9223372036854775807"},
        {"mark": "item", "as": "shredded", "id": site.recent["alder"][0]},
        {"mark": "feed", "as": "read", "id": site.sources["alder"], "before": "yesterday"},
        {"mark": "feed", "as": "unread", "id": site.sources["alder"]},
        {"mark": "group", "as": "read", "id": "-1"},
        {"mark": "group", "as": "read", "id": "987654321"},
        {"mark": "everything", "as": "read", "id": "0"},
    ):
        bo.call(**args)
    assert bo.unread_ids() == before
    assert bo.call("items", since_id="99999999999999999999999")["items"]  # too large for an id: no window


def test_answers_are_never_kept_by_a_cache(site: AppSite) -> None:
    key = hashlib.md5(f"ada:{site.passwords['ada']}".encode()).hexdigest()
    answer = httpx.post(f"{site.url}/fever/?api&groups", data={"api_key": key}, timeout=10)
    assert answer.json()["auth"] == 1 and answer.headers["cache-control"] == "no-store"
