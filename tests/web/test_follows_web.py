"""Follows, mutes, bookmarks, reading history and For You, as readers use them: the buttons on the outlet, story
and article pages, /foryou, /following, /bookmarks and the /api/v1/me routes; over HTTP against a real server on
both back ends, on invented coverage clustered by the real model."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from readersite import Forum, csrf_of
from sqlalchemy import func, select
from website import MODELS_DIR, running

from broadsheet.config import Settings
from broadsheet.pipeline.ingest import Ingester
from broadsheet.pipeline.jsonl import import_jsonl
from broadsheet.pipeline.stories import StoryBuilder
from broadsheet.store import Store
from broadsheet.store.schema import reads
from broadsheet.web import create_app
from broadsheet.web.timefmt import iso
from storyset import EXPECTED, coverage

# The day after the bridge story: all four stories are recent (hottest first: strike, bridge, tunnel, orchard).
NOW = datetime(2026, 11, 3, 6, tzinfo=UTC)
TOP = "Among the top stories now."


@dataclass
class Site:
    forum: Forum  # its readers sign up, sign in and make tokens through the real forms
    ids: dict[str, int]  # storyset key -> article id
    stories: dict[str, int]  # gold story ("bridge") -> its story id

    def user_id(self, name: str) -> int:
        user = self.forum.store.accounts.user_by_name(name)
        assert user is not None
        return user.id


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, module_database_url: str) -> Iterator[Site]:
    """The coverage on each back end in turn (conftest.module_database_url): bridge (four outlets), strike
    (Marrowby Herald twice, Quillon Daily), tunnel (Quillon Daily alone), orchard (Alder Gazette alone)."""
    home = tmp_path_factory.mktemp("followhome")
    settings = Settings(home=home, database_url=module_database_url, crawl_in_server=False,
                        models_dir=MODELS_DIR, logins_per_minute=6000)  # fmt: skip
    store = Store.open(settings.database)
    data = home / "coverage.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in coverage()))
    import_jsonl(data, Ingester(store, settings))
    StoryBuilder(store, settings).run()
    articles = {a.url.rsplit("/", 1)[1]: a for a in store.articles.iter_all()}
    ids = {key: a.id for key, a in articles.items() if a.id is not None}
    stories = {EXPECTED[key]: a.story_id for key, a in articles.items() if a.story_id is not None}
    assert len(stories) == 4 and len(set(stories.values())) == 4, stories  # clustered as the gold says
    app = create_app(settings, store=store)
    app.state.context.clock = lambda: NOW
    forum: Forum | None = None
    try:
        with running(app) as url:
            forum = Forum(url, store, settings, app, sorted(ids.values()))
            yield Site(forum, ids, stories)
    finally:
        for client in forum.clients if forum else []:
            client.close()
        store.close()


# --- a browser's forms ------------------------------------------------------------------------------------------

_FORM = re.compile(r'<form[^>]* method="post" action="([^"]+)"[^>]*>(.*?)</form>', re.S)
_HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')
_BUTTON = re.compile(r'<button type="submit"(?: name="([^"]+)" value="([^"]+)")?[^>]*>([^<]+)</button>')


def buttons(page: str, action: str = "/follow") -> list[str]:
    """The labels of the page's buttons in forms posting to `action`."""
    return [
        text.strip()
        for to, body in _FORM.findall(page)
        if to == action
        for *_n, text in _BUTTON.findall(body)
    ]


def press(browser: httpx.Client, path: str, label: str, within: str = "") -> httpx.Response:
    """Load `path` and press its button labelled `label` (in the form whose HTML contains `within`), sending
    the form's hidden fields as a browser would."""
    page = browser.get(path)
    assert page.status_code == 200, page.text
    for action, body in _FORM.findall(page.text):
        for name, value, text in _BUTTON.findall(body):
            if text.strip() == label and within in f'action="{action}"{body}':
                data = {k: html.unescape(v) for k, v in _HIDDEN.findall(body)}
                if name:
                    data[name] = value
                return browser.post(html.unescape(action), data=data)
    raise AssertionError(f"no button {label!r} on {path}: {buttons(page.text)}")


