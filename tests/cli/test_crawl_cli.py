"""Crawling invented publishers on loopback through the `broadsheet` command, checked in what it stored (on SQLite
and on PostgreSQL)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from clirun import CliResult, open_store
from starlette.testclient import TestClient

from broadsheet.config import Settings
from broadsheet.web import create_app
from newsroom import Story, article_page, make_stories, rss
from publisher import Publisher

Cli = Callable[..., CliResult]


def serve_site(pub: Publisher, stories: list[Story], *, outlet: str = "The Alder Gazette") -> str:
    """Serve a feed at /feed.xml and every story's page; returns the feed URL."""
    for story in stories:
        pub.add(f"/news/{story.slug}", article_page(story, pub.base_url, outlet=outlet))
    pub.add(
        "/feed.xml", rss(stories, pub.base_url, title=outlet), content_type="application/rss+xml", etag='"v1"'
    )
    return pub.url("/feed.xml")


def exported(cli: Cli, tmp_path: Path) -> list[dict[str, object]]:
    target = tmp_path / "out.jsonl"
    result = cli("export", "--format", "jsonl", "--output", str(target))
    assert result.code == 0, result.err
    return [json.loads(line) for line in target.read_text().splitlines()]


def test_crawl_stores_full_text_and_metadata_from_article_pages(
    cli: Cli, publisher: Publisher, tmp_path: Path
) -> None:
    stories = make_stories(3)
    feed = serve_site(publisher, stories)
    assert cli("source", "add", feed).code == 0
    result = cli("crawl", "--once")
    assert result.code == 0, result.err
    assert "3 new articles" in result.out

    rows = {row["title"]: row for row in exported(cli, tmp_path)}
    assert set(rows) == {s.title for s in stories}
    story = stories[1]
    row = rows[story.title]
    assert row["text"] == story.text  # the page's full text, not the feed's one-paragraph summary
    assert row["outlet"] == "The Alder Gazette"
    assert row["author"] == story.author
    assert row["image"] == publisher.url(story.image)
    assert row["image_alt"] == story.image_alt
    assert row["canonical_url"] == publisher.url(f"/news/{story.slug}")  # from rel=canonical
    assert row["published"] == story.published.isoformat().replace("+00:00", "Z")
    assert row["duplicate_of"] is None and row["source_id"] == 1


def test_the_outlets_icon_named_by_its_pages_is_shown_beside_its_name(
    cli: Cli, publisher: Publisher, tmp_path: Path, cli_env: dict[str, str]
) -> None:
    assert cli("source", "add", serve_site(publisher, make_stories(2))).code == 0
    assert cli("crawl", "--once").code == 0
    home = tmp_path / "home"
    settings = Settings(home=home, crawl_in_server=False)  # type: ignore[call-arg]
    icon = publisher.url("/favicon.png")
    # The app is handed the store (and the test closes it): an app that opens its own leaves it open.
    with open_store(cli_env, home) as store:
        with TestClient(create_app(settings, store=store)) as client:
            page = client.get("/articles/1").text
            assert f'<img class="badge" src="{icon}" alt=""' in page
            assert f'<img class="badge" src="{icon}"' in client.get("/outlets").text
            (outlet,) = client.get("/api/v1/outlets").json()
            assert outlet["icon"] == icon and outlet["site_url"] == publisher.base_url
        proxied = Settings(home=home, crawl_in_server=False, proxy_images=True)  # type: ignore[call-arg]
        with TestClient(create_app(proxied, store=store)) as client:
            page = client.get("/articles/1").text
            assert '<img class="badge" src="/img/' in page and icon not in page  # through the image proxy


def test_unchanged_feed_costs_one_conditional_request(cli: Cli, publisher: Publisher) -> None:
    stories = make_stories(2)
    serve_site(publisher, stories)
    cli("source", "add", publisher.url("/feed.xml"))
    assert cli("crawl", "--once").code == 0
    again = cli("crawl", "--once", "--all")
    assert again.code == 0
    assert "1 ok (1 unchanged)" in again.out and "0 new articles" in again.out
    feed_requests = publisher.recorded("/feed.xml")
    assert feed_requests[-1].headers.get("if-none-match") == '"v1"'
    assert all(publisher.hits(f"/news/{s.slug}") == 1 for s in stories)


def test_article_in_two_feeds_is_stored_once(cli: Cli, publisher: Publisher, tmp_path: Path) -> None:
    stories = make_stories(2)
    serve_site(publisher, stories)
    publisher.add("/world.xml", rss(stories[:1], publisher.base_url), content_type="application/rss+xml")
    cli("source", "add", publisher.url("/feed.xml"))
    cli("source", "add", publisher.url("/world.xml"))
    assert cli("crawl", "--once").code == 0
    assert len(exported(cli, tmp_path)) == 2


