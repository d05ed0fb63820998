"""How times and lengths read on a page: "18 minutes ago", "26 Nov 2026", "4 min read". Pure functions."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

__all__ = ["absolute_time", "iso", "reading_minutes", "relative_time"]

WORDS_PER_MINUTE = 230
# English names, whatever the machine's locale (strftime's %A and %B follow it); and a table is 3x strftime,
# which counts on a page listing 30 times.
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December")  # fmt: skip


def _plural(count: int, unit: str) -> str:
    return f"{count} {unit}{'' if count == 1 else 's'} ago"


def relative_time(moment: datetime, now: datetime, zone: ZoneInfo | None = None) -> str:
    """ "just now", "18 minutes ago", "3 hours ago", "2 days ago"; after a week, the date ("26 Nov 2026")."""
    seconds = (now - moment).total_seconds()
    if seconds < 60:  # also the future: a publisher's clock a little ahead of ours
        return "just now"
    if seconds < 3600:
        return _plural(int(seconds // 60), "minute")
    if seconds < 86400:
        return _plural(int(seconds // 3600), "hour")
    if seconds < 7 * 86400:
        return _plural(int(seconds // 86400), "day")
    local = moment.astimezone(zone or UTC)
    return f"{local.day} {_MONTHS[local.month - 1][:3]} {local.year}"


def absolute_time(moment: datetime, zone: ZoneInfo | None = None) -> str:
    """The full time for a tooltip: "Thursday 26 November 2026, 14:05 UTC"."""
    local = moment.astimezone(zone or UTC)
    return (
        f"{_DAYS[local.weekday()]} {local.day} {_MONTHS[local.month - 1]} {local.year}, "
        f"{local.hour:02d}:{local.minute:02d} {local.tzname()}"
    )


def iso(moment: datetime) -> str:
    """RFC 3339 for `<time datetime>` and JSON-LD."""
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def reading_minutes(text: str) -> int:
    return max(1, round(len(text.split()) / WORDS_PER_MINUTE))