def for_you(browser: httpx.Client) -> list[tuple[int, str]]:
    """The /foryou page's picks: (story id, why it is there), in order."""
    page = browser.get("/foryou")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    section = page.text.split('aria-label="Stories for you"', 1)[1].split("</section>", 1)[0]
    picks = []
    for block in section.split('<div class="pick">')[1:]:
        story = re.search(r'href="/stories/(\d+)"', block)
        why = block.split('<p class="why">', 1)[1].split("</p>", 1)[0]
        assert story and why.startswith('<span class="visually-hidden">Why you see this: </span>'), block
        reasons = html.unescape(re.sub(r"<[^>]+>", "", why)).removeprefix("Why you see this: ")
        picks.append((int(story.group(1)), reasons))
    return picks


# --- follows and For You ----------------------------------------------------------------------------------------


def test_following_an_outlet_then_a_story_puts_them_first_on_for_you_with_reasons(site: Site) -> None:
    s = site.stories
    fan = site.forum.signup("fan")
    fresh = fan.get("/foryou").text
    assert "Follow outlets, tags, people and stories" in fresh
    assert for_you(fan) == [(s[k], TOP) for k in ("strike", "bridge", "tunnel", "orchard")]

    outlet = "/outlets/marrowby-herald"
    assert buttons(fan.get(outlet).text) == ["Follow", "Mute"]
    followed = press(fan, outlet, "Follow")
    assert followed.status_code == 303 and followed.headers["location"] == outlet
    mine = fan.get(outlet)
    assert buttons(mine.text) == ["Following ✓", "Mute"] and mine.headers["cache-control"] == "no-store"
    # Anonymous readers share one cached page, with the plain button: never the signed-in reader's.
    with httpx.Client(base_url=site.forum.url, timeout=10) as anonymous:
        public = anonymous.get(outlet)
        assert public.status_code == 200 and buttons(public.text) == ["Follow", "Mute"]
        assert public.headers["cache-control"] == "no-cache" and public.headers["etag"]
        again = anonymous.get(outlet, headers={"If-None-Match": public.headers["etag"]})
        assert again.status_code == 304

    outlet_first = [(s["strike"], "From Marrowby Herald, which you follow."),
                    (s["bridge"], "From Marrowby Herald, which you follow.")]  # fmt: skip
    assert for_you(fan) == [*outlet_first, (s["tunnel"], TOP), (s["orchard"], TOP)]
    assert "Follow outlets, tags, people and stories" not in fan.get("/foryou").text

    story = f"/stories/{s['tunnel']}"
    assert buttons(fan.get(story).text) == ["Follow"]
    followed = press(fan, story, "Follow")
    assert followed.status_code == 303 and followed.headers["location"] == story
    assert buttons(fan.get(story).text) == ["Following ✓"]
    assert for_you(fan) == [(s["tunnel"], "You follow this story."), *outlet_first, (s["orchard"], TOP)]


def test_muted_outlets_take_out_stories_all_of_whose_articles_they_published_until_unmuted(
    site: Site,
) -> None:
    s = site.stories
    muter = site.forum.signup("muter")

    def shown() -> list[int]:
        return [story for story, _why in for_you(muter)]

    assert press(muter, "/outlets/quillon-daily", "Mute").status_code == 303
    assert buttons(muter.get("/outlets/quillon-daily").text) == ["Follow", "Muted: unmute"]
    # The tunnel is Quillon Daily's alone; the strike has Marrowby Herald's articles too.
    assert shown() == [s["strike"], s["bridge"], s["orchard"]]
    assert press(muter, "/outlets/marrowby-herald", "Mute").status_code == 303
    # Now every article of the strike is from one muted outlet or the other; the bridge has two more outlets.
    assert shown() == [s["bridge"], s["orchard"]]
    # A story the reader follows stays, however muted its outlets.
    assert press(muter, f"/stories/{s['tunnel']}", "Follow").status_code == 303
    assert for_you(muter)[0] == (s["tunnel"], "You follow this story.")

    following = muter.get("/following")
    assert following.headers["cache-control"] == "no-store"
    items = re.findall(r'<li><a href="([^"]+)">([^<]+)</a> <span class="meta">([^<]+)</span>', following.text)
    tunnel_title = muter.get(f"/api/v1/stories/{s['tunnel']}").json()["title"]
    assert items == [("/outlets/marrowby-herald", "Marrowby Herald", "Outlets · muted"),
                     ("/outlets/quillon-daily", "Quillon Daily", "Outlets · muted"),
                     (f"/stories/{s['tunnel']}", tunnel_title, "Stories")]  # fmt: skip
    assert buttons(following.text) == ["Unmute", "Unmute", "Unfollow"]

    unmuted = press(muter, "/following", "Unmute", within='value="quillon-daily"')
    assert unmuted.status_code == 303 and unmuted.headers["location"] == "/following"
    assert "Quillon Daily" not in muter.get("/following").text
    assert shown() == [s["tunnel"], s["strike"], s["bridge"], s["orchard"]]  # strike-2 is Quillon Daily's
    assert press(muter, "/following", "Unmute", within='value="marrowby-herald"').status_code == 303
    assert press(muter, "/following", "Unfollow", within=f'value="{s["tunnel"]}"').status_code == 303
    assert "Nothing yet" in muter.get("/following").text
    assert for_you(muter) == [(s[k], TOP) for k in ("strike", "bridge", "tunnel", "orchard")]


