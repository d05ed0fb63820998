"""How times read on a page (web/timefmt.py): pure functions, checked against the calendar."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from broadsheet.web.timefmt import absolute_time, iso, relative_time

NOW = datetime(2026, 11, 26, 14, 5, 9, tzinfo=UTC)


def test_relative_times_count_up_then_turn_into_a_date() -> None:
    assert relative_time(NOW - timedelta(seconds=30), NOW) == "just now"
    assert relative_time(NOW + timedelta(minutes=2), NOW) == "just now"  # a publisher's clock running ahead
    assert relative_time(NOW - timedelta(minutes=1), NOW) == "1 minute ago"
    assert relative_time(NOW - timedelta(minutes=18), NOW) == "18 minutes ago"
    assert relative_time(NOW - timedelta(hours=3, minutes=59), NOW) == "3 hours ago"
    assert relative_time(NOW - timedelta(days=2), NOW) == "2 days ago"
    assert relative_time(NOW - timedelta(days=8), NOW) == "18 Nov 2026"
    # The date is the reader's: late on 31 December in UTC is already 1 January in Auckland.
    late = datetime(2025, 12, 31, 22, 0, tzinfo=UTC)
    assert relative_time(late, NOW, ZoneInfo("Pacific/Auckland")) == "1 Jan 2026"


def test_absolute_times_name_the_day_month_and_zone() -> None:
    assert absolute_time(NOW) == "Thursday 26 November 2026, 14:05 UTC"
    assert absolute_time(NOW, ZoneInfo("Europe/Paris")) == "Thursday 26 November 2026, 15:05 CET"
    assert absolute_time(datetime(2026, 7, 1, 9, 3, tzinfo=UTC), ZoneInfo("Europe/Paris")) == (
        "Wednesday 1 July 2026, 11:03 CEST"
    )
    assert iso(NOW.astimezone(ZoneInfo("Asia/Kolkata"))) == "2026-11-26T14:05:09Z"


DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]


def test_names_match_the_calendar_on_any_day() -> None:
    # English names whatever the machine's locale; 1 January 1990 was a Monday.
    rng = random.Random(8)
    zone = ZoneInfo("America/Sao_Paulo")
    for _ in range(500):
        moment = datetime(1990, 1, 1, tzinfo=UTC) + timedelta(seconds=rng.randrange(60 * 365 * 86400))
        local = moment.astimezone(zone)
        day = DAYS[(local.date().toordinal() - date(1990, 1, 1).toordinal()) % 7]
        month = MONTHS[local.month - 1]
        assert absolute_time(moment, zone) == (
            f"{day} {local.day} {month} {local.year}, {local.hour:02d}:{local.minute:02d} {local.tzname()}"
        )
        assert (
            relative_time(moment, moment + timedelta(days=30), zone)
            == f"{local.day} {month[:3]} {local.year}"
        )
