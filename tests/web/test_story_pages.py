"""Stories in the reader: the story page, the article page's related block, the story-first home, the stories
API and the story feed; over HTTP against a real server, on invented coverage clustered by the real model."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime

import feedparser
import httpx
import pytest
from website import MODELS_DIR, running

from broadsheet.config import Settings
from broadsheet.pipeline.ingest import Ingester
from broadsheet.pipeline.jsonl import import_jsonl
from broadsheet.pipeline.stories import StoryBuilder
from broadsheet.store import Store
from broadsheet.web import create_app
from storyset import coverage

NOW = datetime(2026, 11, 3, 6, tzinfo=UTC)


class Reader:
    def __init__(self, client: httpx.Client, ids: dict[str, int], settings: Settings, store: Store) -> None:
        self.client = client
        self.ids = ids  # storyset key -> article id
        self.settings = settings
        self.store = store

    def story_of(self, key: str) -> int:
        story: int = self.client.get(f"/api/v1/articles/{self.ids[key]}").json()["story_id"]
        return story


@pytest.fixture(scope="module")
def reader(tmp_path_factory: pytest.TempPathFactory, module_database_url: str) -> Iterator[Reader]:
    """The reader on each back end in turn (conftest.module_database_url)."""
    home = tmp_path_factory.mktemp("storyhome")
    settings = Settings(
        home=home, database_url=module_database_url, crawl_in_server=False, models_dir=MODELS_DIR
    )
    store = Store.open(settings.database)
    data = home / "coverage.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in coverage()))
    import_jsonl(data, Ingester(store, settings))
    StoryBuilder(store, settings).run()
    ids = {a.url.rsplit("/", 1)[1]: a.id for a in store.articles.iter_all() if a.id is not None}
    app = create_app(settings, store=store)
    # "Now" is the day after the bridge story, so it is among the top stories and times read "... hours ago".
    app.state.context.clock = lambda: NOW
    with running(app) as url, httpx.Client(base_url=url, timeout=10) as client:
        yield Reader(client, ids, settings, store)
    store.close()


def test_story_page_shows_every_outlet_side_by_side_with_copies_folded(reader: Reader) -> None:
    story = reader.story_of("bridge-2")
    page = reader.client.get(f"/stories/{story}")
    assert page.status_code == 200
    text = page.text
    assert "4 articles from 4 outlets" in text
    for outlet in ("Alder Gazette", "Quillon Daily", "Marrowby Herald"):
        assert f">{outlet}</a></h3>" in text
    # The wire copy is folded under the article it copies, not shown as coverage of its own.
    wire = reader.ids["bridge-wire"]
    assert f'Also carried by <a href="/articles/{wire}">Wire Service</a>' in text
    assert ">Wire Service</a></h3>" not in text
    # The headline is one of the bridge articles' titles (the most central, not necessarily the first).
    titles = {"Storm closes Quillport harbour bridge", "Harbour bridge shut as Storm Ilvane damages cable",
              "Quillport bridge closed after storm night"}  # fmt: skip
    h1 = text.split("<h1>", 1)[1].split("</h1>", 1)[0]
    assert html.unescape(h1) in titles
    # The timeline starts with who reported first.
    timeline = text.split('id="timeline-h"', 1)[1]
    first = timeline.split("<li>", 2)[1]
    assert "First report" in first and "Alder Gazette" in first
    assert "Tunnel" not in text and "Dunmere" not in text.split('id="related-h"')[0]


def test_a_story_over_several_days_has_follow_ups_on_its_timeline(reader: Reader) -> None:
    story = reader.story_of("strike-1")
    assert reader.story_of("strike-3") == story
    timeline = reader.client.get(f"/stories/{story}").text.split('id="timeline-h"', 1)[1]
    labels = [item.split("</span>", 1)[0].rsplit(">", 1)[1] for item in timeline.split("<li>")[1:]]
    assert labels == ["First report", "Report", "Follow-up"]


def test_article_page_lists_its_story_first_with_a_full_coverage_link(reader: Reader) -> None:
    story = reader.story_of("bridge-2")
    page = reader.client.get(f"/articles/{reader.ids['bridge-2']}").text
    assert f'<a href="/stories/{story}">Full coverage: 4 articles from 4 outlets</a>' in page
    # the story's feed, discoverable by feed readers from the article too (and linked for people)
    assert '<link rel="alternate" type="application/atom+xml" title="The whole story: ' in page
    assert f'href="/stories/{story}.atom" title="Every outlet' in page
    feed = reader.client.get(f"/stories/{story}.atom")
    assert feed.status_code == 200 and feed.text.count("</entry>") == 4
    related = page.split('id="related-h"', 1)[1]
    first = related.split('class="related-item"', 2)[1]
    assert "Alder Gazette" in first or "Marrowby Herald" in first or "Wire Service" in first
    assert related.index("Quillport bridge closed after storm night") < related.index("</section>")


def test_home_leads_with_top_stories(reader: Reader) -> None:
    home = reader.client.get("/").text
    assert "Top stories" in home
    top = home.split('id="top-h"', 1)[1].split("</section>", 1)[0]
    assert f'href="/stories/{reader.story_of("bridge-1")}"' in top
    assert "4 outlets" in top


def test_stories_api_and_feed(reader: Reader) -> None:
    stories = reader.client.get("/api/v1/stories").json()
    bridge = reader.story_of("bridge-1")
    assert next(s for s in stories if s["id"] == bridge)["outlet_count"] == 4
    assert stories == sorted(stories, key=lambda s: -s["hotness"])
    detail = reader.client.get(f"/api/v1/stories/{bridge}").json()
    assert {a["id"] for a in detail["articles"]} == {
        reader.ids[k] for k in ("bridge-1", "bridge-2", "bridge-3", "bridge-wire")
    }
    members = reader.client.get(f"/api/v1/stories/{bridge}/articles").json()
    assert [m["id"] for m in members] == [a["id"] for a in detail["articles"]]
    assert reader.client.get(f"/api/v1/stories/{bridge}/related").status_code == 200
    missing = reader.client.get("/api/v1/stories/999999")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    feed = feedparser.parse(reader.client.get(f"/stories/{bridge}.atom").content)
    assert feed.bozo == 0 and len(feed.entries) == 4
    assert reader.client.get("/stories/999999").status_code == 404


def test_a_story_longer_than_the_page_shows_its_first_report_and_newest_and_says_so(
    reader: Reader,
) -> None:
    story = reader.story_of("strike-1")
    short = reader.settings.model_copy(update={"story_page_articles": 2, "story_page_first_reports": 1})
    app = create_app(short, store=reader.store)
    app.state.context.clock = lambda: NOW
    with running(app) as url, httpx.Client(base_url=url, timeout=10) as client:
        text = client.get(f"/stories/{story}").text
    assert "Showing the first reports and the newest: 2 of" in text
    timeline = text.split('id="timeline-h"', 1)[1].split("</ol>", 1)[0]
    assert timeline.count("<li>") == 2 and "First report" in timeline


def test_readers_comment_on_a_story_as_a_whole_apart_from_its_articles(reader: Reader) -> None:
    story = reader.story_of("bridge-2")
    base = str(reader.client.base_url)
    with httpx.Client(base_url=base, timeout=10, headers={"Origin": base}) as browser:
        page = browser.get("/signup").text
        token = re.search(r'name="csrf" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
        signed = browser.post(
            "/signup", data={"csrf": token, "name": "story_reader", "password": "long enough pw"}
        )
        assert signed.status_code == 303
        story_page = browser.get(f"/stories/{story}")
        assert (
            "No comments yet." in story_page.text and f'action="/stories/{story}/comments"' in story_page.text
        )
        token = re.search(r'name="csrf" value="([^"]+)"', story_page.text).group(1)  # type: ignore[union-attr]
        posted = browser.post(
            f"/stories/{story}/comments", data={"csrf": token, "body": "Which bridge *next*?"}
        )
        assert posted.status_code == 303 and posted.headers["location"].startswith(
            f"/stories/{story}#comment-"
        )
        first = int(posted.headers["location"].rsplit("-", 1)[1])
        reply = browser.post(f"/stories/{story}/comments",
                             data={"csrf": token, "body": "The old one.", "parent_id": str(first)})  # fmt: skip
        assert reply.status_code == 303

    thread = reader.client.get(f"/api/v1/stories/{story}/comments").json()
    assert thread["story_id"] == story and thread["count"] == 2
    top = thread["comments"][0]
    assert top["on_story"] and top["html"] == "<p>Which bridge <em>next</em>?</p>"
    assert [r["body"] for r in top["replies"]] == ["The old one."]
    public = reader.client.get(f"/stories/{story}").text  # the cached page was dropped by the post
    assert "Which bridge <em>next</em>?" in public and 'Comments <span class="count">(2)</span>' in public
    # The article the comment is kept on shows its own thread, not the story's.
    headline = reader.client.get(f"/api/v1/stories/{story}").json()["headline_id"]
    assert reader.client.get(f"/api/v1/articles/{headline}/comments").json()["count"] == 0
    assert "Which bridge" not in reader.client.get(f"/articles/{headline}").text
    anonymous = reader.client.post(f"/api/v1/stories/{story}/comments", json={"body": "Me too"})
    assert anonymous.status_code == 401
    assert reader.client.get("/api/v1/stories/999999/comments").status_code == 404
