"""Small normalisers shared by the feed, JSON Feed and sitemap readers: titles, dates, URLs, tags.

Owns turning a format's loose strings into FeedEntry's conventions; knows nothing about any one format.
"""

from __future__ import annotations

import html
import logging
import re
import time
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from urllib.parse import urljoin, urlsplit

from dateutil import parser as dateparser

__all__ = ["absolute_url", "clean_text", "dedupe_tags", "parse_datetime", "struct_to_utc"]

log = logging.getLogger(__name__)

# A tag starts with a letter, "/" or "!": "5 < 6" in a title is text, "<b>" is markup.
_TAG = re.compile(r"<[/!]?[A-Za-z][^<>]*>")
_SPACE = re.compile(r"\s+")
_WEB_SCHEMES = ("http", "https")
# RFC 822 allows these zone names; dateutil alone would map a name that matches the server's own zone to local
# time and warn on the rest, so dates would depend on where broadsheet runs.
_ZONES = {
    name: timezone(timedelta(hours=hours))
    for name, hours in (
        ("UT", 0), ("UTC", 0), ("GMT", 0), ("Z", 0), ("EST", -5), ("EDT", -4), ("CST", -6), ("CDT", -5),
        ("MST", -7), ("MDT", -6), ("PST", -8), ("PDT", -7),
    )
}  # fmt: skip


def _zone(name: str | None, offset: int | None) -> tzinfo | None:
    """dateutil's tzinfos hook: numeric offsets as given, known names from the table, unknown names as UTC."""
    if offset is not None:
        return timezone(timedelta(seconds=offset))
    return _ZONES.get((name or "").upper())


def clean_text(value: str) -> str:
    """One line of plain text: tags stripped, entities decoded (even twice-escaped), whitespace collapsed."""
    text = _TAG.sub(" ", value)
    # Feeds often escape twice ("&amp;#8217;"); decoding until stable is bounded by the string's length.
    for _ in range(3):
        decoded = html.unescape(text)
        if decoded == text:
            break
        text = decoded
    # Decoding can reveal markup that was escaped in the source ("&lt;b&gt;"): strip it as well.
    text = _TAG.sub(" ", text)
    return _SPACE.sub(" ", text).strip()


def absolute_url(value: str, base: str) -> str:
    """`value` resolved against `base`, or "" when the result is not an http(s) URL."""
    value = value.strip()
    if not value:
        return ""
    resolved = urljoin(base, value) if base else value
    parts = urlsplit(resolved)
    if parts.scheme.lower() not in _WEB_SCHEMES or not parts.netloc:
        return ""
    return resolved


def struct_to_utc(parsed: time.struct_time | None) -> datetime | None:
    """feedparser's parsed dates are UTC struct_times; make them aware datetimes."""
    if parsed is None:
        return None
    return datetime(*parsed[:6], tzinfo=UTC)


def parse_datetime(value: str) -> datetime | None:
    """An aware UTC datetime from RFC 3339/822/W3C text; naive times are taken as UTC; unparseable gives None.

    A date that does not parse is data, not a failure: the entry is still worth keeping, so this logs at debug
    level and returns None rather than raising.
    """
    value = value.strip()
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00") if value.endswith("Z") else value)
    except ValueError:
        try:
            parsed = dateparser.parse(value, tzinfos=_zone)
        except (ValueError, OverflowError) as exc:
            log.debug("unparseable date %r: %s", value, exc)
            return None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    if parsed.year <= 1 or parsed.year >= 9999:
        return None  # converting to UTC could leave datetime's range; such a date is a placeholder anyway
    return parsed.astimezone(UTC)


def dedupe_tags(tags: Iterable[str]) -> tuple[str, ...]:
    """Cleaned, non-empty tags in first-seen order, case-insensitively unique."""
    seen: set[str] = set()
    out: list[str] = []
    for tag in tags:
        text = clean_text(tag)
        key = text.casefold()
        if text and key not in seen:
            seen.add(key)
            out.append(text)
    return tuple(out)
