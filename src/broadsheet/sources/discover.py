"""Feed discovery: which feed URLs an HTML page advertises, and which paths to try when it advertises none.

Owns reading <link rel="alternate"> and feed-looking anchors; not fetching the candidates or checking them.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from lxml import etree
from lxml import html as lxml_html

from broadsheet.urls import absolute_url, host_of

__all__ = ["COMMON_FEED_PATHS", "discover_feeds"]

#: Tried in order, against the site's root, when a page links no feed. Feeds first, sitemaps as a last resort.
COMMON_FEED_PATHS: tuple[str, ...] = (
    "/feed",
    "/rss",
    "/rss.xml",
    "/atom.xml",
    "/feed.xml",
    "/index.xml",
    "/feed.json",
    "/atom",
    "/index.rss",
    "/feeds/posts/default",
    "/?feed=rss2",
    "/sitemap_news.xml",
    "/news-sitemap.xml",
    "/sitemap.xml",
)

_FEED_TYPES = frozenset(
    {
        "application/rss+xml",
        "application/atom+xml",
        "application/rdf+xml",
        "application/feed+json",
        "application/json",
        "application/x-rss+xml",
        "application/x-atom+xml",
    }
)
# WordPress advertises its REST API as rel="alternate" type="application/json"; that is not a JSON Feed.
_NOT_A_FEED = re.compile(r"/wp-json/|/oembed", re.IGNORECASE)
_FEED_PATH = re.compile(
    r"(^|/)(feed|rss|atom)/?$"  # /feed, /blog/rss/
    r"|\.(rss|atom|rdf)$"  # /news.rss, /posts.atom
    r"|(^|/)[\w.-]*(feed|rss|atom)[\w-]*\.(xml|json)$"  # /rss.xml, /atom.xml, /feed.json, /news-rss.xml
    r"|(^|/)feeds/posts/default$",  # Blogger
    re.IGNORECASE,
)
_FEED_QUERY = re.compile(r"(^|&)(feed|format)=(rss2?|atom|rdf)(&|$)", re.IGNORECASE)
# Anchors to other sites are usually blogrolls; these hosts only ever serve a publisher's own feed.
_FEED_HOSTS = frozenset({"feeds.feedburner.com", "feeds2.feedburner.com", "feedpress.me"})


def _parse(page: bytes | str) -> Any:
    """The page as an lxml tree (None when empty); lxml's HTML parser copes with any tag soup."""
    if isinstance(page, str):
        # A str may still carry <?xml encoding=...?> or <meta charset>, which lxml refuses for str input.
        return etree.fromstring(page.encode("utf-8"), lxml_html.HTMLParser(encoding="utf-8", no_network=True))
    return etree.fromstring(page, lxml_html.HTMLParser(no_network=True))


def _is_feed_link(element: Any) -> bool:
    rel = str(element.get("rel") or "").lower().split()
    if "feed" in rel:
        return True
    kind = str(element.get("type") or "").split(";", 1)[0].strip().lower()
    return "alternate" in rel and kind in _FEED_TYPES


def _is_feed_anchor(url: str, page_host: str) -> bool:
    parts = urlsplit(url)
    host = host_of(url)
    if host != page_host and host not in _FEED_HOSTS:
        return False
    return bool(_FEED_PATH.search(parts.path) or _FEED_QUERY.search(parts.query))


def discover_feeds(html: bytes | str, page_url: str) -> list[str]:
    """Feed URLs the page points at: <link> alternates in document order, then feed-looking anchors."""
    root = _parse(html)
    if root is None:
        return []
    base = page_url
    for element in root.iter("base"):
        base = absolute_url(page_url, element.get("href")) or page_url
        break
    page_host = host_of(page_url)
    advertised: list[str] = []
    anchors: list[str] = []
    for element in root.iter("link", "a"):
        url = absolute_url(base, element.get("href"))
        if not url or _NOT_A_FEED.search(url):
            continue
        if element.tag == "link" and _is_feed_link(element):
            advertised.append(url)
        elif element.tag == "a" and _is_feed_anchor(url, page_host):
            anchors.append(url)
    return list(dict.fromkeys(advertised + anchors))
