"""`broadsheet source ...` against loopback publishers: discovery, formats, OPML, refusals."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from xml.etree import ElementTree

import pytest
from clirun import CliResult

from newsroom import article_page, make_stories, rss
from publisher import Publisher

Cli = Callable[..., CliResult]

HOME_PAGE = """<!doctype html><html><head><title>The Alder Gazette</title>
<link rel="alternate" type="application/rss+xml" title="Top stories" href="/feed.xml">
<link rel="alternate" type="application/atom+xml" title="Sport" href="/sport.atom">
</head><body><h1>The Alder Gazette</h1><p>News from an invented town.</p></body></html>"""


def test_adding_a_home_page_discovers_its_feed(cli: Cli, publisher: Publisher) -> None:
    stories = make_stories(2)
    publisher.add("/", HOME_PAGE)
    publisher.add("/feed.xml", rss(stories, publisher.base_url), content_type="application/rss+xml")
    result = cli("source", "add", publisher.url("/"))
    assert result.code == 0, result.err
    assert "The Alder Gazette" in result.out and publisher.url("/feed.xml") in result.out
    assert "2 entries" in result.out and publisher.url("/sport.atom") in result.out
    assert "The Alder Gazette" in cli("source", "list").out


def test_adding_a_json_feed(cli: Cli, publisher: Publisher) -> None:
    feed = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "Quillon Daily",
        "items": [
            {"id": "1", "url": publisher.url("/a/1"), "title": "Market opens", "content_text": "Stalls."}
        ],
    }
    publisher.add("/feed.json", json.dumps(feed), content_type="application/feed+json")
    result = cli("source", "add", publisher.url("/feed.json"))
    assert result.code == 0, result.err
    assert "Quillon Daily" in result.out and "1 entries" in result.out


def test_adding_a_news_sitemap_and_crawling_it(cli: Cli, publisher: Publisher, tmp_path: Path) -> None:
    stories = make_stories(2)
    urls = []
    for story in stories:
        publisher.add(f"/news/{story.slug}", article_page(story, publisher.base_url))
        urls.append(
            f"<url><loc>{publisher.url('/news/' + story.slug)}</loc><news:news><news:publication>"
            f"<news:name>The Alder Gazette</news:name><news:language>en</news:language></news:publication>"
            f"<news:publication_date>{story.published.isoformat()}</news:publication_date>"
            f"<news:title>{story.title}</news:title></news:news></url>"
        )
    publisher.add(
        "/news-sitemap.xml",
        '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
        'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">' + "".join(urls) + "</urlset>",
        content_type="application/xml",
    )
    result = cli("source", "add", publisher.url("/news-sitemap.xml"))
    assert result.code == 0, result.err
    assert "sitemap" in result.out
    crawl = cli("crawl", "--once")
    assert crawl.code == 0 and "2 new articles" in crawl.out


def test_private_addresses_are_refused_unless_allowed(
    cli: Cli, publisher: Publisher, monkeypatch: pytest.MonkeyPatch
) -> None:
    publisher.add("/feed.xml", rss(make_stories(1), publisher.base_url), content_type="application/rss+xml")
    monkeypatch.setenv("BROADSHEET_ALLOW_PRIVATE_NETWORKS", "false")
    result = cli("source", "add", publisher.url("/feed.xml"))
    assert result.code == 1
    assert "BROADSHEET_ALLOW_PRIVATE_NETWORKS" in result.err
    assert publisher.hits("/feed.xml") == 0


def test_a_url_with_nothing_to_follow_is_refused_with_what_was_tried(cli: Cli, publisher: Publisher) -> None:
    publisher.add("/", "<html><head><title>Empty</title></head><body></body></html>")
    result = cli("source", "add", publisher.url("/"))
    assert result.code == 1
    assert "no feed or sitemap found" in result.err and "/feed" in result.err


def test_adding_the_same_source_twice_is_refused(cli: Cli, publisher: Publisher) -> None:
    publisher.add("/feed.xml", rss(make_stories(1), publisher.base_url), content_type="application/rss+xml")
    assert cli("source", "add", publisher.url("/feed.xml")).code == 0
    again = cli("source", "add", publisher.url("/feed.xml"))
    assert again.code == 1 and "already a source" in again.err


def test_opml_import_keeps_folders_and_export_round_trips(cli: Cli, tmp_path: Path) -> None:
    opml = tmp_path / "subs.opml"
    opml.write_text(
        """<?xml version="1.0" encoding="UTF-8"?><opml version="2.0"><head><title>mine</title></head><body>
        <outline text="News"><outline text="World">
          <outline type="rss" text="Orrin Vale Post" xmlUrl="https://post.example/rss" htmlUrl="https://post.example/"/>
        </outline></outline>
        <outline type="rss" text="Tamsworth Times" xmlUrl="https://times.example/feed"/>
        </body></opml>"""
    )
    result = cli("source", "import", str(opml))
    assert result.code == 0 and "imported 2 feeds" in result.out
    assert (
        "imported 0 feeds" in (again := cli("source", "import", str(opml)).out)
        and "2 already subscribed" in again
    )
    exported = cli("source", "export")
    assert exported.code == 0
    root = ElementTree.fromstring(exported.out)
    assert root.tag == "opml" and root.get("version") == "2.0"
    feeds = {o.get("xmlUrl"): o for o in root.iter("outline") if o.get("xmlUrl")}
    assert set(feeds) == {"https://post.example/rss", "https://times.example/feed"}
    news = next(o for o in root.find("body") or [] if o.get("text") == "News")
    world = next(o for o in news if o.get("text") == "World")
    assert world[0].get("xmlUrl") == "https://post.example/rss"


def test_removing_a_source_keeps_its_articles(cli: Cli, publisher: Publisher, tmp_path: Path) -> None:
    stories = make_stories(1)
    publisher.add(f"/news/{stories[0].slug}", article_page(stories[0], publisher.base_url))
    publisher.add("/feed.xml", rss(stories, publisher.base_url), content_type="application/rss+xml")
    cli("source", "add", publisher.url("/feed.xml"))
    cli("crawl", "--once")
    assert cli("source", "remove", "1").code == 0
    assert "no sources yet" in cli("source", "list").out
    assert "articles: 1" in cli("stats").out
    missing = cli("source", "remove", "1")
    assert missing.code == 1 and "source list" in missing.err


def test_starter_packs_are_listed_and_one_is_added_once(cli: Cli) -> None:
    listing = cli("source", "starter")
    assert listing.code == 0 and "world-news: World news, 9 feeds (en, de, fr, es)" in listing.out
    first = cli("source", "starter", "science")
    assert first.code == 0 and "added 6 feeds of Science (0 already subscribed)" in first.out
    again = cli("source", "starter", "science")
    assert "added 0 feeds of Science (6 already subscribed)" in again.out
    sources = cli("source", "list", "--json")
    assert sum(1 for s in json.loads(sources.out) if s["folder"] == "Science") == 6
    wrong = cli("source", "starter", "gossip")
    assert wrong.code == 1 and "there is no starter pack 'gossip'" in wrong.err
