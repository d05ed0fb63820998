"""Publication dates: the one reader of date strings from feeds, sitemaps, page metadata and JSON-LD, to aware UTC,
and the writer of dates in exports and JSON output.

Owns the forms accepted, the zone names and the plausible range; writing dates for pages and feeds is `web/`'s.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from dateutil import parser as dateparser

from broadsheet.clock import utcnow
from broadsheet.text import collapse_whitespace

__all__ = ["EARLIEST", "FUTURE_SLACK", "iso_utc", "parse_date"]

log = logging.getLogger(__name__)

#: Earlier dates are placeholders (0001-01-01; 1970-01-01, a zero timestamp) or typos, not a web page's date.
EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)
#: How far past now a date may lie: a misread zone is wrong by 14 hours at most and a publisher's clock may run
#: fast, but an article dated next week is a scheduled event or a typo.
FUTURE_SLACK = timedelta(days=2)

_HOUR = 3600
# RFC 822's own names mean what RFC 822 says (CST is North American Central, not China). Other names are here
# only when they have one common meaning in news: BST is British Summer Time (the zone British publishers
# write; Bangladesh's sites write +06:00). IST (India, Ireland, Israel), AST (Atlantic, Arabia) and names never
# seen are not, and RFC 5322 section 4.3 reads those as UTC.
_ZONES: dict[str, int] = {
    **dict.fromkeys(("UT", "UTC", "GMT", "Z", "WET"), 0),
    "EST": -5 * _HOUR, "EDT": -4 * _HOUR, "CST": -6 * _HOUR, "CDT": -5 * _HOUR,
    "MST": -7 * _HOUR, "MDT": -6 * _HOUR, "PST": -8 * _HOUR, "PDT": -7 * _HOUR,
    "AKST": -9 * _HOUR, "AKDT": -8 * _HOUR, "HST": -10 * _HOUR,
    **dict.fromkeys(("WEST", "BST", "CET", "MET", "MEZ"), 1 * _HOUR),
    **dict.fromkeys(("CEST", "MEST", "MESZ", "EET"), 2 * _HOUR),
    **dict.fromkeys(("EEST", "MSK"), 3 * _HOUR),
    **dict.fromkeys(("HKT", "SGT", "AWST"), 8 * _HOUR),
    "JST": 9 * _HOUR, "KST": 9 * _HOUR, "ACST": 9 * _HOUR + 1800, "ACDT": 10 * _HOUR + 1800,
    "AEST": 10 * _HOUR, "AEDT": 11 * _HOUR, "NZST": 12 * _HOUR, "NZDT": 13 * _HOUR,
}  # fmt: skip
# A date with a day: calendar (2026-11-30, 20261130), week (2026-W49-1, 2026W491) or ordinal (2026-334, 2026334).
# Coarser ISO forms ("2026", "2026-11") are a month or a year, not a day, and go to the stricter general parser.
_ISO_DAY = re.compile(r"\d{4}(?:-\d{2}-\d{2}|\d{4}|-?W\d{2}-?\d|-?\d{3})(?![\d-])")
# People write "GMT+2" for two hours ahead of GMT; dateutil reads it the POSIX way round, as two hours behind.
_GMT_OFFSET = re.compile(r"\b(?:GMT|UTC)\s*([+-])(\d{1,2})(?::?(\d{2}))?\b")
# A leap second (RFC 3339 allows :60) has no datetime; one second early is closer than no date.
_LEAP_SECOND = re.compile(r"(?<=\d\d:\d\d):60(?!\d)")


class _DayDates(dateparser.parserinfo):
    """dateutil's reading of free-form dates, with RFC 5322's two-digit years and a day required."""

    def convertyear(self, year: int, century_specified: bool = False) -> int:
        # RFC 5322 section 4.3, not dateutil's window around this year: the same text always gives the same date.
        if year < 100 and not century_specified:
            return year + (2000 if year < 50 else 1900)
        if 100 <= year < 1000:
            return year + 1900  # old software wrote years counted from 1900
        return year

    def validate(self, res: Any) -> bool:
        # Without all three, dateutil fills the gaps from today: "March 2026" would become a day it never named.
        if res.year is None or res.month is None or res.day is None:
            return False
        return super().validate(res)


_DAY_DATES = _DayDates()


def _zone(name: str | None, offset: int | None) -> timezone | None:
    """dateutil's tzinfos hook: a numeric offset wins; names from the table; None (read as UTC) for the rest."""
    if offset is not None:
        return timezone(timedelta(seconds=offset))
    seconds = _ZONES.get((name or "").upper())
    return None if seconds is None else timezone(timedelta(seconds=seconds))


def _gmt_offset(match: re.Match[str]) -> str:
    sign, hours, minutes = match.groups()
    return f"{sign}{int(hours):02d}:{minutes or '00'}"


def _read(text: str) -> datetime:
    """`text` as a datetime, naive when it names no zone; ValueError or OverflowError when it is no date."""
    if _ISO_DAY.match(text):
        try:
            return dateparser.isoparse(text)
        except ValueError:
            pass  # ISO with more after it ("2026-03-03 10:00 CEST") is for the general parser below
    return dateparser.parse(_GMT_OFFSET.sub(_gmt_offset, text), parserinfo=_DAY_DATES, tzinfos=_zone)


def _plausible(when: datetime, now: datetime | None) -> datetime | None:
    latest = (now or utcnow()) + FUTURE_SLACK
    if EARLIEST <= when <= latest:
        return when
    log.debug("date %s is before %s or after %s: not a publication date", when, EARLIEST, latest)
    return None


def parse_date(value: object, *, now: datetime | None = None) -> datetime | None:
    """`value` as an aware UTC datetime; None when it is not a string, not a date, or not between EARLIEST and
    `now` (default: the clock) plus FUTURE_SLACK. The same rule serves every field: published, updated, lastmod.

    Accepted: ISO 8601 and RFC 3339 with a day (calendar, week or ordinal; basic or extended; with or without a
    time or zone), RFC 822/5322 with or without the day name and with two-digit years (00-49 are 20xx, 50-99
    19xx), and the free forms dateutil reads ("March 3, 2026 9:30 AM EST") when they name a day, month and year.
    A time without a zone is UTC, a date without a time is midnight UTC. Zone names come from one table (RFC
    822's, then names with one common meaning); ambiguous (IST, BST, AST) and unknown names are UTC, as RFC 5322
    says. A day name is not checked against the date: the digits decide.
    """
    if not isinstance(value, str) or not (text := _LEAP_SECOND.sub(":59", collapse_whitespace(value))):
        return None
    try:
        parsed = _read(text)
        # astimezone is inside the try: "0001-01-01T00:00+01:00" in UTC falls outside datetime's range.
        when = parsed.replace(tzinfo=UTC) if parsed.utcoffset() is None else parsed.astimezone(UTC)
    except (ValueError, OverflowError) as exc:
        # An unreadable date is data, not a failure: the entry is still worth keeping without it.
        log.debug("unreadable date %r: %s", text, exc)
        return None
    return _plausible(when, now)


def iso_utc(moment: datetime | None) -> str | None:
    """ISO 8601 in UTC with a "Z" (what exports and JSON output write), or None."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z") if moment else None
