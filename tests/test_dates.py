"""`broadsheet.dates`: every date a feed, sitemap, page or JSON-LD gives, read one way, to aware UTC."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from broadsheet.dates import EARLIEST, FUTURE_SLACK, parse_date

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, us: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, us, tzinfo=UTC)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param("Tue, 03 Mar 2026 10:00:00 CEST", utc(2026, 3, 3, 8), id="cest-is-plus-2"),
        pytest.param("Tue, 03 Mar 2026 10:00:00 CET", utc(2026, 3, 3, 9), id="cet-is-plus-1"),
        pytest.param("Tue, 03 Mar 2026 10:00:00 MESZ", utc(2026, 3, 3, 8), id="german-mesz"),
        pytest.param("Tue, 03 Mar 2026 10:00:00 EEST", utc(2026, 3, 3, 7), id="eest"),
        pytest.param("Tue, 03 Mar 2026 10:00:00 GMT", utc(2026, 3, 3, 10), id="gmt"),
        pytest.param("Tue, 03 Mar 2026 10:00:00 UT", utc(2026, 3, 3, 10), id="ut"),
        pytest.param("Tue, 03 Mar 2026 10:00:00 UTC", utc(2026, 3, 3, 10), id="utc"),
        pytest.param("Tue, 03 Mar 2026 10:00:00 Z", utc(2026, 3, 3, 10), id="z"),
        pytest.param("Tue, 03 Mar 2026 10:00:00 EST", utc(2026, 3, 3, 15), id="est"),
        pytest.param("Tue, 03 Mar 2026 10:00:00 EDT", utc(2026, 3, 3, 14), id="edt"),
        pytest.param("Tue, 03 Mar 2026 10:00:00 CST", utc(2026, 3, 3, 16), id="cst-is-rfc822-central"),
        pytest.param("Tue, 03 Mar 2026 10:00:00 PST", utc(2026, 3, 3, 18), id="pst"),
        pytest.param("Tue, 03 Mar 2026 10:00:00 PDT", utc(2026, 3, 3, 17), id="pdt"),
        pytest.param("Tue, 03 Mar 2026 10:00:00 JST", utc(2026, 3, 3, 1), id="jst"),
        pytest.param("Tue, 03 Mar 2026 10:00:00 ACST", utc(2026, 3, 3, 0, 30), id="half-hour-name"),
        pytest.param("Tue, 03 Mar 2026 10:00:00 IST", utc(2026, 3, 3, 10), id="ambiguous-ist-is-utc"),
        pytest.param("Tue, 03 Mar 2026 10:00:00 BST", utc(2026, 3, 3, 9), id="bst-is-british-summer-time"),
        pytest.param("3 March 2026 09:30 XYZT", utc(2026, 3, 3, 9, 30), id="unknown-name-is-utc"),
        pytest.param("Tue, 03 Mar 2026 10:00 GMT+2", utc(2026, 3, 3, 8), id="gmt-plus-means-ahead"),
        pytest.param(
            "Tue, 03 Mar 2026 10:00 UTC-05:30", utc(2026, 3, 3, 15, 30), id="utc-minus-means-behind"
        ),
        pytest.param("Tue, 03 Mar 2026 10:00:00 +0100", utc(2026, 3, 3, 9), id="rfc822-offset"),
        pytest.param("Tue, 03 Mar 2026 10:00:00 -0430", utc(2026, 3, 3, 14, 30), id="rfc822-negative-offset"),
        pytest.param("Tue, 03 Mar 2026 10:00:00 +01:00", utc(2026, 3, 3, 9), id="rfc822-offset-with-colon"),
        pytest.param("2026-03-03T10:00:00+05:45", utc(2026, 3, 3, 4, 15), id="iso-offset"),
        pytest.param("2026-03-03T10:00:00-00:00", utc(2026, 3, 3, 10), id="iso-unknown-local-offset"),
        pytest.param("2026-03-03T10:00:00 +0100", utc(2026, 3, 3, 9), id="iso-space-before-offset"),
        pytest.param("2026-03-03 10:00:00 CEST", utc(2026, 3, 3, 8), id="iso-with-zone-name"),
    ],
)
def test_zone_names_and_offsets_follow_one_table(raw: str, expected: datetime) -> None:
    assert parse_date(raw, now=NOW) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param("Tue, 03 Mar 2026 10:00:00 GMT", utc(2026, 3, 3, 10), id="with-day-name"),
        pytest.param("03 Mar 2026 10:00:00 GMT", utc(2026, 3, 3, 10), id="without-day-name"),
        pytest.param("Tuesday, 3 March 2026 10:00 GMT", utc(2026, 3, 3, 10), id="full-names-no-seconds"),
        pytest.param("Fri, 03 Mar 2026 10:00:00 GMT", utc(2026, 3, 3, 10), id="wrong-day-name-is-ignored"),
        pytest.param("Tue, 3 Mar 2026 10:00:00 GMT", utc(2026, 3, 3, 10), id="one-digit-day"),
        pytest.param("03 Mar 26 10:00 GMT", utc(2026, 3, 3, 10), id="two-digit-year"),
        pytest.param("03 Mar 126 10:00 GMT", utc(2026, 3, 3, 10), id="three-digit-year-from-1900"),
        pytest.param("Tue, 03 Mar 2026", utc(2026, 3, 3), id="date-without-time"),
    ],
)
def test_rfc822_dates(raw: str, expected: datetime) -> None:
    assert parse_date(raw, now=NOW) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param("03 Mar 00 10:00 GMT", utc(2000, 3, 3, 10), id="00-is-2000"),
        pytest.param("03 Mar 26 10:00 GMT", utc(2026, 3, 3, 10), id="26-is-2026"),
        pytest.param("03 Mar 49 10:00 GMT", utc(2049, 3, 3, 10), id="49-is-2049"),
        pytest.param("03 Mar 50 10:00 GMT", None, id="50-is-1950-too-early"),
        pytest.param("03 Mar 89 10:00 GMT", None, id="89-is-1989-too-early"),
        pytest.param("03 Mar 90 10:00 GMT", utc(1990, 3, 3, 10), id="90-is-1990"),
        pytest.param("03 Mar 99 10:00 GMT", utc(1999, 3, 3, 10), id="99-is-1999"),
        pytest.param("3/3/26", utc(2026, 3, 3), id="numeric-two-digit-year"),
    ],
)
def test_two_digit_years_follow_rfc5322_whatever_the_year_now(raw: str, expected: datetime | None) -> None:
    assert parse_date(raw, now=datetime(2049, 12, 31, tzinfo=UTC)) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param("2026-03-03T09:30:00Z", utc(2026, 3, 3, 9, 30), id="rfc3339-z"),
        pytest.param("2026-03-03T09:30:00.25+01:00", utc(2026, 3, 3, 8, 30, 0, 250000), id="fraction"),
        pytest.param("2026-03-03T09:30", utc(2026, 3, 3, 9, 30), id="no-zone-is-utc"),
        pytest.param("2026-03-03 09:30", utc(2026, 3, 3, 9, 30), id="space-separator"),
        pytest.param("2026-03-03", utc(2026, 3, 3), id="date-only-is-midnight-utc"),
        pytest.param("20260303T093000Z", utc(2026, 3, 3, 9, 30), id="basic-format"),
        pytest.param("2026-W10-2", utc(2026, 3, 3), id="week-date"),
        pytest.param("2026W102T09:30Z", utc(2026, 3, 3, 9, 30), id="week-date-basic-with-time"),
        pytest.param("2026-062", utc(2026, 3, 3), id="ordinal-date"),
        pytest.param("2026062", utc(2026, 3, 3), id="ordinal-date-basic"),
        pytest.param("2026-03-03T23:59:60Z", utc(2026, 3, 3, 23, 59, 59), id="leap-second"),
        pytest.param("2026-03-03T24:00:00Z", utc(2026, 3, 4), id="end-of-day"),
        pytest.param("  2026-03-03T09:30:00Z\n", utc(2026, 3, 3, 9, 30), id="surrounding-whitespace"),
        pytest.param("2026", None, id="year-only"),
        pytest.param("2026-03", None, id="month-only"),
        pytest.param("2026-W10", None, id="week-without-day"),
    ],
)
def test_iso8601_dates_need_a_day(raw: str, expected: datetime | None) -> None:
    assert parse_date(raw, now=NOW) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param("March 3, 2026 9:30 AM EST", utc(2026, 3, 3, 14, 30), id="us-style"),
        pytest.param("3 March 2026 09:30 CET", utc(2026, 3, 3, 8, 30), id="european-style"),
        pytest.param("Tuesday, March 3, 2026", utc(2026, 3, 3), id="day-name-no-time"),
        pytest.param("March 2026", None, id="no-day"),
        pytest.param("3 March", None, id="no-year"),
        pytest.param("10:00", None, id="time-only"),
        pytest.param("yesterday", None, id="words"),
        pytest.param("1764496800", None, id="unix-timestamp"),
    ],
)
def test_free_form_dates_must_name_day_month_and_year(raw: str, expected: datetime | None) -> None:
    assert parse_date(raw, now=NOW) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param("1990-01-01T00:00:00Z", EARLIEST, id="earliest"),
        pytest.param("1989-12-31T23:59:59Z", None, id="before-1990"),
        pytest.param("1990-01-01T00:30:00+01:00", None, id="before-1990-in-utc"),
        pytest.param("1970-01-01T00:00:00Z", None, id="zero-timestamp"),
        pytest.param("0001-01-01", None, id="year-one"),
        pytest.param("0001-01-01T00:00:00+01:00", None, id="year-one-with-offset"),
        pytest.param("9999-12-31T23:59:59-01:00", None, id="year-9999-with-offset"),
        pytest.param("2026-12-02T12:00:00Z", NOW + FUTURE_SLACK, id="latest"),
        pytest.param("2026-12-02T12:00:01Z", None, id="past-latest"),
        pytest.param("2030-01-01", None, id="far-future"),
    ],
)
def test_only_plausible_publication_dates_are_kept(raw: str, expected: datetime | None) -> None:
    assert parse_date(raw, now=NOW) == expected


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param("", id="empty"),
        pytest.param("   ", id="blank"),
        pytest.param(None, id="none"),
        pytest.param(20260303, id="number"),
        pytest.param(["2026-03-03"], id="list"),
        pytest.param("2026-03-03T10:00:00+99:00", id="impossible-offset"),
        pytest.param("2026-02-30", id="impossible-day"),
    ],
)
def test_what_is_not_a_date_string_gives_none(raw: object) -> None:
    assert parse_date(raw, now=NOW) is None


def test_the_range_follows_the_clock_when_no_now_is_given() -> None:
    assert parse_date("2020-01-01T00:00:00Z") == utc(2020, 1, 1)
    assert parse_date("2999-01-01T00:00:00Z") is None