def test_following_what_does_not_exist_is_404_and_a_follow_needs_csrf_and_a_reader(site: Site) -> None:
    stranger = site.forum.signup("stranger")
    token = csrf_of(stranger.get("/account").text)
    for kind, key in [("outlet", "no-such-outlet"), ("story", "999999"), ("story", "12abc"),
                      ("tag", "no-such-tag"), ("entity", "nobody-at-all")]:  # fmt: skip
        for action in ("follow", "mute"):
            answer = stranger.post(
                "/follow", data={"csrf": token, "kind": kind, "key": key, "action": action}
            )
            assert answer.status_code == 404, (kind, key, action, answer.text)
    forged = {"kind": "outlet", "key": "alder-gazette", "action": "follow", "next": "/outlets/alder-gazette"}
    assert stranger.post("/follow", data=forged).status_code == 403
    assert stranger.post("/follow", data={**forged, "csrf": "1.forged"}).status_code == 403
    assert site.forum.store.follows.follows(site.user_id("stranger")) == []
    assert "Nothing yet" in stranger.get("/following").text

    # Not signed in, every button and personal page leads to sign-in, and back.
    with httpx.Client(base_url=site.forum.url, timeout=10, headers={"Origin": site.forum.url}) as anonymous:
        story, article = f"/stories/{site.stories['bridge']}", f"/articles/{site.ids['orchard']}"
        for path, label in [("/outlets/alder-gazette", "Follow"), ("/outlets/alder-gazette", "Mute"),
                            (story, "Follow"), (article, "Bookmark")]:  # fmt: skip
            answer = press(anonymous, path, label)
            assert answer.status_code == 303 and answer.headers["location"] == f"/signin?next={path}"
        elsewhere = anonymous.post("/follow", data={**forged, "next": "//evil.example/"})
        assert elsewhere.headers["location"] == "/signin?next=/"
        for page in ("/foryou", "/following", "/bookmarks"):
            answer = anonymous.get(page)
            assert answer.status_code == 303 and answer.headers["location"] == f"/signin?next={page}"


def test_bookmarks_from_the_article_page_are_listed_and_removable(site: Site) -> None:
    keeper = site.forum.signup("keeper")
    token = site.forum.token_for(keeper)
    api = site.forum.api(token)
    orchard = site.ids["orchard"]
    article = f"/articles/{orchard}"
    form = f"{article}/bookmark"
    assert buttons(keeper.get(article).text, form) == ["Bookmark"]
    kept = press(keeper, article, "Bookmark")
    assert kept.status_code == 303 and kept.headers["location"] == article
    page = keeper.get(article)
    assert buttons(page.text, form) == ["Bookmarked ✓"] and page.headers["cache-control"] == "no-store"
    with httpx.Client(base_url=site.forum.url, timeout=10) as anonymous:
        assert buttons(anonymous.get(article).text, form) == ["Bookmark"]

    listed = keeper.get("/bookmarks").text
    assert f'href="/articles/{orchard}"' in listed and "Brambleford orchard grows record apple" in listed
    assert [b["id"] for b in api.get("/api/v1/me/bookmarks").json()] == [orchard]
    removed = press(keeper, "/bookmarks", "Remove bookmark", within=f'action="{form}"')
    assert removed.status_code == 303
    assert "No bookmarks yet" in keeper.get("/bookmarks").text
    assert api.get("/api/v1/me/bookmarks").json() == []
    assert buttons(keeper.get(article).text, form) == ["Bookmark"]
    missing = keeper.post("/articles/999999/bookmark", data={"csrf": csrf_of(keeper.get(article).text)})
    assert missing.status_code == 404
    assert keeper.post(f"{article}/bookmark", data={"action": "add"}).status_code == 403
    assert api.get("/api/v1/me/bookmarks").json() == []


