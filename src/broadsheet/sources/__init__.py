"""Sources: fetched bytes into a Feed (RSS, Atom, JSON Feed, sitemaps), OPML in and out, feed discovery, and
the starter packs of public feeds offered to a new installation.

Pure functions only: nothing here touches the network; `broadsheet.fetch` brings the bytes.
"""

from __future__ import annotations

import re
import zlib

from broadsheet.errors import FeedError
from broadsheet.models import Feed, SourceKind

from .discover import COMMON_FEED_PATHS, discover_feeds
from .feeds import parse_xml_feed
from .jsonfeed import parse_json_feed
from .opml import parse_opml, write_opml
from .sitemap import parse_sitemap
from .starter import Pack, starter_packs
from .xmlsafety import ensure_safe_xml, read_prolog

__all__ = [
    "COMMON_FEED_PATHS",
    "Pack",
    "discover_feeds",
    "looks_like_feed",
    "parse_feed",
    "parse_opml",
    "starter_packs",
    "write_opml",
]

_FEED_ROOTS = frozenset({"rss", "rdf", "feed", "channel", "urlset", "sitemapindex"})
_SITEMAP_ROOTS = frozenset({"urlset", "sitemapindex"})
_JSON_FEED_VERSION = re.compile(rb'"version"\s*:\s*"https?://jsonfeed\.org/version/')
_HTML_HINT = re.compile(rb"<!doctype\s+html|<html[\s>]|<head[\s>]|<body[\s>]", re.IGNORECASE)
_XML_FEED_HINT = re.compile(rb"<(rss|feed|rdf:rdf|channel|urlset|sitemapindex)[\s>]", re.IGNORECASE)
_GZIP_MAGIC = b"\x1f\x8b"
# The sitemap protocol caps a sitemap at 50 MB uncompressed; a gzip body that inflates past that is refused
# rather than allowed to fill memory.
_MAX_INFLATED = 50 * 1024 * 1024
_SNIFF = 4096


def _first_byte(content: bytes) -> bytes:
    """The first significant character, skipping a BOM and whitespace (UTF-8 and ASCII-compatible bodies)."""
    stripped = content[:_SNIFF].removeprefix(b"\xef\xbb\xbf").lstrip()
    return stripped[:1]


def _gunzip(content: bytes, url: str) -> bytes:
    """Inflate a gzip body (sitemap.xml.gz is served as-is, not with Content-Encoding), capped in size."""
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        data = inflater.decompress(content, _MAX_INFLATED)
    except zlib.error as exc:
        raise FeedError(
            f"the document at {url} is gzip-compressed but corrupt ({exc}); fetch it again"
        ) from exc
    if inflater.unconsumed_tail:
        raise FeedError(
            f"the document at {url} inflates to more than {_MAX_INFLATED // 2**20} MB; split it into smaller "
            "sitemaps or feeds"
        )
    return data


def looks_like_feed(content: bytes, content_type: str = "") -> bool:
    """A cheap sniff: does the body start like an RSS/Atom/RDF feed, a sitemap, or a JSON Feed?"""
    first = _first_byte(content)
    if first == b"{":
        return bool(_JSON_FEED_VERSION.search(content[:_SNIFF]))
    root = read_prolog(content).root_local
    if root:
        return root in _FEED_ROOTS
    # No clean prolog (junk before the XML, an odd encoding): fall back on the declared type plus a tag hint.
    kind = content_type.split(";", 1)[0].strip().lower()
    return kind.endswith(("rss+xml", "atom+xml", "/xml")) and bool(_XML_FEED_HINT.search(content[:_SNIFF]))


def _html_error(url: str) -> FeedError:
    return FeedError(
        f"the server sent an HTML page, not a feed, for {url}; give the site's home page to discover its "
        "feeds, or the feed's own URL"
    )


def parse_feed(content: bytes, url: str, content_type: str = "") -> Feed:
    """Detect the format from the bytes (Content-Type is only a hint: servers lie) and parse it.

    Raises UnsafeXMLError for XML that declares entities, FeedError for anything that is not a usable feed:
    one that is broken and yields nothing, or lists entries none of which can be read. What a lenient parser
    recovers from a feed with errors is kept, and `Feed.problems` says what the errors were.
    """
    return _usable(_parse(content, url, content_type), url)


def _usable(feed: Feed, url: str) -> Feed:
    if feed.entries or feed.sitemaps:
        return feed
    what = "sitemap" if feed.kind is SourceKind.SITEMAP else "feed"
    if feed.problems:
        raise FeedError(
            f"not a valid {what}: {feed.problems}; nothing usable could be read from {url}. Ask the publisher "
            f"to fix the {what}, or check the URL"
        )
    if feed.skipped:
        raise FeedError(
            f"the {what} at {url} lists {feed.skipped} entries, but none has an http(s) address to read it at; "
            f"ask the publisher to fix the {what}"
        )
    return feed  # a valid feed with nothing in it yet: new sites start that way


def _parse(content: bytes, url: str, content_type: str) -> Feed:
    if content.startswith(_GZIP_MAGIC):
        content = _gunzip(content, url)
    if not content.strip():
        raise FeedError(f"the server sent an empty body for {url}; check the URL, or try again later")
    first = _first_byte(content)
    if first in (b"{", b"["):
        return parse_json_feed(content, url)
    prolog = read_prolog(content)
    ensure_safe_xml(prolog)
    root = prolog.root_local
    if root == "html" or (
        not root and not _XML_FEED_HINT.search(content[:_SNIFF]) and _HTML_HINT.search(content[:_SNIFF])
    ):
        raise _html_error(url)
    if root in _SITEMAP_ROOTS:
        return parse_sitemap(content, url)
    if root == "opml":
        raise FeedError(
            f"the document at {url} is an OPML subscription list, not a feed; import it as OPML to subscribe "
            "to the feeds it lists"
        )
    return parse_xml_feed(content, url, content_type)
