"""Politeness limits: requests in flight overall, per host, and the minimum spacing of starts to one host.

Pure asyncio (FIFO semaphores and locks, no polling); it knows host keys, not URLs or HTTP.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

__all__ = ["HostLimiter"]


@dataclass(eq=False)
class _Host:
    connections: asyncio.Semaphore
    gate: asyncio.Lock = field(default_factory=asyncio.Lock)
    last_start: float = float("-inf")
    users: int = 0


class HostLimiter:
    """Request slots: at most `total` at once, `per_host` per host, starts `delay` s apart per host."""

    def __init__(
        self, total: int, per_host: int, delay: float, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._total = asyncio.Semaphore(total)
        self._per_host = per_host
        self._delay = delay
        self._clock = clock
        self._hosts: dict[str, _Host] = {}

    @asynccontextmanager
    async def slot(self, key: str) -> AsyncIterator[None]:
        """Hold a slot for one request to host `key` (e.g. "example.com:443") for the body of the block."""
        host = self._hosts.get(key)
        if host is None:
            host = self._hosts[key] = _Host(asyncio.Semaphore(self._per_host))
        host.users += 1
        holding_total = False
        try:
            async with host.connections:
                # The gate makes starts to one host strictly sequential. The global slot is taken only after
                # the spacing wait, so a request sleeping for politeness never blocks other hosts.
                async with host.gate:
                    wait = host.last_start + self._delay - self._clock()
                    if wait > 0:
                        await asyncio.sleep(wait)
                    await self._total.acquire()
                    holding_total = True
                    host.last_start = self._clock()
                yield
        finally:
            if holding_total:
                self._total.release()
            host.users -= 1
            # Forget idle hosts once their spacing has passed, so memory follows the hosts in use.
            if host.users == 0 and self._clock() - host.last_start >= self._delay:
                self._hosts.pop(key, None)

    def active_hosts(self) -> int:
        """Hosts with a request waiting, in flight, or still inside their spacing window."""
        return len(self._hosts)