def test_signed_in_article_visits_are_reading_history_and_anonymous_ones_are_not(site: Site) -> None:
    def kept() -> int:
        with site.forum.store.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(reads)).scalar_one())

    before = kept()
    tunnel = site.ids["tunnel"]
    with httpx.Client(base_url=site.forum.url, timeout=10) as anonymous:
        # A query the cache keys on, seen nowhere else: the app renders the page, not the cache.
        assert anonymous.get(f"/articles/{tunnel}?comments=top").status_code == 200
    assert kept() == before

    reader = site.forum.signup("historian")
    api = site.forum.api(site.forum.token_for(reader))
    assert api.get("/api/v1/me/data").json()["reading_history"] == []
    assert reader.get(f"/articles/{tunnel}").status_code == 200
    user = site.user_id("historian")
    assert site.forum.store.follows.history(user, NOW - timedelta(days=1)) == [
        (tunnel, site.stories["tunnel"], NOW)
    ]
    assert kept() == before + 1
    history = api.get("/api/v1/me/data").json()["reading_history"]
    assert history == [{"article_id": tunnel, "story_id": site.stories["tunnel"], "at": iso(NOW)}]
    # A story every article of which the reader opened sinks to the bottom of For You.
    picks = api.get("/api/v1/me/foryou").json()
    assert picks[-1]["story"]["id"] == site.stories["tunnel"]


# --- the JSON API -----------------------------------------------------------------------------------------------


def test_the_me_api_follows_mutes_bookmarks_and_ranks_for_you(site: Site) -> None:
    s = site.stories
    api = site.forum.api(site.forum.token_for(site.forum.signup("scripter")))
    follow = "/api/v1/me/follows/outlet/quillon-daily"
    assert api.put(follow, json={"mute": False}).status_code == 204
    listed = api.get("/api/v1/me/follows").json()
    assert [{k: f[k] for k in ("kind", "key", "name", "mute")} for f in listed] == [
        {"kind": "outlet", "key": "quillon-daily", "name": "Quillon Daily", "mute": False}
    ]
    assert listed[0]["created_at"].startswith("2026-11-03T06:00:00")
    picks = api.get("/api/v1/me/foryou").json()
    assert [(p["story"]["id"], p["reasons"], p["personal"]) for p in picks] == [
        (s["strike"], ["From Quillon Daily, which you follow."], True),
        (s["bridge"], ["From Quillon Daily, which you follow."], True),
        (s["tunnel"], ["From Quillon Daily, which you follow."], True),
        (s["orchard"], [TOP], False),
    ]
    assert [p["story"]["id"] for p in api.get("/api/v1/me/foryou?limit=1").json()] == [s["strike"]]

    assert api.put(follow, json={"mute": True}).status_code == 204
    assert [f["mute"] for f in api.get("/api/v1/me/follows").json()] == [True]
    # The tunnel is Quillon Daily's alone; the strike and the bridge have other outlets' articles.
    muted = api.get("/api/v1/me/foryou").json()
    assert [(p["story"]["id"], p["personal"]) for p in muted] == [
        (s[k], False) for k in ("strike", "bridge", "orchard")
    ]
    assert api.delete(follow).status_code == 204
    assert api.get("/api/v1/me/follows").json() == []
    assert api.delete(follow).status_code == 204  # stopping what is not followed is done already
    assert api.put("/api/v1/me/follows/outlet/no-such-outlet", json={}).status_code == 404
    assert api.put("/api/v1/me/follows/story/999999", json={}).status_code == 404
    assert api.put("/api/v1/me/follows/planet/mars", json={}).status_code == 422
    assert api.get("/api/v1/me/follows").json() == []

    bridge = site.ids["bridge-1"]
    assert api.put(f"/api/v1/me/bookmarks/{bridge}").status_code == 204
    assert api.put(f"/api/v1/me/bookmarks/{bridge}").status_code == 204
    assert [b["id"] for b in api.get("/api/v1/me/bookmarks").json()] == [bridge]
    assert api.delete(f"/api/v1/me/bookmarks/{bridge}").status_code == 204
    assert api.get("/api/v1/me/bookmarks").json() == []
    assert api.put("/api/v1/me/bookmarks/999999").status_code == 404


