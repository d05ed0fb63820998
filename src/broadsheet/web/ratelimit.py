"""A per-client rate limit for work that costs the server real effort on every request (questions about a
story): a token bucket per client address, in memory, per server process.

Owns the counting only; the route answers 429 with Retry-After when `wait` says so.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

__all__ = ["RateLimit"]

MAX_TRACKED = 10_000  # client addresses remembered; the least recently seen are forgotten first


class RateLimit:
    """`per_minute` requests a minute for each client, in bursts of up to `burst`."""

    def __init__(self, per_minute: float, burst: int, clock: Callable[[], float] = time.monotonic) -> None:
        if per_minute <= 0 or burst < 1:
            raise ValueError("a rate limit needs a positive rate and a burst of at least 1")
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self.clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # key -> (tokens, at)

    def wait(self, key: str) -> float:
        """0 when `key` may go ahead now (and its turn is counted), else the seconds until it may."""
        now = self.clock()
        tokens, at = self._buckets.pop(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - at) * self.rate)
        if tokens >= 1.0:
            self._buckets[key] = (tokens - 1.0, now)
            wait = 0.0
        else:
            self._buckets[key] = (tokens, now)
            wait = (1.0 - tokens) / self.rate
        while len(self._buckets) > MAX_TRACKED:
            self._buckets.popitem(last=False)
        return wait
