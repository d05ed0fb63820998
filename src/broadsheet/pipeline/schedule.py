"""When to poll a source next: adaptive intervals, pure arithmetic.

A source that keeps yielding new articles is polled more often, a quiet one less, a failing one backs off.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from broadsheet.config import Settings

__all__ = ["next_poll"]


def next_poll(
    settings: Settings,
    *,
    now: datetime,
    interval: int,
    new_articles: int,
    failed: bool,
    error_count: int = 0,
    retry_after: float | None = None,
) -> tuple[int, datetime]:
    """The source's new interval (seconds) and when it is next due.

    New articles halve the interval, an unchanged feed stretches it by half, errors back off exponentially
    from the default (error_count is the number of failures in a row before this one). A server's
    Retry-After is always honoured.
    """
    low, high = settings.min_poll_interval, settings.max_poll_interval
    if failed:
        wait = min(high, settings.default_poll_interval * 2 ** min(error_count, 16))
        new_interval = interval
    else:
        new_interval = interval // 2 if new_articles else int(interval * 1.5)
        new_interval = max(low, min(high, new_interval))
        wait = new_interval
    if retry_after is not None:
        wait = max(wait, int(retry_after))
    return new_interval, now + timedelta(seconds=wait)