def test_the_me_api_needs_credentials_and_answers_for_the_caller_alone(site: Site) -> None:
    routes = [("GET", "/api/v1/me/follows"), ("PUT", "/api/v1/me/follows/outlet/alder-gazette"),
              ("DELETE", "/api/v1/me/follows/outlet/alder-gazette"), ("GET", "/api/v1/me/bookmarks"),
              ("PUT", f"/api/v1/me/bookmarks/{site.ids['orchard']}"),
              ("DELETE", f"/api/v1/me/bookmarks/{site.ids['orchard']}"), ("GET", "/api/v1/me/foryou"),
              ("GET", "/api/v1/me/data")]  # fmt: skip
    for client in (site.forum.api(), site.forum.api("bs_t_not-a-token")):
        for method, path in routes:
            body = {"mute": False} if method == "PUT" and "follows" in path else None
            answer = client.request(method, path, json=body)
            assert answer.status_code == 401, (method, path, answer.text)
            assert answer.headers["www-authenticate"].startswith("Bearer")

    alice = site.forum.api(site.forum.token_for(site.forum.signup("alice")))
    bob = site.forum.api(site.forum.token_for(site.forum.signup("bob")))
    orchard = site.ids["orchard"]
    assert bob.put("/api/v1/me/follows/outlet/alder-gazette", json={"mute": False}).status_code == 204
    assert bob.put(f"/api/v1/me/follows/story/{site.stories['bridge']}", json={}).status_code == 204
    assert bob.put(f"/api/v1/me/bookmarks/{orchard}").status_code == 204
    # Alice's stopping what Bob follows, and removing his bookmark, touches only her own (empty) lists.
    assert alice.delete("/api/v1/me/follows/outlet/alder-gazette").status_code == 204
    assert alice.delete(f"/api/v1/me/bookmarks/{orchard}").status_code == 204
    assert alice.get("/api/v1/me/follows").json() == []
    assert alice.get("/api/v1/me/bookmarks").json() == []
    mine = alice.get("/api/v1/me/data").json()
    assert mine["account"]["name"] == "alice" and mine["follows"] == [] and mine["bookmarks"] == []
    assert all(p["personal"] is False for p in alice.get("/api/v1/me/foryou").json())
    assert len(bob.get("/api/v1/me/follows").json()) == 2
    assert [b["id"] for b in bob.get("/api/v1/me/bookmarks").json()] == [orchard]
    assert bob.get("/api/v1/me/foryou").json()[0]["reasons"][0] == "You follow this story."


def test_a_browser_session_changes_follows_through_the_api_only_with_the_csrf_header(site: Site) -> None:
    browser = site.forum.signup("clicker")
    follow = "/api/v1/me/follows/outlet/wire-service"
    refused = browser.put(follow, json={"mute": False})
    assert refused.status_code == 403 and "X-CSRF-Token" in refused.text
    assert browser.put(follow, json={"mute": False}, headers={"X-CSRF-Token": "1.forged"}).status_code == 403
    assert browser.delete(follow).status_code == 403
    assert browser.get("/api/v1/me/follows").json() == []  # reading needs no token
    token = csrf_of(browser.get("/account").text)
    assert browser.put(follow, json={"mute": False}, headers={"X-CSRF-Token": token}).status_code == 204
    assert [f["key"] for f in browser.get("/api/v1/me/follows").json()] == ["wire-service"]
    assert buttons(browser.get("/outlets/wire-service").text) == ["Following ✓", "Mute"]


def test_a_story_is_followed_under_its_own_id_whatever_digits_name_it(site: Site) -> None:
    browser = site.forum.signup("digits")
    token = csrf_of(browser.get("/account").text)
    tunnel = site.stories["tunnel"]
    for key in (f"0{tunnel}", "²", "١"):  # "²".isdigit() is True, but int("²") raises ValueError
        answer = browser.post(
            "/follow", data={"csrf": token, "kind": "story", "key": key, "action": "follow"}
        )
        assert answer.status_code == 404, (key, answer.status_code)
    assert site.forum.store.follows.follows(site.user_id("digits")) == []
    answer = browser.post(
        "/follow", data={"csrf": token, "kind": "story", "key": str(tunnel), "action": "follow"}
    )
    assert answer.status_code == 303
    assert [f.key for f in site.forum.store.follows.follows(site.user_id("digits"))] == [str(tunnel)]