def test_page_that_fails_falls_back_to_feed_content_and_says_why(
    cli: Cli, publisher: Publisher, tmp_path: Path
) -> None:
    stories = make_stories(1)
    publisher.add("/feed.xml", rss(stories, publisher.base_url), content_type="application/rss+xml")
    cli("source", "add", publisher.url("/feed.xml"))
    result = cli("crawl", "--once")
    assert result.code == 0 and "1 from feed content" in result.out
    [row] = exported(cli, tmp_path)
    assert row["text"] == stories[0].paragraphs[0]
    assert "404" in str(row["extraction_note"])


def test_robots_txt_disallow_is_obeyed_for_article_pages(
    cli: Cli, publisher: Publisher, tmp_path: Path
) -> None:
    stories = make_stories(1)
    serve_site(publisher, stories)
    publisher.add("/robots.txt", "User-agent: *\nDisallow: /news/\n", content_type="text/plain")
    cli("source", "add", publisher.url("/feed.xml"))
    assert cli("crawl", "--once").code == 0
    assert publisher.hits(f"/news/{stories[0].slug}") == 0
    [row] = exported(cli, tmp_path)
    assert "robots.txt" in str(row["extraction_note"])


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]>
<rss version="2.0"><channel><title>&lol4;</title></channel></rss>"""


def write_opml(path: Path, urls: list[str]) -> Path:
    outlines = "".join(f'<outline type="rss" text="feed {i}" xmlUrl="{url}"/>' for i, url in enumerate(urls))
    path.write_text(f'<?xml version="1.0"?><opml version="2.0"><head/><body>{outlines}</body></opml>')
    return path


def test_one_bad_source_never_stops_the_crawl(
    cli: Cli, publisher: Publisher, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stories = make_stories(2)
    serve_site(publisher, stories)
    cli("source", "add", publisher.url("/feed.xml"))
    bad: dict[str, tuple[str | bytes, str]] = {
        "/broken.xml": ("<rss><channel><title>Half a feed", "application/rss+xml"),
        "/laughs.xml": (BILLION_LAUGHS, "application/rss+xml"),
        "/page.xml": ("<html><body><p>Just a page</p></body></html>", "text/html"),
        "/binary.xml": (b"\x89PNG\r\n\x1a\n\x00\x00", "image/png"),
        "/huge.xml": ("<rss>" + "x" * 2_000_000 + "</rss>", "application/rss+xml"),
    }
    for path, (body, kind) in bad.items():
        publisher.add(path, body, content_type=kind)
    # Broken sources come in through OPML: `source add` would refuse them up front.
    opml = write_opml(tmp_path / "bad.opml", [publisher.url(p) for p in [*bad, "/gone.xml"]])
    assert cli("source", "import", str(opml)).code == 0

    monkeypatch.setenv("BROADSHEET_MAX_RESPONSE_BYTES", "1000000")
    result = cli("crawl", "--once")
    assert result.code == 0, result.err
    assert "1 ok" in result.out and "6 failed" in result.out and "2 new articles" in result.out
    listing = cli("source", "list").out
    assert "entit" in listing.lower()  # the billion-laughs feed is refused for declaring entities
    assert "404" in listing
    assert "max_response_bytes" in listing


def test_crawl_exits_nonzero_only_when_nothing_could_run(
    cli: Cli, publisher: Publisher, tmp_path: Path
) -> None:
    assert cli("crawl", "--once").code == 1  # no sources at all
    cli("source", "import", str(write_opml(tmp_path / "one.opml", [publisher.url("/gone.xml")])))
    result = cli("crawl", "--once")
    assert result.code == 1 and "404" in result.out


def test_page_without_article_text_falls_back_to_feed_content(
    cli: Cli, publisher: Publisher, tmp_path: Path
) -> None:
    stories = make_stories(1)
    publisher.add(f"/news/{stories[0].slug}", "<html><body><nav><a href='/'>Home</a></nav></body></html>")
    publisher.add("/feed.xml", rss(stories, publisher.base_url), content_type="application/rss+xml")
    cli("source", "add", publisher.url("/feed.xml"))
    assert cli("crawl", "--once").code == 0
    [row] = exported(cli, tmp_path)
    assert row["text"] == stories[0].paragraphs[0]
    assert "no article text" in str(row["extraction_note"])


def test_entry_whose_feed_date_is_newer_than_its_page_is_not_refetched_every_poll(
    cli: Cli, publisher: Publisher
) -> None:
    # The page says it was modified at publication; the feed marks the entry updated a day later.
    story = make_stories(1)[0]
    page = article_page(story, publisher.base_url).replace(
        "</head>", f'<meta property="article:modified_time" content="{story.published.isoformat()}"></head>'
    )
    publisher.add(f"/news/{story.slug}", page)
    feed = (
        rss([story], publisher.base_url)
        .replace(
            "</pubDate>",
            f"</pubDate><atom:updated>{(story.published + timedelta(days=1)).isoformat()}</atom:updated>",
        )
        .replace('<rss version="2.0">', '<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom">')
    )
    publisher.add("/feed.xml", feed, content_type="application/rss+xml")
    cli("source", "add", publisher.url("/feed.xml"))
    assert cli("crawl", "--once").code == 0
    assert cli("crawl", "--once", "--all").code == 0
    assert publisher.hits(f"/news/{story.slug}") == 1
