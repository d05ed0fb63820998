"""Pure timing rules: full-jitter backoff and Retry-After parsing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from broadsheet.fetch.retry import MAX_BACKOFF, backoff_delay, parse_retry_after

NOW = datetime(2024, 10, 1, 10, 0, 0, tzinfo=UTC)


def test_backoff_grows_exponentially_with_full_jitter() -> None:
    assert [backoff_delay(n, 1.0, rand=lambda: 1.0) for n in range(4)] == [1.0, 2.0, 4.0, 8.0]
    assert backoff_delay(3, 1.0, rand=lambda: 0.0) == 0.0
    assert backoff_delay(2, 0.5, rand=lambda: 0.5) == 1.0


def test_backoff_is_capped() -> None:
    assert backoff_delay(100, 1.0, rand=lambda: 1.0) == MAX_BACKOFF


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("0", 0.0),
        ("120", 120.0),
        (" 7 ", 7.0),
        ("Tue, 01 Oct 2024 10:01:30 GMT", 90.0),
        ("Tue, 01 Oct 2024 09:00:00 GMT", 0.0),  # a date in the past: retry now
        (None, None),
        ("", None),
        ("soon", None),
        ("-5", None),
    ],
)
def test_retry_after_accepts_seconds_and_http_dates(value: str | None, seconds: float | None) -> None:
    assert parse_retry_after(value, now=NOW) == seconds
