"""Feeds out: lists of ArticleCards written as Atom 1.0 and RSS 2.0 documents, as pure functions.

Owns the XML (ids, dates, escaping, namespaces); not the routes, queries or caching that serve it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from html import escape
from typing import Any
from urllib.parse import quote, urlsplit

from lxml import etree

from broadsheet.models import ArticleCard
from broadsheet.text import collapse_whitespace
from broadsheet.urls import absolute_url, ascii_host

__all__ = ["ATOM_TYPE", "RSS_TYPE", "FeedMeta", "article_link", "atom_feed", "rss_feed"]

ATOM_TYPE = "application/atom+xml; charset=utf-8"
RSS_TYPE = "application/rss+xml; charset=utf-8"

_ATOM = "http://www.w3.org/2005/Atom"
_MEDIA = "http://search.yahoo.com/mrss/"
_DC = "http://purl.org/dc/elements/1.1/"
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
_RSS_DOCS = "https://www.rssboard.org/rss-specification"
# The date in a tag: URI names when we held the authority; it is part of every entry id, so it never changes.
_TAG_DATE = "2026"
# Everything XML 1.0's Char production excludes: C0 controls but tab/LF/CR, lone surrogates, U+FFFE/U+FFFF
# (lxml refuses such strings outright, and a publisher's title can carry them); and what feed validators flag
# as bad characters though XML allows them: C1 controls and U+FFFD, the mark of text decoded wrongly upstream.
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x80-\x9f\ud800-\udfff\ufffd\ufffe\uffff]")
_DNS_NAME = re.compile(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*")
_LANG_TAG = re.compile(r"[A-Za-z]{2}(-[A-Za-z0-9]{1,8})*")
# ISO 639-1: feed validators check a language tag's first part against the registered codes.
_ISO_639_1_CODES = (
    "aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr cs cu cv cy da de dv dz ee "
    "el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht hu hy hz ia id ie ig ii ik io is "
    "it iu ja jv ka kg ki kj kk kl km kn ko kr ks ku kv kw ky la lb lg li ln lo lt lu lv mg mh mi mk ml mn mr ms "
    "mt my na nb nd ne ng nl nn no nr nv ny oc oj om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg si sk "
    "sl sm sn so sq sr ss st su sv sw ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve vi vo wa wo xh yi "
    "yo za zh zu"
)
_ISO_639_1 = frozenset(_ISO_639_1_CODES.split())
# What may stay as it is in each part of a URI (RFC 3986); anything else, spaces and non-ASCII included, is
# percent-encoded, as validators accept only URIs (publishers' addresses and request paths can be IRIs).
_PATH_SAFE = "/:@!$&'()*+,;=~%"
_QUERY_SAFE = _PATH_SAFE + "?"
_USER_SAFE = "!$&'()*+,;=~%"
_HOST = re.compile(r"[A-Za-z0-9._-]+")
_LONE_PERCENT = re.compile("%(?![0-9A-Fa-f]{2})")


@dataclass(frozen=True, slots=True)
class FeedMeta:
    """What a feed says about itself; URLs are absolute."""

    title: str  # e.g. "broadsheet — BBC News"
    self_url: str  # this feed document
    html_url: str  # the matching HTML page
    id: str  # stable IRI for Atom <id>; the self URL unless told otherwise
    subtitle: str = ""
    lang: str = ""
    generator: str = "broadsheet"
    hub: str = ""  # a WebSub hub readers may subscribe at (<link rel="hub">), "" for none


def article_link(base_url: str, card: ArticleCard) -> str:
    """The absolute URL of our page for `card`."""
    return f"{base_url.rstrip('/')}/articles/{card.id}"


def atom_feed(meta: FeedMeta, cards: Sequence[ArticleCard], base_url: str, now: datetime) -> bytes:
    """An Atom 1.0 document (UTF-8) listing `cards` in the order given; `now` dates an empty feed."""
    _require_absolute(base_url)
    feed = etree.Element(f"{{{_ATOM}}}feed", nsmap={None: _ATOM, "media": _MEDIA})
    lang = _lang(meta.lang)
    if lang:
        feed.set(_XML_LANG, lang)
    _atom_child(feed, "id", _meta_uri(_line(meta.id)))
    _atom_child(feed, "title", _line(meta.title), type="text")
    if _line(meta.subtitle):
        _atom_child(feed, "subtitle", _line(meta.subtitle), type="text")
    _atom_child(feed, "updated", _rfc3339(_newest(cards, now)))
    _atom_child(feed, "link", rel="self", type="application/atom+xml", href=_meta_uri(meta.self_url))
    _atom_child(feed, "link", rel="alternate", type="text/html", href=_meta_uri(meta.html_url))
    if meta.hub:
        _atom_child(feed, "link", rel="hub", href=_meta_uri(meta.hub))
    _atom_child(feed, "generator", _line(meta.generator))
    for card in _distinct(cards):
        _atom_entry(feed, card, base_url)
    return _serialise(feed)


def rss_feed(meta: FeedMeta, cards: Sequence[ArticleCard], base_url: str, now: datetime) -> bytes:
    """An RSS 2.0 document (UTF-8) listing `cards` in the order given; `now` dates an empty feed."""
    _require_absolute(base_url)
    rss = etree.Element("rss", version="2.0", nsmap={"atom": _ATOM, "dc": _DC, "media": _MEDIA})
    channel = etree.SubElement(rss, "channel")
    _child(channel, "title", _line(meta.title))
    _child(channel, "link", _meta_uri(meta.html_url))
    # RSS requires a non-empty description; the title is the best we have when no subtitle is given.
    _child(channel, "description", _line(meta.subtitle) or _line(meta.title) or _line(meta.generator))
    if _lang(meta.lang):
        _child(channel, "language", _lang(meta.lang))
    # Dated by the newest item, not the clock, so the same cards give the same bytes (and the same ETag).
    built = _rfc822(_newest(cards, now))
    _child(channel, "pubDate", built)
    _child(channel, "lastBuildDate", built)
    etree.SubElement(
        channel, f"{{{_ATOM}}}link", rel="self", type="application/rss+xml", href=_meta_uri(meta.self_url)
    )
    if meta.hub:
        etree.SubElement(channel, f"{{{_ATOM}}}link", rel="hub", href=_meta_uri(meta.hub))
    _child(channel, "generator", _line(meta.generator))
    _child(channel, "docs", _RSS_DOCS)
    for card in _distinct(cards):
        _rss_item(channel, card, base_url)
    return _serialise(rss)


def _atom_entry(feed: Any, card: ArticleCard, base_url: str) -> None:
    entry = _atom_child(feed, "entry")
    lang = _lang(card.lang)
    if lang:
        entry.set(_XML_LANG, lang)
    _atom_child(entry, "id", _entry_id(base_url, card))
    _atom_child(entry, "title", _title(card), type="text")
    # Cards carry no modification time: the publication time is the last change we know of.
    when = _rfc3339(_card_time(card))
    _atom_child(entry, "updated", when)
    _atom_child(entry, "published", when)
    _atom_child(entry, "link", rel="alternate", type="text/html", href=article_link(base_url, card))
    publisher_url = _publisher_url(card)
    if publisher_url:
        _atom_child(entry, "link", rel="related", type="text/html", href=publisher_url)
    author = _atom_child(entry, "author")
    _atom_child(author, "name", _outlet(card))
    # Without text of its own an entry says nothing in a reader's list: its title stands in.
    _atom_child(entry, "summary", _text(card.excerpt).strip() or _title(card), type="text")
    for tag in _tags(card):
        _atom_child(entry, "category", term=tag)
    _thumbnail(entry, card)


def _rss_item(channel: Any, card: ArticleCard, base_url: str) -> None:
    item = etree.SubElement(channel, "item")
    _child(item, "title", _title(card))
    link = article_link(base_url, card)
    _child(item, "link", link)
    guid = _entry_id(base_url, card)
    _child(item, "guid", guid, isPermaLink="true" if guid == link else "false")
    _child(item, "pubDate", _rfc822(_card_time(card)))
    if _text(card.excerpt).strip():
        # RSS readers render description as HTML, so plain text is HTML-escaped before XML escapes it again.
        _child(item, "description", escape(_text(card.excerpt), quote=False))
    # <source url> must point at the outlet's feed, which a card does not know; dc:creator names the outlet.
    _child(item, f"{{{_DC}}}creator", _outlet(card))
    for tag in _tags(card):
        _child(item, "category", tag)
    _thumbnail(item, card)


def _thumbnail(parent: Any, card: ArticleCard) -> None:
    # An enclosure needs a media type and length we would have to guess; media:thumbnail needs only the URL.
    image = _http_url(_text(card.image).strip(), base=_text(card.url)) if card.image.strip() else ""
    if image:
        etree.SubElement(parent, f"{{{_MEDIA}}}thumbnail", url=image)


def _entry_id(base_url: str, card: ArticleCard) -> str:
    """A tag: URI on our host, which survives changes of scheme, port or path prefix; else our page URL."""
    host = urlsplit(base_url).hostname or ""
    if _DNS_NAME.fullmatch(host):
        return f"tag:{host},{_TAG_DATE}:article:{card.id}"
    # tag: URIs allow only DNS names and e-mail addresses as authority (RFC 4151): an IPv6 literal cannot be one.
    return article_link(base_url, card)


def _child(parent: Any, tag: str, text: str = "", **attrs: str) -> Any:
    element = etree.SubElement(parent, tag, attrs)
    if text:
        element.text = text
    return element


def _atom_child(parent: Any, tag: str, text: str = "", **attrs: str) -> Any:
    return _child(parent, f"{{{_ATOM}}}{tag}", text, **attrs)


def _serialise(root: Any) -> bytes:
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))


def _text(value: str) -> str:
    return _XML_INVALID.sub("", value)


def _line(value: str) -> str:
    """Single-line text: invalid characters gone, runs of whitespace (newlines included) made one space."""
    return collapse_whitespace(_text(value))


def _title(card: ArticleCard) -> str:
    return _line(card.title) or _line(card.canonical_url or card.url) or f"Article {card.id}"


def _outlet(card: ArticleCard) -> str:
    # Atom requires an author on every entry (we set none on the feed): fall back to the publisher's host.
    publisher_url = _publisher_url(card)
    return (
        _line(card.outlet)
        or _line(card.outlet_slug)
        or (urlsplit(publisher_url).hostname if publisher_url else None)
        or "unknown"
    )


def _tags(card: ArticleCard) -> list[str]:
    return list(dict.fromkeys(tag for tag in map(_line, card.tags) if tag))


def _publisher_url(card: ArticleCard) -> str:
    return _http_url(_text(card.canonical_url).strip()) or _http_url(_text(card.url).strip())


def _http_url(url: str, base: str = "") -> str:
    """`url` resolved against `base` if that gives absolute http(s), as a URI; else "": a broken link is left
    out."""
    return _uri(absolute_url(base, url))


def _uri(url: str) -> str:
    """An absolute URL written as a URI: a non-ASCII host in IDNA (UTS #46, as browsers map it), everything
    not allowed where it stands percent-encoded (what is already encoded stays as it is); "" when it cannot be
    one."""
    url = _text(url).strip()
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:  # a port out of range, a broken IPv6 literal
        return ""
    if not parts.scheme or not host:
        return ""
    if ":" in host:  # an IPv6 literal, already checked by urlsplit
        host = f"[{_LONE_PERCENT.sub('%25', host)}]"
    else:
        host = ascii_host(host)
        if not _HOST.fullmatch(host):
            return ""
    netloc = host if port is None else f"{host}:{port}"

    def encode(part: str, safe: str) -> str:
        return quote(_LONE_PERCENT.sub("%25", part), safe=safe)

    if parts.username is not None:
        userinfo = encode(parts.username, _USER_SAFE)
        if parts.password is not None:
            userinfo += ":" + encode(parts.password, _USER_SAFE)
        netloc = f"{userinfo}@{netloc}"
    uri = f"{parts.scheme}://{netloc}{encode(parts.path, _PATH_SAFE)}"
    if parts.query:
        uri += "?" + encode(parts.query, _QUERY_SAFE)
    if parts.fragment:
        uri += "#" + encode(parts.fragment, _QUERY_SAFE)
    return uri


def _meta_uri(url: str) -> str:
    """The feed's own addresses (ours, or an id such as tag:...) as URIs where they are URLs, else as given."""
    return _uri(url) or _line(url)


def _distinct(cards: Sequence[ArticleCard]) -> list[ArticleCard]:
    """Each article once, where it first appears (a repeated guid is an error in RSS, a repeated id one in
    Atom)."""
    seen: set[int] = set()
    kept = []
    for card in cards:
        if card.id not in seen:
            seen.add(card.id)
            kept.append(card)
    return kept


def _require_absolute(base_url: str) -> None:
    if not _http_url(base_url):
        raise ValueError(
            f"feeds need an absolute http(s) base URL to link articles, got {base_url!r}; "
            "pass the site's public root such as 'https://news.example.org'"
        )


def _lang(value: str) -> str:
    """A language tag feed readers and validators know ("en", "pt-BR"), or "" to say nothing."""
    tag = value.strip().replace("_", "-")
    return tag if _LANG_TAG.fullmatch(tag) and tag[:2].lower() in _ISO_639_1 else ""


def _card_time(card: ArticleCard) -> datetime:
    return _utc(card.published or card.sort_time)


def _newest(cards: Sequence[ArticleCard], now: datetime) -> datetime:
    return max((_card_time(card) for card in cards), default=_utc(now))


def _utc(value: datetime) -> datetime:
    # The store writes UTC; a naive value that slips through is read as UTC rather than as local time.
    aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return aware.astimezone(UTC).replace(microsecond=0)


def _rfc3339(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def _rfc822(value: datetime) -> str:
    return format_datetime(value, usegmt=True)
