"""`source add`: turn whatever URL the user gave (feed, sitemap, home page, article) into a source.

Order of attempts: the URL itself as a feed or sitemap; feeds the page links to; common feed paths on the
site; finally the page itself as a single article. Every attempt that failed is named in the error.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urljoin, urlsplit

from broadsheet.config import Settings
from broadsheet.errors import BroadsheetError, FeedError, SourceError
from broadsheet.extract import extract_article
from broadsheet.fetch import Fetcher, FetchResult
from broadsheet.models import Feed, Source, SourceKind
from broadsheet.sources import COMMON_FEED_PATHS, discover_feeds, looks_like_feed, parse_feed
from broadsheet.store import Store

__all__ = ["Resolved", "resolve_source", "subscribe"]

HTML_TYPES = ("text/html", "application/xhtml+xml")


@dataclass(frozen=True, slots=True)
class Resolved:
    url: str
    kind: SourceKind
    title: str
    site_url: str = ""
    format: str = ""
    entries: int = 0
    alternatives: tuple[str, ...] = ()  # other feeds the site offers
    warning: str = ""  # the feed had errors; what could still be read
    tried: tuple[str, ...] = field(default=())


def _from_feed(url: str, feed: Feed, alternatives: tuple[str, ...] = ()) -> Resolved:
    return Resolved(
        url=url,
        kind=feed.kind,
        title=feed.title,
        site_url=feed.site_url,
        format=feed.format,
        entries=len(feed.entries) + len(feed.sitemaps),
        alternatives=alternatives,
        warning=feed.warning,
    )


async def _try_feed(fetcher: Fetcher, url: str) -> tuple[Feed, FetchResult]:
    result = await fetcher.fetch(url, kind="feed")
    return parse_feed(result.content, result.url, result.content_type), result


async def resolve_source(url: str, fetcher: Fetcher) -> Resolved:
    """What `url` is, as a source. Raises SourceError listing everything tried when nothing works."""
    if urlsplit(url).scheme not in ("http", "https"):
        raise SourceError(f"{url!r} is not an http(s) URL; give a feed, sitemap or site address")
    first = await fetcher.fetch(url, kind="feed")
    is_html = first.content_type in HTML_TYPES and not looks_like_feed(first.content, first.content_type)
    if not is_html:
        feed = parse_feed(first.content, first.url, first.content_type)
        return _from_feed(first.url, feed)

    tried: list[str] = []
    linked = discover_feeds(first.content, first.url)
    root = f"{urlsplit(first.url).scheme}://{urlsplit(first.url).netloc}/"
    guesses = [urljoin(root, path) for path in COMMON_FEED_PATHS]
    for candidate in dict.fromkeys([*linked, *guesses]):
        try:
            feed, result = await _try_feed(fetcher, candidate)
        except (BroadsheetError, FeedError) as exc:
            tried.append(f"{candidate}: {exc}")
            continue
        others = tuple(u for u in linked if u != candidate)
        return _from_feed(result.url, feed, others)

    try:
        page = extract_article(first.content, first.url)
    except BroadsheetError as exc:
        tried.append(f"{first.url} as an article: {exc}")
        raise SourceError(
            f"no feed or sitemap found at {url}. Tried:\n  "
            + "\n  ".join(tried[:12])
            + "\nGive the feed's own URL if you know it."
        ) from exc
    return Resolved(url=first.url, kind=SourceKind.PAGE, title=page.title, site_url=root, format="html")


def subscribe(store: Store, resolved: Resolved, settings: Settings, *, folder: str, now: datetime) -> Source:
    """Store what `resolve_source` found as a source, due now; raises SourceError if it is one already."""
    return store.sources.add(
        resolved.url,
        resolved.kind,
        now=now,
        interval_seconds=settings.default_poll_interval,
        title=resolved.title,
        site_url=resolved.site_url,
        folder=folder,
        format=resolved.format,
        warning=resolved.warning,
    )
