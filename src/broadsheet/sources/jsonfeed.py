"""JSON Feed 1.0 and 1.1 (https://jsonfeed.org/version/1.1), normalised into broadsheet's Feed and FeedEntry.

Owns reading the JSON and the 1.0/1.1 differences (author vs authors, language); not sniffing the body.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import nh3

from broadsheet.dates import parse_date
from broadsheet.errors import FeedError
from broadsheet.models import Feed, FeedEntry, SourceKind
from broadsheet.text import clean_text
from broadsheet.urls import absolute_url

from .normalize import dedupe_tags

__all__ = ["parse_json_feed"]

_VERSION_PREFIXES = ("https://jsonfeed.org/version/", "http://jsonfeed.org/version/")


def _load(content: bytes, url: str) -> Any:
    try:
        text = content.decode(json.detect_encoding(content))
    except UnicodeDecodeError:
        # JSON must be UTF-8, yet some servers write windows-1252; reading it as such keeps the text readable.
        text = content.decode("windows-1252", errors="replace")
    try:
        return json.loads(text.removeprefix("\ufeff"))
    except ValueError as exc:
        raise FeedError(
            f"the document at {url} looks like JSON but does not parse ({exc}); check that the URL serves a "
            "JSON Feed, or ask the publisher to fix it"
        ) from exc


def _str(obj: Mapping[str, Any], key: str) -> str:
    """A string field, or "" when it is missing or of another type (a number, a list) in a sloppy feed."""
    value = obj.get(key)
    return value.strip() if isinstance(value, str) else ""


def _dicts(value: Any) -> list[Mapping[str, Any]]:
    if isinstance(value, Mapping):
        return [value]
    if isinstance(value, list):
        return [item for item in value if isinstance(item, Mapping)]
    return []


def _author_names(obj: Mapping[str, Any]) -> str:
    """1.1's `authors` list, else 1.0's single `author` object; names joined with ", "."""
    people = _dicts(obj.get("authors")) or _dicts(obj.get("author"))
    names: list[str] = []
    for person in people:
        name = clean_text(_str(person, "name"))
        if name and name not in names:
            names.append(name)
    return ", ".join(names)


def parse_json_feed(content: bytes, url: str) -> Feed:
    """Parse a JSON Feed. Raises FeedError for invalid JSON and for JSON that is not a JSON Feed."""
    data = _load(content, url)
    version = _str(data, "version") if isinstance(data, Mapping) else ""
    if not isinstance(data, Mapping) or not version.startswith(_VERSION_PREFIXES):
        raise FeedError(
            f'the document at {url} is JSON but not a JSON Feed (no "version": '
            "\"https://jsonfeed.org/version/1.1\"); give the feed's own URL, or the site's home page to "
            "discover its feeds"
        )
    number = version.rsplit("/", 1)[1]
    feed_lang = _str(data, "language")
    feed_author = _author_names(data)
    entries = []
    items = _dicts(data.get("items"))
    for item in items:
        entry = _entry(item, url, feed_lang, feed_author)
        if entry is not None:
            entries.append(entry)
    return Feed(
        kind=SourceKind.FEED,
        format="json" + number.replace(".", "").ljust(2, "0"),
        title=clean_text(_str(data, "title")),
        site_url=absolute_url(url, _str(data, "home_page_url")),
        description=clean_text(_str(data, "description")),
        lang=feed_lang,
        entries=tuple(entries),
        skipped=len(items) - len(entries),
        hub=_hub(data, url),
        self_url=absolute_url(url, _str(data, "feed_url")),
    )


def _hub(data: Mapping[str, Any], base: str) -> str:
    """The first WebSub hub of the feed's `hubs` ({"type": "WebSub", "url": ...}); '' if none."""
    for hub in _dicts(data.get("hubs")):
        if _str(hub, "type").casefold() in ("websub", "pubsubhubbub") and _str(hub, "url"):
            return absolute_url(base, _str(hub, "url"))
    return ""


def _entry(item: Mapping[str, Any], feed_url: str, feed_lang: str, feed_author: str) -> FeedEntry | None:
    guid = item.get("id")
    # `id` may legally be a number in 1.0 feeds; keep it as text.
    guid_text = str(guid).strip() if isinstance(guid, str | int) else ""
    link = (
        absolute_url(feed_url, _str(item, "url"))
        or absolute_url(feed_url, _str(item, "external_url"))
        or absolute_url("", guid_text)
    )
    if not link:
        return None
    content_html = _str(item, "content_html")
    tags = item.get("tags")
    return FeedEntry(
        url=link,
        title=clean_text(_str(item, "title")),
        published=parse_date(_str(item, "date_published")),
        updated=parse_date(_str(item, "date_modified")),
        author=_author_names(item) or feed_author,
        summary=_str(item, "summary") or _str(item, "content_text"),
        # feedparser sanitises RSS and Atom content; JSON Feed content gets the same treatment here.
        content_html=nh3.clean(content_html) if content_html else "",
        image=absolute_url(feed_url, _str(item, "image") or _str(item, "banner_image")),
        tags=dedupe_tags(tag for tag in tags if isinstance(tag, str)) if isinstance(tags, list) else (),
        guid=guid_text,
        lang=_str(item, "language") or feed_lang,
    )
