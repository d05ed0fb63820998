"""RSS 0.9x/1.0/2.0 and Atom 0.3/1.0 through feedparser, normalised into broadsheet's Feed and FeedEntry.

Owns mapping feedparser's result onto the models and deciding when a broken feed still counts; not sniffing
the format (see `broadsheet.sources.parse_feed`) and not entity safety (checked before this module runs).
"""

from __future__ import annotations

import html
import io
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import feedparser

from broadsheet.dates import parse_date
from broadsheet.errors import FeedError
from broadsheet.models import Feed, FeedEntry, SourceKind
from broadsheet.text import clean_text
from broadsheet.urls import absolute_url

from .normalize import dedupe_tags
from .xmlparse import xml_problem

__all__ = ["parse_xml_feed"]

Raw = Mapping[str, Any]

# RSS <author> is "email (Name)" by the spec; feedparser splits it only when the document parsed strictly.
_EMAIL_NAME = re.compile(r"^\s*\S+@\S+\s*\((.+)\)\s*$")
_HTML_TYPES = ("text/html", "application/xhtml+xml")
_NOT_IMAGE_EXT = re.compile(r"\.(mp3|m4a|ogg|wav|mp4|m4v|mov|webm|avi|pdf)(\?|$)", re.IGNORECASE)


def parse_xml_feed(content: bytes, url: str, content_type: str = "") -> Feed:
    """Parse an RSS or Atom document. Raises FeedError when nothing usable can be recovered from it."""
    # BytesIO, never the bare bytes: feedparser tries to open() bytes or a str as a file name first.
    result = feedparser.parse(
        io.BytesIO(content),
        response_headers={"content-type": content_type or "application/xml", "content-location": url},
    )
    meta: Raw = result.get("feed", {})
    raw_entries: Sequence[Raw] = result.get("entries", [])
    version: str = result.get("version", "")
    # feedparser also flags documents that are well-formed but, say, declared the wrong encoding: only a
    # document that is not well-formed XML has "errors" a reader is told about.
    problems = xml_problem(content) if result.get("bozo") else ""
    if result.get("bozo") and not raw_entries and not problems:
        problems = str(result.get("bozo_exception") or "")
    if not version and not raw_entries and not problems:
        raise FeedError(
            f"the document at {url} is XML but neither RSS nor Atom; give the feed's own URL, or the site's "
            "home page to discover its feeds"
        )
    feed_lang = str(meta.get("language") or "").strip()
    entries: list[FeedEntry] = []
    for raw in raw_entries:
        entry = _entry(raw, url, feed_lang, rss=version.startswith("rss"))
        if entry is not None:
            entries.append(entry)
    return Feed(
        kind=SourceKind.FEED,
        format=version or "unknown",
        title=clean_text(str(meta.get("title", ""))),
        site_url=absolute_url(url, str(meta.get("link", ""))),
        description=clean_text(str(meta.get("subtitle", ""))),
        lang=feed_lang,
        entries=tuple(entries),
        problems=problems,
        skipped=len(raw_entries) - len(entries),
        hub=_link(meta, "hub", url),
        self_url=_link(meta, "self", url),
    )


def _link(meta: Raw, rel: str, base: str) -> str:
    """The feed's first <link rel=`rel`> (Atom's, or atom:link in RSS), absolute; '' if none."""
    for link in meta.get("links", []) or []:
        if isinstance(link, dict) and link.get("rel") == rel and link.get("href"):
            return absolute_url(base, str(link["href"]))
    return ""


def _entry(raw: Raw, feed_url: str, feed_lang: str, *, rss: bool) -> FeedEntry | None:
    """One entry, or None when it has no http(s) URL to point a reader at."""
    guid = str(raw.get("id", "")).strip()
    link = absolute_url(feed_url, str(raw.get("link", "")))
    if not link and raw.get("guidislink"):
        link = absolute_url(feed_url, guid)
    if not link:
        return None
    published = _date(raw, "published")
    updated = _date(raw, "updated")
    if rss and published is None:
        # feedparser files RSS's dc:date under "updated"; in RSS 1.0 and 2.0 it is the publication date.
        published = updated
    content_html = _content_html(raw)
    summary = str(raw.get("summary", "")).strip()
    if summary == content_html:
        summary = ""  # feedparser copies Atom content into a missing summary; the feed gave no summary
    return FeedEntry(
        url=link,
        title=clean_text(str(raw.get("title", ""))),
        published=published,
        updated=updated,
        author=_authors(raw),
        summary=summary,
        content_html=content_html,
        image=_image(raw, _base(raw, feed_url)),
        tags=dedupe_tags(str(tag.get("label") or tag.get("term") or "") for tag in raw.get("tags", [])),
        guid=guid,
        lang=_lang(raw) or feed_lang,
    )


def _date(raw: Raw, key: str) -> datetime | None:
    """The entry's date as written, read by the one date parser every source and page goes through
    (feedparser's own reading disagrees with it on zone names such as CEST)."""
    return parse_date(raw.get(key))


def _authors(raw: Raw) -> str:
    names: list[str] = []
    for author in raw.get("authors", []) or [{"name": raw.get("author", "")}]:
        name = clean_text(str(author.get("name") or ""))
        match = _EMAIL_NAME.match(name)
        if match:
            name = match.group(1).strip()
        if name and name not in names:
            names.append(name)
    return ", ".join(names)


def _content_html(raw: Raw) -> str:
    contents: Sequence[Raw] = raw.get("content", [])
    for item in contents:
        if item.get("type") in _HTML_TYPES and item.get("value"):
            return str(item["value"])
    for item in contents:
        if item.get("value"):
            # Plain-text content: escape it so the field stays HTML, as its name promises.
            return "<p>" + html.escape(str(item["value"])) + "</p>"
    return ""


def _is_image(medium: str, mime: str, url: str) -> bool:
    if medium or mime:
        return medium == "image" or mime.startswith("image/")
    return not _NOT_IMAGE_EXT.search(url)


def _image(raw: Raw, base: str) -> str:
    """media:content, then media:thumbnail, then an image enclosure; itunes:image is a show logo: ignored."""
    for media in raw.get("media_content", []):
        url = str(media.get("url", ""))
        if _is_image(str(media.get("medium", "")), str(media.get("type", "")), url):
            found = absolute_url(base, url)
            if found:
                return found
    for thumb in raw.get("media_thumbnail", []):
        found = absolute_url(base, str(thumb.get("url", "")))
        if found:
            return found
    for link in raw.get("links", []):
        if link.get("rel") == "enclosure" and str(link.get("type", "")).startswith("image/"):
            found = absolute_url(base, str(link.get("href", "")))
            if found:
                return found
    return ""


def _base(raw: Raw, feed_url: str) -> str:
    """The xml:base in force for this entry, which feedparser records on each text detail."""
    detail = raw.get("title_detail") or raw.get("summary_detail") or {}
    return str(detail.get("base") or feed_url)


def _lang(raw: Raw) -> str:
    """The entry's own language: dc:language, else the xml:lang feedparser noted on its title or content."""
    if raw.get("language"):
        return str(raw["language"]).strip()
    for detail in (raw.get("title_detail"), *raw.get("content", [])):
        if detail and detail.get("language"):
            return str(detail["language"]).strip()
    return ""
