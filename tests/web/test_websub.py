"""WebSub both ways, with real processes' parts: a publisher and a hub on loopback (tests/websubhub.py, written
from the W3C Recommendation), broadsheet's server answering the hub's calls, and its crawler.

Subscriber: a feed naming a hub gets a subscription after a poll; the hub verifies it through the callback; a
signed push is read by the next pass in place of the feed (the publisher is not asked for it); an unsigned or
wrongly signed push, or one to an old subscription, is dropped; a refusing, denying or silent hub leaves the
source polled as before and is asked again later; a lease near its end is renewed. Publisher: the site's feeds
name the configured hub and it is told when new articles arrive. Also the pure rules, on their own."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import uvicorn
from website import free_port, serving

from broadsheet.config import Settings
from broadsheet.models import SourceKind
from broadsheet.pipeline.assemble import build_crawler
from broadsheet.pipeline.websub import retry_after, signature_ok, subscription_wanted
from broadsheet.sources import parse_feed
from broadsheet.store import Store, WebSubscription
from broadsheet.web import create_app
from publisher import Publisher
from websubhub import Hub

T0 = datetime(2026, 12, 2, 9, tzinfo=UTC)
PAGE = """<!doctype html><html lang="en"><head><title>{title}</title>
<meta property="og:title" content="{title}"><meta name="author" content="Pat Reporter"></head>
<body><article><h1>{title}</h1>{paragraphs}</article></body></html>"""


def _page(title: str) -> str:
    sentence = f"The {title.lower()} was the talk of the harbour town on Tuesday, and the council met twice. "
    return PAGE.format(title=title, paragraphs="".join(f"<p>{sentence * 3}</p>" for _ in range(4)))


def _atom(feed_url: str, hub: str, entries: list[tuple[str, str]]) -> str:
    items = "".join(
        f'<entry><id>{url}</id><title>{title}</title><link href="{url}"/>'
        f"<updated>2026-12-02T08:0{n}:00Z</updated></entry>"
        for n, (url, title) in enumerate(entries)
    )
    return (f'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>Harbour News</title>'
            f'<id>{feed_url}</id><updated>2026-12-02T08:00:00Z</updated>'
            f'<link rel="self" href="{feed_url}"/><link rel="hub" href="{hub}"/>{items}</feed>')  # fmt: skip


@dataclass
class Site:
    url: str
    store: Store
    settings: Settings
    publisher: Publisher
    hub: Hub
    feed_url: str
    source_id: int

    def crawl(self, at: datetime | None = None, *, every: bool = False) -> int:
        """One crawl pass (the clock at `at`, else now; `every` source, due or not); returns the new articles."""
        clock = (lambda: at) if at is not None else None
        crawler = build_crawler(self.settings, self.store, **({"clock": clock} if clock else {}))
        report = asyncio.run(crawler.run_once(all_sources=every))
        return sum(s.new for s in report.sources)

    def subscription(self) -> WebSubscription:
        found = self.store.websub.get(self.source_id)
        assert found is not None
        return found


@pytest.fixture
def site(tmp_path: Path, publisher: Publisher, request: pytest.FixtureRequest) -> Iterator[Site]:
    """A publisher whose feed names the hub; broadsheet serving at its base_url; the source added."""
    options = getattr(request, "param", {})
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with Hub(**options.get("hub", {})) as hub:
        settings = Settings(home=tmp_path, base_url=base, crawl_in_server=False, allow_private_networks=True,
                            enrich=False, stories=False, story_briefs=False, respect_robots=False,
                            **options.get("settings", {}))  # fmt: skip
        store = Store.open(settings.database)
        feed_url = publisher.url("/feed.atom")
        first = [(publisher.url("/news/1"), "Harbour crane returns")]
        publisher.add("/news/1", _page("Harbour crane returns"))
        publisher.add("/feed.atom", _atom(feed_url, hub.url, first), content_type="application/atom+xml")
        source = store.sources.add(
            feed_url, SourceKind.FEED, now=datetime.now(UTC) - timedelta(minutes=1), interval_seconds=900
        )
        app = create_app(settings, store=store)
        try:
            config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
            with serving(config):
                yield Site(base, store, settings, publisher, hub, feed_url, source.id)
        finally:
            store.close()


def test_a_feed_naming_a_hub_is_subscribed_and_a_signed_push_is_read_in_place_of_a_poll(site: Site) -> None:
    assert site.crawl() == 1
    pushed_to = site.hub.current(site.feed_url)
    assert pushed_to.verified, pushed_to.answer
    assert pushed_to.callback.startswith(f"{site.url}/websub/{site.source_id}/")
    subscription = site.subscription()
    assert subscription.state == "active" and subscription.hub == site.hub.url
    assert subscription.expires_at is not None
    # While the hub pushes, the feed is polled only every websub_poll_hours (6), as a safety net: from the
    # first poll after the hub confirmed.
    assert site.store.sources.get(site.source_id).next_fetch_at - datetime.now(UTC) < timedelta(hours=1)
    site.crawl(every=True)
    due = site.store.sources.get(site.source_id).next_fetch_at
    assert due - datetime.now(UTC) > timedelta(hours=5)

    site.publisher.add("/news/2", _page("Ferry timetable changes"))
    entries = [
        (site.publisher.url("/news/2"), "Ferry timetable changes"),
        (site.publisher.url("/news/1"), "x"),
    ]
    document = _atom(site.feed_url, site.hub.url, entries).encode()
    feed_hits = site.publisher.hits("/feed.atom")
    assert site.hub.deliver(site.feed_url, document).status_code == 202
    assert site.store.websub.waiting() == 1
    assert site.store.sources.get(site.source_id).next_fetch_at <= datetime.now(UTC)  # due at once
    assert site.crawl() == 1  # the pushed entry, fetched as a page and stored
    assert site.publisher.hits("/feed.atom") == feed_hits  # the push stood in for the poll
    titles = {a.title for a in site.store.articles.iter_all()}
    assert "Ferry timetable changes" in titles
    assert site.store.websub.waiting() == 0 and site.subscription().pushes == 1


def test_unsigned_wrongly_signed_and_stale_pushes_are_dropped(site: Site) -> None:
    site.crawl()
    document = _atom(site.feed_url, site.hub.url, [(site.publisher.url("/news/9"), "Forged")]).encode()
    assert site.hub.deliver(site.feed_url, document, signed=False).status_code == 202  # accepted, and ignored
    assert site.hub.deliver(site.feed_url, document, secret="not-the-secret").status_code == 202
    assert site.store.websub.waiting() == 0
    stale = httpx.post(f"{site.url}/websub/{site.source_id}/0123456789abcdef", content=document, timeout=10)
    assert stale.status_code == 410  # "stop sending": a subscription we no longer have
    assert stale.headers["cache-control"] == "no-store"
    unknown = httpx.get(f"{site.url}/websub/{site.source_id}/0123456789abcdef",
                        params={"hub.mode": "subscribe", "hub.topic": site.feed_url, "hub.challenge": "x"})  # fmt: skip
    assert unknown.status_code == 404  # nobody can confirm a subscription we did not ask for
    assert httpx.get(f"{site.url}/websub/{site.source_id}/x").status_code == 400
    token = site.subscription().token  # an unsubscription check: broadsheet asks for none, so it is not ours
    check = {"hub.mode": "unsubscribe", "hub.topic": site.feed_url, "hub.challenge": "x"}
    assert httpx.get(f"{site.url}/websub/{site.source_id}/{token}", params=check).status_code == 404
    assert site.subscription().state == "active"
    assert site.subscription().pushes == 0


@pytest.mark.parametrize("site", [{"hub": {"deny": "topic not allowed"}}], indirect=True)
def test_a_denying_hub_leaves_the_source_polled_as_before(site: Site) -> None:
    site.crawl()
    site.hub.current(site.feed_url)
    subscription = site.subscription()
    assert subscription.state == "denied" and "topic not allowed" in subscription.last_error
    due = site.store.sources.get(site.source_id).next_fetch_at
    assert due - datetime.now(UTC) < timedelta(hours=1)  # the usual pace


@pytest.mark.parametrize("site", [{"hub": {"status": 500}}], indirect=True)
def test_a_refusing_hub_is_asked_again_later_each_time(site: Site) -> None:
    site.crawl()
    first = site.subscription()
    assert first.state == "failed" and "answered 500" in first.last_error and first.failures == 1
    site.crawl(at=first.requested_at + timedelta(minutes=30))  # too soon: not asked again
    assert len(site.hub.requests) == 1
    site.crawl(at=first.requested_at + timedelta(hours=1, minutes=1))
    assert len(site.hub.requests) == 2 and site.subscription().failures == 2
    assert retry_after(2) == timedelta(hours=2)


@pytest.mark.parametrize("site", [{"hub": {"lease_seconds": 3600}}], indirect=True)
def test_a_lease_near_its_end_is_renewed_and_the_old_callback_stops(site: Site) -> None:
    site.crawl()
    old = site.hub.current(site.feed_url)
    first = site.subscription()
    assert first.lease_seconds == 3600 and first.expires_at is not None
    site.crawl(at=first.expires_at - timedelta(minutes=40))  # 40 of 60 minutes left: not yet
    assert len(site.hub.subscriptions) == 1
    site.crawl(at=first.expires_at - timedelta(minutes=10))  # a fifth of the lease left, or less: renew
    renewed = site.hub.current(site.feed_url)
    assert renewed is not old and renewed.verified and site.subscription().token != first.token
    document = _atom(site.feed_url, site.hub.url, []).encode()
    signature = "sha256=" + hmac.new(old.secret.encode(), document, hashlib.sha256).hexdigest()
    answer = httpx.post(old.callback, content=document, headers={"X-Hub-Signature": signature}, timeout=10)
    assert answer.status_code == 410


@pytest.mark.parametrize("site", [{"settings": {"websub": False}}], indirect=True)
def test_websub_off_asks_no_hub(site: Site) -> None:
    assert site.crawl() == 1
    assert site.hub.requests == [] and site.store.websub.get(site.source_id) is None


def test_the_sites_own_feeds_name_its_hub_and_it_is_told_of_new_articles(
    tmp_path: Path, publisher: Publisher
) -> None:
    with Hub() as hub:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        settings = Settings(home=tmp_path, base_url=base, crawl_in_server=False, allow_private_networks=True,
                            enrich=False, stories=False, story_briefs=False, respect_robots=False,
                            websub=False, websub_hub=hub.url)  # fmt: skip
        store = Store.open(settings.database)
        publisher.add("/news/1", _page("Harbour crane returns"))
        feed_url = publisher.url("/feed.atom")
        publisher.add("/feed.atom", _atom(feed_url, "", [(publisher.url("/news/1"), "Harbour crane returns")]),
                      content_type="application/atom+xml")  # fmt: skip
        store.sources.add(
            feed_url, SourceKind.FEED, now=datetime.now(UTC) - timedelta(minutes=1), interval_seconds=900
        )
        try:
            with serving(uvicorn.Config(create_app(settings, store=store), host="127.0.0.1", port=port,
                                        log_level="warning", lifespan="on")):  # fmt: skip
                crawler = build_crawler(settings, store)
                asyncio.run(crawler.run_once())
                assert hub.published == [f"{base}/feed.atom", f"{base}/feed.rss"]
                asyncio.run(crawler.run_once(all_sources=True))  # nothing new: no ping
                assert len(hub.published) == 2
                atom = httpx.get(f"{base}/feed.atom").text
                rss = httpx.get(f"{base}/feed.rss").text
                assert f'<link rel="hub" href="{hub.url}"/>' in atom
                assert f'<atom:link rel="hub" href="{hub.url}"/>' in rss
                assert parse_feed(atom.encode(), f"{base}/feed.atom").hub == hub.url
        finally:
            store.close()


# --- the pure rules ---------------------------------------------------------------------------------------------


def test_signatures_are_checked_with_each_method_the_spec_names() -> None:
    body = b"<feed/>"
    for method in ("sha1", "sha256", "sha384", "sha512"):
        digest = hmac.new(b"s3cret", body, getattr(hashlib, method)).hexdigest()
        assert signature_ok("s3cret", f"{method}={digest}", body)
        assert not signature_ok("other", f"{method}={digest}", body)
        assert not signature_ok("s3cret", f"{method}={digest}", body + b" ")
    assert not signature_ok("s3cret", "md5=abc", body) and not signature_ok("s3cret", "", body)


def _subscription(state: str, **changes: object) -> WebSubscription:
    values: dict[str, object] = {
        "source_id": 1, "hub": "https://hub.example/", "topic": "https://news.example/feed", "token": "t",
        "secret": "s", "state": state, "lease_seconds": 864_000, "requested_at": T0, "verified_at": None,
        "expires_at": T0 + timedelta(days=10), "last_push_at": None, "pushes": 0, "failures": 1, "last_error": "",
    }  # fmt: skip
    values.update(changes)
    return WebSubscription(**values)  # type: ignore[arg-type]


def test_when_a_subscription_is_asked_for() -> None:
    hub, topic = "https://hub.example/", "https://news.example/feed"
    assert subscription_wanted(None, hub, topic, T0)
    assert subscription_wanted(_subscription("active"), "https://other-hub.example/", topic, T0)  # moved hub
    assert not subscription_wanted(_subscription("active"), hub, topic, T0 + timedelta(days=8))
    assert subscription_wanted(
        _subscription("active"), hub, topic, T0 + timedelta(days=9, hours=1)
    )  # < 1 day
    assert not subscription_wanted(_subscription("pending"), hub, topic, T0 + timedelta(minutes=30))
    assert subscription_wanted(_subscription("pending"), hub, topic, T0 + timedelta(hours=2))
    assert not subscription_wanted(_subscription("failed", failures=3), hub, topic, T0 + timedelta(hours=3))
    assert subscription_wanted(_subscription("failed", failures=3), hub, topic, T0 + timedelta(hours=5))
    assert retry_after(1) == timedelta(hours=1) and retry_after(50) == timedelta(days=7)


def test_hubs_are_read_from_atom_rss_and_json_feed() -> None:
    atom = _atom("https://news.example/feed.atom", "https://hub.example/", []).encode()
    parsed = parse_feed(atom, "https://news.example/feed.atom", "application/atom+xml")
    assert (parsed.hub, parsed.self_url) == ("https://hub.example/", "https://news.example/feed.atom")
    rss = (b'<?xml version="1.0"?><rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"><channel>'
           b"<title>t</title><link>https://news.example/</link><description>d</description>"
           b'<atom:link rel="hub" href="/hub"/><atom:link rel="self" href="https://news.example/rss"/>'
           b"</channel></rss>")  # fmt: skip
    parsed = parse_feed(rss, "https://news.example/rss", "application/rss+xml")
    assert (parsed.hub, parsed.self_url) == ("https://news.example/hub", "https://news.example/rss")
    jsonfeed = json.dumps({"version": "https://jsonfeed.org/version/1.1", "title": "t", "items": [],
                           "feed_url": "https://news.example/feed.json",
                           "hubs": [{"type": "WebSub", "url": "https://hub.example/"}]}).encode()  # fmt: skip
    parsed = parse_feed(jsonfeed, "https://news.example/feed.json", "application/feed+json")
    assert (parsed.hub, parsed.self_url) == ("https://hub.example/", "https://news.example/feed.json")
    assert parse_feed(rss.replace(b'rel="hub"', b'rel="x"'), "https://news.example/rss").hub == ""
