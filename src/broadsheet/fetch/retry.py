"""Retry timing: exponential backoff with full jitter and parsing of the Retry-After header.

Pure functions with injectable clock and randomness; the retry loop itself lives in `client.py`.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

__all__ = ["MAX_BACKOFF", "backoff_delay", "parse_retry_after"]

#: No single backoff sleeps longer than this, however many attempts came before.
MAX_BACKOFF = 60.0


def backoff_delay(attempt: int, base: float, *, rand: Callable[[], float] = random.random) -> float:
    """Seconds to wait before retry number `attempt` (0 for the first): uniform in [0, base * 2**attempt].

    Full jitter (rather than a fixed schedule) keeps many workers that failed together from retrying together.
    """
    ceiling = min(MAX_BACKOFF, base * 2.0 ** min(attempt, 32))
    return rand() * ceiling


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds the server asks us to wait, from delta-seconds or an HTTP date; None when absent or unreadable.

    A date in the past means "now" (0.0). Unreadable values are ignored rather than raised: the header is
    advice, and the status code alone already says the request failed.
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # RFC 9110 dates are GMT; a zone-less one is read the same way
        when = when.replace(tzinfo=UTC)
    current = now or datetime.now(UTC)
    return max(0.0, (when - current).total_seconds())
