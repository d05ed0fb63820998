"""The Miniflux API v1 (`web/apps/miniflux.py`) through real HTTP, on SQLite and PostgreSQL: signing in, feeds
and categories, entry lists and their filters, read and starred marks, and changes to the library.

The site (tests/web/appsite.py) is shared by the module; tests that change a library do it as a reader of their
own (`newcomer`), made for that test, so the readers "ada" and "bo" keep their first state.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from appsite import NOW, SOURCES, AppSite, app_site

from broadsheet.readers.tokens import token_hash
from broadsheet.store import StoryUpdate, library
from broadsheet.web.apps import miniflux
from broadsheet.web.apps.common import make_app_password

DATE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
_names = itertools.count(1)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, module_database_url: str) -> Iterator[AppSite]:
    with app_site(tmp_path_factory.mktemp("miniflux"), module_database_url) as found:
        yield found


def _client(site: AppSite, name: str, password: str, *, token: bool = False) -> httpx.Client:
    if token:
        return httpx.Client(base_url=site.url, headers={"X-Auth-Token": password}, timeout=10)
    return httpx.Client(base_url=site.url, auth=(name, password), timeout=10)


@pytest.fixture
def ada(site: AppSite) -> Iterator[httpx.Client]:
    with _client(site, "ada", site.passwords["ada"]) as client:
        yield client


@pytest.fixture
def newcomer(site: AppSite) -> Iterator[Callable[..., httpx.Client]]:
    """Readers of their own for tests that change a library: each call makes one (and, with admin=True, an
    admin) and gives its client, signed in with Basic."""
    clients: list[httpx.Client] = []

    def make(admin: bool = False) -> httpx.Client:
        name = f"reader{next(_names)}"
        user = site.store.accounts.add_user(name, "", "admin" if admin else "reader", NOW)
        clients.append(_client(site, name, make_app_password(site.store, user, "tests", NOW)))
        return clients[-1]

    yield make
    for client in clients:
        client.close()


def _ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


def _error(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error_message"}
    assert isinstance(body["error_message"], str)
    return body["error_message"]


def _unreads(client: httpx.Client) -> dict[int, int]:
    counters = _ok(client.get("/v1/feeds/counters"))
    return {int(key): value for key, value in counters["unreads"].items()}


def _ids(answer: dict[str, Any]) -> list[int]:
    return [entry["id"] for entry in answer["entries"]]


def _category_id(client: httpx.Client, title: str) -> int:
    found = [c["id"] for c in _ok(client.get("/v1/categories")) if c["title"] == title]
    assert len(found) == 1, found
    return int(found[0])


def _recent_desc(site: AppSite, *keys: str) -> list[int]:
    return sorted((i for key in keys or SOURCES for i in site.recent[key]), reverse=True)


# --- signing in -------------------------------------------------------------------------------------------------


def test_signing_in_needs_an_app_password_of_that_reader(site: AppSite) -> None:
    with httpx.Client(base_url=site.url, timeout=10) as anonymous:
        refused = anonymous.get("/v1/me")
        assert "app password" in _error(refused, 401)
        assert refused.headers["www-authenticate"].startswith("Basic")
        _error(anonymous.get("/v1/me", headers={"Authorization": "Basic !!not base64!!"}), 401)
        _error(anonymous.get("/v1/feeds", headers={"X-Auth-Token": "nonsense"}), 401)
    for name, password in [("ada", "wrong"), ("bo", site.passwords["ada"]), ("", site.passwords["ada"])]:
        with _client(site, name, password) as client:
            _error(client.get("/v1/me"), 401)
    with httpx.Client(base_url=site.url, auth=("ada", site.passwords["ada"]), timeout=10) as both:
        # A wrong token is refused even beside good Basic credentials, as Miniflux does.
        _error(both.get("/v1/me", headers={"X-Auth-Token": "nonsense"}), 401)
        _error(
            both.put("/v1/entries", json={"entry_ids": [1], "status": "read"}, headers={"X-Auth-Token": "x"}),
            401,
        )


@pytest.mark.parametrize("token", [False, True])
def test_me_by_basic_or_token(site: AppSite, token: bool) -> None:
    with _client(site, "ADA", site.passwords["ada"], token=token) as client:  # the name's case is ignored
        me = _ok(client.get("/v1/me"))
    assert me["id"] == site.user_id("ada")
    assert me["username"] == "ada"
    assert me["is_admin"] is False
    assert DATE.fullmatch(me["last_login_at"])


def test_an_api_token_passes_as_an_app_password(site: AppSite) -> None:
    token = "an-api-token-made-for-this-test"
    site.store.accounts.add_token(site.user_id("bo"), "api", token_hash(token), "tests", NOW)
    with _client(site, "bo", token, token=True) as client:
        assert _ok(client.get("/v1/me"))["username"] == "bo"


# --- feeds and categories ----------------------------------------------------------------------------------------


def test_the_default_category_is_the_stores_default_folder() -> None:
    assert miniflux.DEFAULT_FOLDER == library.DEFAULT_FOLDER


def test_feeds_are_the_subscriptions_each_in_a_category(site: AppSite, ada: httpx.Client) -> None:
    feeds = {feed["id"]: feed for feed in _ok(ada.get("/v1/feeds"))}
    assert set(feeds) == set(site.sources.values())
    quillon = feeds[site.sources["quillon"]]
    assert quillon["title"] == "Quillon Daily"
    assert quillon["feed_url"] == SOURCES["quillon"][0]
    assert quillon["site_url"] == "https://quillon.example/"
    assert quillon["user_id"] == site.user_id("ada")
    assert quillon["disabled"] is False and quillon["icon"] is None
    assert DATE.fullmatch(quillon["checked_at"])
    assert quillon["category"]["title"] == "World"
    assert feeds[site.sources["alder"]]["category"]["title"] == "All"  # the site gave it no folder
    assert _ok(ada.get(f"/v1/feeds/{site.sources['alder']}")) == feeds[site.sources["alder"]]

    categories = _ok(ada.get("/v1/categories"))
    assert {c["title"] for c in categories} == {"All", "World"}
    assert all(c["user_id"] == site.user_id("ada") for c in categories)
    world = _category_id(ada, "World")
    in_world = {feed["id"] for feed in _ok(ada.get(f"/v1/categories/{world}/feeds"))}
    assert in_world == {site.sources["quillon"], site.sources["marrowby"]}
    counted = {c["title"]: c for c in _ok(ada.get("/v1/categories", params={"counts": "true"}))}
    assert counted["World"]["feed_count"] == 2
    assert counted["World"]["total_unread"] == 10
    assert counted["All"]["feed_count"] == 1


def test_unknown_feeds_and_categories_are_404(site: AppSite, ada: httpx.Client) -> None:
    for path in ["/v1/feeds/999999", "/v1/feeds/abc", "/v1/categories/999999/feeds", "/v1/feeds/0/entries",
                 "/v1/categories/999999/entries", "/v1/entries/999999999", "/v1/entries/x"]:  # fmt: skip
        _error(ada.get(path), 404)
    _error(ada.put("/v1/feeds/999999/mark-all-as-read"), 404)
    _error(ada.put("/v1/categories/999999/mark-all-as-read"), 404)
    _error(ada.delete("/v1/categories/999999"), 404)
    _error(ada.delete("/v1/feeds/999999"), 404)
    _error(ada.put("/v1/entries/999999999/bookmark"), 404)
    _error(ada.get(f"/v1/feeds/{site.sources['alder']}/icon"), 404)
    # Another reader's category is not this one's.
    with _client(site, "bo", site.passwords["bo"]) as bo:
        theirs = _category_id(bo, "World")
    _error(ada.get(f"/v1/categories/{theirs}/feeds"), 404)


# --- entry lists --------------------------------------------------------------------------------------------------


def test_unread_entries_newest_first_with_their_feed(site: AppSite, ada: httpx.Client) -> None:
    answer = _ok(ada.get("/v1/entries", params={"status": "unread", "direction": "desc"}))
    assert answer["total"] == 15
    assert _ids(answer) == _recent_desc(site)
    entry = answer["entries"][0]
    assert entry["status"] == "unread" and entry["starred"] is False
    assert entry["user_id"] == site.user_id("ada")
    assert entry["feed"]["id"] == entry["feed_id"]
    assert entry["feed"]["category"]["title"] in {"All", "World"}
    assert entry["content"].startswith("<p>The ") and entry["reading_time"] == 1
    assert entry["author"].startswith("Reporter ") and entry["url"].startswith("https://")
    assert entry["enclosures"] == [] and entry["tags"] == [] and entry["comments_url"] == ""
    for key in ("published_at", "created_at", "changed_at"):
        assert DATE.fullmatch(entry[key]), entry[key]
    assert entry["published_at"] < entry["created_at"]  # published ten minutes before it was fetched


def test_a_month_old_article_counts_as_read(site: AppSite, ada: httpx.Client) -> None:
    answer = _ok(ada.get("/v1/entries", params={"status": "read"}))
    assert sorted(_ids(answer)) == sorted(site.old["quillon"])
    both = _ok(ada.get("/v1/entries", params=[("status", "read"), ("status", "unread")]))
    assert both["total"] == 17
    assert _ok(ada.get("/v1/entries", params={"status": "removed"})) == {"total": 0, "entries": []}


def test_order_limit_and_offset(site: AppSite, ada: httpx.Client) -> None:
    newest = _recent_desc(site)
    oldest_first = _ok(ada.get("/v1/entries", params={"status": "unread"}))  # Miniflux's default: ascending
    assert _ids(oldest_first) == newest[::-1]
    page = _ok(
        ada.get("/v1/entries", params={"status": "unread", "direction": "desc", "limit": 4, "offset": 2})
    )
    assert page["total"] == 15
    assert _ids(page) == newest[2:6]
    for order in ("id", "created_at", "published_at", "category_title", "status"):
        ordered = _ok(
            ada.get("/v1/entries", params={"status": "unread", "order": order, "direction": "desc"})
        )
        assert _ids(ordered) == newest
    past = _ok(ada.get("/v1/entries", params={"status": "unread", "offset": 20}))
    assert past == {"total": 15, "entries": []}
    everything = _ok(ada.get("/v1/entries", params={"limit": 0}))
    assert everything["total"] == len(everything["entries"]) == 17


def test_the_window_bounds_total_and_offset(
    site: AppSite, ada: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(miniflux, "MAX_WINDOW", 5)
    newest = _recent_desc(site)
    answer = _ok(
        ada.get("/v1/entries", params={"status": "unread", "direction": "desc", "offset": 3, "limit": 10})
    )
    assert answer["total"] == 15  # counted by the store: exact, whatever the window
    assert _ids(answer) == newest[3:5]  # a page ends where the window does
    beyond = _ok(ada.get("/v1/entries", params={"status": "unread", "direction": "desc", "offset": 6}))
    assert beyond == {"total": 15, "entries": []}
    # Past the window, an entry id goes on.
    further = _ok(ada.get("/v1/entries", params={"status": "unread", "direction": "desc",
                                                 "before_entry_id": newest[4]}))  # fmt: skip
    assert _ids(further) == newest[5:10]


def test_feed_category_and_time_filters(site: AppSite, ada: httpx.Client) -> None:
    quillon, alder = site.sources["quillon"], site.sources["alder"]
    by_feed = _ok(ada.get(f"/v1/feeds/{quillon}/entries", params={"direction": "desc"}))
    assert _ids(by_feed) == sorted(site.recent["quillon"] + site.old["quillon"], reverse=True)
    assert _ids(_ok(ada.get("/v1/entries", params={"feed_id": alder, "direction": "desc"}))) == _recent_desc(
        site, "alder"
    )
    world, everything = _category_id(ada, "World"), _category_id(ada, "All")
    in_world = _ok(
        ada.get(f"/v1/categories/{world}/entries", params={"status": "unread", "direction": "desc"})
    )
    assert _ids(in_world) == _recent_desc(site, "quillon", "marrowby")
    in_all = _ok(ada.get("/v1/entries", params={"category_id": everything, "direction": "desc"}))
    assert _ids(in_all) == _recent_desc(site, "alder")
    # A feed outside the category beside it matches nothing.
    assert _ok(ada.get(f"/v1/categories/{world}/entries", params={"feed_id": alder}))["total"] == 0
    assert _ok(ada.get(f"/v1/categories/{world}/entries", params={"feed_id": quillon}))["total"] == 7

    after = int((NOW - timedelta(hours=3)).timestamp())
    recent = _ok(ada.get("/v1/entries", params={"after": after, "direction": "desc"}))
    assert _ids(recent) == _recent_desc(site)[:9]  # fetched three, two and one hours ago
    before = int((NOW - timedelta(days=2)).timestamp())
    assert sorted(_ids(_ok(ada.get("/v1/entries", params={"before": before})))) == sorted(site.old["quillon"])
    newest = _recent_desc(site)
    between = _ok(ada.get("/v1/entries", params={"after_entry_id": newest[3], "direction": "desc"}))
    assert _ids(between) == newest[:3]


def test_bad_filters_are_400(site: AppSite, ada: httpx.Client) -> None:
    bad: list[dict[str, str | int]] = [
        {"order": "colour"}, {"direction": "up"}, {"status": "lost"}, {"limit": -1}, {"offset": -5},
        {"feed_id": 999999}, {"category_id": 999999},
    ]  # fmt: skip
    for params in bad:
        _error(ada.get("/v1/entries", params=params), 400)


def test_single_entries(site: AppSite, ada: httpx.Client) -> None:
    entry_id = site.recent["marrowby"][0]
    feed_id = site.sources["marrowby"]
    entry = _ok(ada.get(f"/v1/entries/{entry_id}"))
    assert entry["id"] == entry_id and entry["feed_id"] == feed_id
    assert entry["title"].startswith("Marrowby Herald: ")
    assert _ok(ada.get(f"/v1/feeds/{feed_id}/entries/{entry_id}")) == entry
    world = _category_id(ada, "World")
    assert _ok(ada.get(f"/v1/categories/{world}/entries/{entry_id}")) == entry
    _error(ada.get(f"/v1/feeds/{site.sources['alder']}/entries/{entry_id}"), 404)
    _error(ada.get(f"/v1/categories/{_category_id(ada, 'All')}/entries/{entry_id}"), 404)


# --- marks ---------------------------------------------------------------------------------------------------------


def test_marking_read_and_unread_is_one_readers(site: AppSite, newcomer: Callable[..., httpx.Client]) -> None:
    reader = newcomer()
    quillon = site.sources["quillon"]
    assert _unreads(reader) == {source_id: 5 for source_id in site.sources.values()}
    ids = site.recent["quillon"][:2]
    assert reader.put("/v1/entries", json={"entry_ids": ids, "status": "read"}).status_code == 204
    assert _unreads(reader)[quillon] == 3
    assert {e["status"] for e in _ok(reader.get("/v1/entries", params={"feed_id": quillon}))["entries"]
            if e["id"] in ids} == {"read"}  # fmt: skip
    with _client(site, "ada", site.passwords["ada"]) as ada:
        assert _unreads(ada)[quillon] == 5  # another reader's marks are their own
    # newsboat sends the JSON labelled as a form.
    answer = reader.put(
        "/v1/entries",
        content=f'{{"entry_ids": [{ids[0]}], "status": "unread"}}',
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert answer.status_code == 204 and answer.content == b""
    assert _unreads(reader)[quillon] == 4
    for bad in ['{"entry_ids": [], "status": "read"}', '{"entry_ids": [1], "status": "gone"}', "entry_ids=1",
                '{"entry_ids": [1]}', '{"entry_ids": ["1"], "status": "read"}', "[1]", ""]:  # fmt: skip
        _error(reader.put("/v1/entries", content=bad), 400)


def test_bookmarks_are_the_starred(site: AppSite, newcomer: Callable[..., httpx.Client]) -> None:
    reader = newcomer()
    user_id = _ok(reader.get("/v1/me"))["id"]
    entry_id = site.recent["alder"][1]
    assert reader.put(f"/v1/entries/{entry_id}/bookmark").status_code == 204
    starred = _ok(reader.get("/v1/entries", params={"starred": "true"}))
    assert _ids(starred) == [entry_id] and starred["entries"][0]["starred"] is True
    assert [card.id for card in site.store.follows.bookmarks(user_id)] == [entry_id]
    not_starred = _ok(
        reader.get("/v1/entries", params={"starred": "false", "feed_id": site.sources["alder"]})
    )
    assert entry_id not in _ids(not_starred) and not_starred["total"] == 4
    assert reader.put(f"/v1/entries/{entry_id}/bookmark").status_code == 204  # a toggle
    assert _ok(reader.get("/v1/entries", params={"starred": "1"}))["total"] == 0
    assert site.store.follows.bookmarks(user_id) == []
    # Miniflux 2.2 stars through PUT /v1/entries too.
    both = site.recent["quillon"][:2]
    assert reader.put("/v1/entries", json={"entry_ids": both, "starred": True}).status_code == 204
    assert sorted(_ids(_ok(reader.get("/v1/entries", params={"starred": "true"})))) == sorted(both)


def test_mark_all_as_read_by_feed_category_and_reader(
    site: AppSite, newcomer: Callable[..., httpx.Client]
) -> None:
    reader = newcomer()
    quillon, marrowby, alder = (site.sources[key] for key in ("quillon", "marrowby", "alder"))
    assert reader.put(f"/v1/feeds/{alder}/mark-all-as-read").status_code == 204
    assert _unreads(reader) == {quillon: 5, marrowby: 5, alder: 0}
    world = _category_id(reader, "World")
    assert reader.put(f"/v1/categories/{world}/mark-all-as-read").status_code == 204
    assert _unreads(reader) == {quillon: 0, marrowby: 0, alder: 0}
    with _client(site, "bo", site.passwords["bo"]) as bo:
        assert _unreads(bo)[quillon] == 5
    again = newcomer()
    user_id = _ok(again.get("/v1/me"))["id"]
    _error(again.put(f"/v1/users/{user_id + 1000}/mark-all-as-read"), 403)
    assert again.put(f"/v1/users/{user_id}/mark-all-as-read").status_code == 204
    assert set(_unreads(again).values()) == {0}


# --- changing the library ----------------------------------------------------------------------------------------


def test_categories_made_renamed_and_removed(site: AppSite, newcomer: Callable[..., httpx.Client]) -> None:
    reader = newcomer()
    user_id = _ok(reader.get("/v1/me"))["id"]
    made = _ok(reader.post("/v1/categories", json={"title": "Science"}), 201)
    assert made == {"id": made["id"], "title": "Science", "user_id": user_id, "hide_globally": False}
    assert "already" in _error(reader.post("/v1/categories", json={"title": "Science"}), 400)
    _error(reader.post("/v1/categories", json={"title": "  "}), 400)
    _error(reader.post("/v1/categories", json={"title": 5}), 400)
    renamed = _ok(reader.put(f"/v1/categories/{made['id']}", json={"title": "Nature"}), 201)
    assert renamed["title"] == "Nature"
    assert "already" in _error(reader.put(f"/v1/categories/{made['id']}", json={"title": "World"}), 400)
    _error(reader.put("/v1/categories/999999", json={"title": "Other"}), 404)

    alder = site.sources["alder"]
    moved = _ok(reader.put(f"/v1/feeds/{alder}", json={"category_id": made["id"], "title": "Alder"}), 201)
    assert moved["category"] == renamed and moved["title"] == "Alder"
    assert [f["id"] for f in _ok(reader.get(f"/v1/categories/{made['id']}/feeds"))] == [alder]
    kept = _ok(reader.put(f"/v1/feeds/{alder}", json={"title": ""}), 201)  # an empty title changes nothing
    assert kept["title"] == "Alder"
    _error(reader.put(f"/v1/feeds/{alder}", json={"category_id": 999999}), 400)

    # Removing a category keeps its feeds: they are in no folder, which Miniflux sees as the default category.
    assert reader.delete(f"/v1/categories/{made['id']}").status_code == 204
    assert "Nature" not in {c["title"] for c in _ok(reader.get("/v1/categories"))}
    default = _category_id(reader, "All")
    assert _ok(reader.get(f"/v1/feeds/{alder}"))["category"]["id"] == default
    assert [f["id"] for f in _ok(reader.get(f"/v1/categories/{default}/feeds"))] == [alder]
    in_default = _ok(reader.get(f"/v1/categories/{default}/entries", params={"status": "unread"}))
    assert sorted(_ids(in_default)) == sorted(site.recent["alder"])
    assert reader.put(f"/v1/categories/{default}/mark-all-as-read").status_code == 204
    assert _unreads(reader)[alder] == 0


def test_feeds_added_and_removed(site: AppSite, newcomer: Callable[..., httpx.Client]) -> None:
    reader = newcomer()
    alder = site.sources["alder"]
    assert reader.delete(f"/v1/feeds/{alder}").status_code == 204
    assert alder not in {f["id"] for f in _ok(reader.get("/v1/feeds"))}
    _error(reader.delete(f"/v1/feeds/{alder}"), 404)
    _error(reader.get(f"/v1/feeds/{alder}/entries"), 404)
    assert alder not in _unreads(reader)

    world = _category_id(reader, "World")
    added = _ok(reader.post("/v1/feeds", json={"feed_url": SOURCES["alder"][0], "category_id": world}), 201)
    assert added == {"feed_id": alder}
    assert _ok(reader.get(f"/v1/feeds/{alder}"))["category"]["id"] == world
    assert "already" in _error(reader.post("/v1/feeds", json={"feed_url": SOURCES["alder"][0]}), 400)
    refused = _error(reader.post("/v1/feeds", json={"feed_url": "https://unknown.example/feed.xml"}), 400)
    assert "only an admin adds sources" in refused
    _error(reader.post("/v1/feeds", json={"feed_url": "not an address"}), 400)
    _error(reader.post("/v1/feeds", json={"category_id": world}), 400)
    assert reader.delete(f"/v1/feeds/{alder}").status_code == 204
    _error(reader.post("/v1/feeds", json={"feed_url": SOURCES["alder"][0], "category_id": 999999}), 400)
    # By the site's address, into the default category; articles older than the backlog count as read.
    assert _ok(reader.post("/v1/feeds", json={"feed_url": "https://alder.example/"}), 201) == {
        "feed_id": alder
    }
    assert _ok(reader.get(f"/v1/feeds/{alder}"))["category"]["title"] == "All"
    assert _unreads(reader)[alder] == 5


def test_a_followed_story_is_a_category_of_its_coverage(
    site: AppSite, newcomer: Callable[..., httpx.Client]
) -> None:
    reader = newcomer()
    user_id = _ok(reader.get("/v1/me"))["id"]
    members = [site.recent["quillon"][2], site.recent["alder"][2]]
    story_id = site.store.stories.max_id() + 1
    update = StoryUpdate(id=story_id, headline_id=members[0], first_seen=NOW - timedelta(hours=3),
                         last_seen=NOW - timedelta(hours=3), article_count=2, outlet_count=2)  # fmt: skip
    site.store.stories.record([update], [(article_id, story_id) for article_id in members])
    assert reader.delete(f"/v1/feeds/{site.sources['alder']}").status_code == 204  # coverage from elsewhere
    site.store.follows.follow(user_id, "story", str(story_id), "The crane", NOW)

    category = _category_id(reader, "Story: The crane")
    assert _ok(reader.get(f"/v1/categories/{category}/feeds")) == []
    counted = {c["id"]: c for c in _ok(reader.get("/v1/categories", params={"counts": "true"}))}
    assert counted[category]["total_unread"] == 2
    coverage = _ok(reader.get(f"/v1/categories/{category}/entries", params={"direction": "desc"}))
    assert _ids(coverage) == sorted(members, reverse=True)
    outside = next(e for e in coverage["entries"] if e["id"] == members[1])
    assert outside["feed"]["title"] == "The Alder Gazette"
    assert outside["feed"]["category"]["id"] == category
    one_feed = _ok(
        reader.get(f"/v1/categories/{category}/entries", params={"feed_id": site.sources["quillon"]})
    )
    assert _ids(one_feed) == [members[0]]
    assert _ok(reader.get(f"/v1/categories/{category}/entries/{members[1]}"))["id"] == members[1]

    assert reader.put(f"/v1/categories/{category}/mark-all-as-read").status_code == 204
    assert _ok(reader.get(f"/v1/categories/{category}/entries", params={"status": "unread"}))["total"] == 0
    _error(reader.put(f"/v1/categories/{category}", json={"title": "Mine"}), 400)
    assert reader.delete(f"/v1/categories/{category}").status_code == 204  # stops following the story
    assert not [f for f in site.store.follows.follows(user_id) if f.kind == "story"]
    assert "Story: The crane" not in {c["title"] for c in _ok(reader.get("/v1/categories"))}


def test_refresh_and_export(site: AppSite, ada: httpx.Client) -> None:
    assert ada.put("/v1/feeds/refresh").status_code == 204
    assert ada.put(f"/v1/feeds/{site.sources['quillon']}/refresh").status_code == 204
    assert ada.put(f"/v1/categories/{_category_id(ada, 'World')}/refresh").status_code == 204
    _error(ada.put("/v1/feeds/999999/refresh"), 404)
    opml = ada.get("/v1/export")
    assert opml.status_code == 200
    assert all(url in opml.text for url, *_ in SOURCES.values())


def test_category_names_are_bounded(site: AppSite) -> None:
    with httpx.Client(base_url=site.url, auth=("bo", site.passwords["bo"]), timeout=10) as bo:
        answer = bo.post("/v1/categories", json={"title": "z" * 201})
        assert answer.status_code == 400 and "at most 200 characters" in answer.json()["error_message"]


def test_marking_more_than_ten_thousand_entries_at_once_is_refused_with_what_to_do(site: AppSite) -> None:
    with httpx.Client(base_url=site.url, auth=("bo", site.passwords["bo"]), timeout=10) as bo:
        answer = bo.put("/v1/entries", json={"entry_ids": list(range(1, 10_002)), "status": "read"})
        assert answer.status_code == 400 and "another request" in answer.json()["error_message"]


def test_answers_are_never_kept_by_a_cache(site: AppSite) -> None:
    with httpx.Client(base_url=site.url, auth=("ada", site.passwords["ada"]), timeout=10) as ada:
        for answer in (ada.get("/v1/me"), ada.get("/v1/feeds/999999")):
            assert answer.headers["cache-control"] == "no-store", answer.status_code
