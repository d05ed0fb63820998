"""The Google Reader API as apps use it, over real HTTP on both back ends: ClientLogin with an app password, the
T token, subscriptions and labels, unread counts, stream contents and item ids with their filters and
continuations, item contents by long and short ids, edit-tag, mark-all-as-read, and a followed story as a label."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from appsite import NOW, AppSite, app_site
from sqlalchemy import update

from broadsheet.store.schema import articles, stories
from broadsheet.web.apps.greader import item_id, long_item_id

API = "/reader/api/0"
READ = "user/-/state/com.google/read"
STARRED = "user/-/state/com.google/starred"
READING = "user/-/state/com.google/reading-list"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


_CLIENTS: list[httpx.Client] = []


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, module_database_url: str) -> Iterator[AppSite]:
    with app_site(tmp_path_factory.mktemp("greader"), module_database_url) as found:
        yield found
        while _CLIENTS:
            _CLIENTS.pop().close()


class Reader:
    """An app signed in through ClientLogin, as Reeder or NetNewsWire do."""

    def __init__(self, site: AppSite, name: str) -> None:
        self.http = httpx.Client(base_url=site.url, timeout=10)
        _CLIENTS.append(self.http)
        answer = self.http.post("/accounts/ClientLogin", data={"Email": name, "Passwd": site.passwords[name]})
        assert answer.status_code == 200, answer.text
        auth = dict(line.split("=", 1) for line in answer.text.splitlines())["Auth"]
        self.http.headers["Authorization"] = f"GoogleLogin auth={auth}"
        self.token = self.http.get(f"{API}/token").text.strip()

    def get(self, path: str, **params: Any) -> Any:
        answer = self.http.get(API + path, params={"output": "json", **params})
        assert answer.status_code == 200, answer.text
        return answer.json()

    def post(self, path: str, data: list[tuple[str, str]]) -> httpx.Response:
        return self.http.post(API + path, content=urlencode([*data, ("T", self.token)]), headers=FORM)

    def ids(self, stream: str = READING, **params: Any) -> list[int]:
        found = self.get("/stream/items/ids", s=stream, n=1000, **params)
        return [int(ref["id"]) for ref in found["itemRefs"]]

    def unread(self, stream: str = READING) -> set[int]:
        return set(self.ids(stream, xt=READ))

    def counts(self) -> dict[str, int]:
        return {row["id"]: row["count"] for row in self.get("/unread-count")["unreadcounts"]}


@pytest.fixture(scope="module")
def ada(site: AppSite) -> Reader:
    return Reader(site, "ada")


def test_client_login_takes_the_name_and_an_app_password_only(site: AppSite) -> None:
    web = httpx.Client(base_url=site.url, timeout=10)
    _CLIENTS.append(web)
    wrong = [("ada", "not-it"), ("bo", site.passwords["ada"]), ("ada", "a long enough secret"), ("", "")]
    for name, password in wrong:  # another reader's name with ada's password; ada's account password
        answer = web.post("/accounts/ClientLogin", data={"Email": name, "Passwd": password})
        assert (answer.status_code, answer.text) == (401, "Error=BadAuthentication\n")
    assert (
        web.post("/accounts/ClientLogin", data={"Email": "ADA", "Passwd": site.passwords["ada"]}).status_code
        == 200
    )
    for headers in [
        {},
        {"Authorization": "GoogleLogin auth=nope"},
        {"Authorization": f"Bearer {site.passwords['ada']}"},
    ]:
        answer = web.get(f"{API}/subscription/list", headers=headers)
        assert answer.status_code == 401 and "app password" in answer.text
        assert answer.headers["cache-control"] == "no-store"


def test_a_wrong_t_token_is_refused_and_says_so(site: AppSite, ada: Reader) -> None:
    answer = ada.http.post(f"{API}/edit-tag", data={"i": "1", "a": READ, "T": "stale"})
    assert answer.status_code == 401 and answer.headers["x-reader-google-bad-token"] == "true"
    assert ada.get("/user-info")["userName"] == "ada"


def test_subscriptions_labels_and_counts_are_the_readers(site: AppSite, ada: Reader) -> None:
    subs = ada.get("/subscription/list")["subscriptions"]
    assert {(s["id"], s["title"], tuple(c["label"] for c in s["categories"])) for s in subs} == {
        (f"feed/{site.sources['quillon']}", "Quillon Daily", ("World",)),
        (f"feed/{site.sources['marrowby']}", "Marrowby Herald", ("World",)),
        (f"feed/{site.sources['alder']}", "The Alder Gazette", ("All",)),
    }
    tags = {t["id"] for t in ada.get("/tag/list")["tags"]}
    assert tags == {STARRED, "user/-/label/World", "user/-/label/All"}
    counts = Reader(site, "bo").counts()  # bo has touched nothing
    assert counts[READING] == 15 and counts["user/-/label/World"] == 10
    assert counts[f"feed/{site.sources['quillon']}"] == 5  # its two month-old pieces came read
    opml = ada.http.get(f"{API}/subscription/export")
    assert opml.status_code == 200 and 'xmlUrl="https://alder.example/atom.xml"' in opml.text


def test_stream_contents_pages_with_continuations_and_filters(site: AppSite, ada: Reader) -> None:
    quillon = f"feed/{site.sources['quillon']}"
    first = ada.get(f"/stream/contents/{quillon}", n=4)
    assert len(first["items"]) == 4 and first["continuation"]
    second = ada.get(f"/stream/contents/{quillon}", n=4, c=first["continuation"])
    ids = [item_id(i["id"]) for i in first["items"] + second["items"]]
    assert ids == site.recent["quillon"] + site.old["quillon"][::-1]  # newest first, each once, to the oldest
    assert "continuation" not in second
    item = first["items"][0]
    assert item["origin"]["streamId"] == quillon and item["origin"]["title"] == "Quillon Daily"
    assert item["alternate"][0]["href"].startswith("https://quillon.example/news/")
    assert READING in item["categories"] and "user/-/label/World" in item["categories"]
    assert "council of Quillon Daily" in item["summary"]["content"]
    oldest = ada.get(f"/stream/contents/{quillon}", n=1, r="o")["items"][0]
    assert item_id(oldest["id"]) == site.old["quillon"][0]
    # by label, by the reading list with time bounds (ot/nt in seconds), and the read ones
    world = ada.ids("user/-/label/World")
    assert set(world) == {*site.recent["quillon"], *site.recent["marrowby"], *site.old["quillon"]}
    window = ada.ids(ot=int((NOW - timedelta(hours=2, minutes=30)).timestamp()), nt=int(NOW.timestamp()))
    assert set(window) == {site.recent[k][0] for k in site.recent} | {site.recent[k][1] for k in site.recent}
    assert set(ada.ids(READ)) >= set(site.old["quillon"])
    assert ada.ids("user/-/label/Nonesuch") == [] and ada.ids("feed/99999") == []
    # the same through stream/contents without a stream in the path, and through the feed's address
    assert len(ada.get("/stream/contents", s=READING, n=100)["items"]) == 17
    assert ada.ids("feed/https://quillon.example/feed.xml") == ids


def test_items_by_long_and_short_ids_and_edit_tag(site: AppSite) -> None:
    bo = Reader(site, "bo")
    one, two = site.recent["alder"][:2]
    signed = str(one - 2**64)  # some apps send ids as signed 64-bit numbers
    found = bo.post("/stream/items/contents", [("i", long_item_id(one)), ("i", str(two)), ("i", "x")])
    assert [item_id(i["id"]) for i in found.json()["items"]] == [one, two]
    assert item_id(signed) is None or item_id(signed) == one
    assert bo.post("/edit-tag", [("i", long_item_id(one)), ("i", str(two)), ("a", READ)]).text == "OK"
    assert not {one, two} & bo.unread()
    assert (
        bo.post(
            "/edit-tag", [("i", str(two)), ("r", READ), ("a", "user/-/state/com.google/kept-unread")]
        ).text
        == "OK"
    )
    assert two in bo.unread()
    # starred is the site's bookmark, both ways
    assert bo.post("/edit-tag", [("i", str(one)), ("a", STARRED)]).status_code == 200
    assert bo.ids(STARRED) == [one]
    assert [c.id for c in site.store.follows.bookmarks(site.user_id("bo"))] == [one]
    site.store.follows.bookmark(site.user_id("bo"), two, NOW)
    assert set(bo.ids(READING, it=STARRED)) == {one, two}
    assert bo.post("/edit-tag", [("i", str(one)), ("r", STARRED)]).status_code == 200
    assert bo.ids(STARRED) == [two]
    assert bo.post("/edit-tag", [("a", READ)]).status_code == 400  # no items named


def test_mark_all_as_read_by_feed_label_and_time(site: AppSite) -> None:
    bo = Reader(site, "bo")
    marrowby = f"feed/{site.sources['marrowby']}"
    cutoff = NOW - timedelta(hours=2, minutes=30)  # the two newest were fetched after it
    answer = bo.post("/mark-all-as-read", [("s", marrowby), ("ts", str(int(cutoff.timestamp() * 1_000_000)))])
    assert answer.text == "OK"
    assert bo.unread(marrowby) == set(site.recent["marrowby"][:2])
    assert bo.post("/mark-all-as-read", [("s", "user/-/label/World")]).text == "OK"
    assert bo.unread("user/-/label/World") == set()
    assert bo.unread(f"feed/{site.sources['alder']}")  # another label's feed is untouched
    assert bo.post("/mark-all-as-read", [("s", "user/-/label/Nonesuch")]).status_code == 404
    assert Reader(site, "ada").unread(marrowby) == set(site.recent["marrowby"])  # ada's own state


def test_subscribe_edit_and_unsubscribe(site: AppSite) -> None:
    bo = Reader(site, "bo")
    alder = f"feed/{site.sources['alder']}"
    edit = [("ac", "edit"), ("s", alder), ("t", "Alder"), ("a", "user/-/label/Local")]
    assert bo.post("/subscription/edit", edit).text == "OK"
    sub = next(s for s in bo.get("/subscription/list")["subscriptions"] if s["id"] == alder)
    assert sub["title"] == "Alder" and [c["label"] for c in sub["categories"]] == ["Local"]
    assert bo.post("/subscription/edit", [("ac", "unsubscribe"), ("s", alder)]).text == "OK"
    assert alder not in {s["id"] for s in bo.get("/subscription/list")["subscriptions"]}
    # a source of the site comes back by its address; one the site lacks needs the operator
    added = bo.post("/subscription/quickadd", [("quickadd", "https://alder.example/atom.xml")])
    assert added.json()["streamId"] == alder
    refused = bo.post("/subscription/quickadd", [("quickadd", "https://elsewhere.example/feed")])
    assert refused.status_code == 400 and "ask the operator" in refused.json()["error"]
    assert bo.post("/rename-tag", [("s", "user/-/label/Local"), ("dest", "user/-/label/Near")]).text == "OK"
    assert "user/-/label/Near" in {t["id"] for t in bo.get("/tag/list")["tags"]}
    assert bo.post("/disable-tag", [("s", "user/-/label/Near")]).text == "OK"
    assert bo.post("/subscription/edit", [("ac", "unsubscribe"), ("s", "feed/99999")]).status_code == 404


def test_a_followed_story_is_a_label_of_its_coverage_from_every_outlet(site: AppSite, ada: Reader) -> None:
    members = [site.recent["quillon"][2], site.recent["marrowby"][2], site.recent["alder"][2]]
    with site.store.engine.begin() as conn:
        story_id = conn.execute(stories.insert().values(title="The harbour crane", first_seen=NOW, last_seen=NOW)
                                .returning(stories.c.id)).scalar_one()  # fmt: skip
        conn.execute(update(articles).where(articles.c.id.in_(members)).values(story_id=story_id))
    ada_id = site.user_id("ada")
    site.store.follows.follow(ada_id, "story", str(story_id), "The harbour crane", NOW)
    label = "user/-/label/Story: The harbour crane"
    tags = {t["id"]: t.get("type") for t in ada.get("/tag/list")["tags"]}
    assert tags[label] == "tag"
    assert set(ada.ids(label)) == set(members)
    item = ada.get(f"/stream/contents/{label}")["items"][0]
    assert label in item["categories"]
    assert ada.counts()[label] == len(members)  # all unread: ada marked none of them
    assert ada.post("/disable-tag", [("s", label)]).text == "OK"  # dropping the label unfollows the story
    assert site.store.follows.state(ada_id, "story", str(story_id)) == ""
    assert label not in {t["id"] for t in ada.get("/tag/list")["tags"]}


def test_atom_streams_for_feedhq_clients(site: AppSite, ada: Reader) -> None:
    quillon = site.sources["quillon"]
    answer = ada.http.get(f"/reader/atom/feed%2F{quillon}", params={"n": 2})
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("application/atom+xml")
    assert answer.text.count("<entry>") == 2 and "<title>Quillon Daily</title>" in answer.text
    assert long_item_id(site.recent["quillon"][0]) in answer.text
    assert answer.headers["cache-control"] == "no-store"
    assert httpx.get(f"{site.url}/reader/atom/feed%2F{quillon}").status_code == 401


def test_labels_on_single_items_join_the_labels_stream(site: AppSite) -> None:
    bo = Reader(site, "bo")
    picked = [site.recent["alder"][0], site.recent["quillon"][1]]
    assert (
        bo.post("/edit-tag", [("i", str(picked[0])), ("i", str(picked[1])), ("a", "user/-/label/Keep")]).text
        == "OK"
    )
    assert "user/-/label/Keep" in {t["id"] for t in bo.get("/tag/list")["tags"]}
    assert set(bo.ids("user/-/label/Keep")) == set(picked)
    assert bo.post("/edit-tag", [("i", str(picked[0])), ("i", str(picked[1])), ("r", READ)]).text == "OK"
    assert bo.counts()["user/-/label/Keep"] == 2  # a label counts its own unread items
    item = bo.get("/stream/contents/user/-/label/Keep", n=5)["items"][0]
    assert "user/-/label/Keep" in item["categories"]
    # A folder's label: its feeds' entries and the entries labelled with it, merged newest first.
    alder = site.recent["alder"][0]
    assert bo.post("/edit-tag", [("i", str(alder)), ("a", "user/-/label/World")]).text == "OK"
    in_world = bo.ids("user/-/label/World")
    assert alder in in_world and set(site.recent["marrowby"]) <= set(in_world)
    assert in_world == sorted(in_world, reverse=True)
    assert bo.post("/edit-tag", [("i", str(picked[0])), ("r", "user/-/label/Keep")]).text == "OK"
    assert bo.ids("user/-/label/Keep") == [picked[1]]
    assert bo.post("/mark-all-as-read", [("s", "user/-/label/Keep")]).text == "OK"
    assert picked[1] not in bo.unread()
    assert bo.post("/disable-tag", [("s", "user/-/label/Keep")]).text == "OK"  # the label goes with its picks
    assert bo.ids("user/-/label/Keep") == []


def test_label_names_are_bounded(site: AppSite) -> None:
    bo = Reader(site, "bo")
    one = str(site.recent["alder"][1])
    too_long = bo.post("/edit-tag", [("i", one), ("a", "user/-/label/" + "x" * 201)])
    assert too_long.status_code == 400 and "at most 200 characters" in too_long.text
    control = bo.post("/edit-tag", [("i", one), ("a", "user/-/label/bad\x01name")])
    assert control.status_code == 400 and "control characters" in control.text
    # A right-to-left override would turn the label names an app lists after it around.
    turned = bo.post("/edit-tag", [("i", one), ("a", "user/-/label/Keep\u202emid")])
    assert turned.status_code == 400 and "invisible formatting" in turned.text
    move = [("ac", "edit"), ("s", f"feed/{site.sources['marrowby']}"), ("a", "user/-/label/" + "y" * 300)]
    assert bo.post("/subscription/edit", move).status_code == 400
    assert not any(len(t["id"]) > 220 for t in bo.get("/tag/list")["tags"])


def test_edit_tag_takes_at_most_ten_thousand_items(site: AppSite) -> None:
    bo = Reader(site, "bo")
    answer = bo.post("/edit-tag", [*(("i", str(n)) for n in range(1, 10_002)), ("a", READ)])
    assert answer.status_code == 400 and "another request" in answer.text
    # Thousands at once is what apps send (more form fields than Starlette takes by default).
    many = bo.post("/edit-tag", [*(("i", str(n)) for n in range(1, 5_001)), ("a", READ)])
    assert many.text == "OK" and bo.unread() == set()
